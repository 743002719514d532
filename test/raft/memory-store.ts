import type { BlobStore, DurableKey, DurableOp, DurableStore, RangeOptions } from '../../src/runtime/ports/storage.js';

function compareKeys(a: DurableKey, b: DurableKey): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

type Table = Map<string, Map<DurableKey, Uint8Array>>;

function cloneTable(t: Table): Table {
  return new Map([...t].map(([ns, m]) => [ns, new Map(m)]));
}

/**
 * An in-memory DurableStore for unit tests that models crashes: `crash()` throws away every write
 * not covered by a completed flush(), as a power loss would. Deterministic: flush resolves on the
 * next microtask.
 */
export class MemoryDurableStore implements DurableStore {
  private live: Table = new Map();
  private durable: Table = new Map();
  flushes = 0;

  get(ns: string, key: DurableKey): Uint8Array | undefined {
    const v = this.live.get(ns)?.get(key);
    return v && new Uint8Array(v);
  }

  range(ns: string, o: RangeOptions = {}): Array<{ key: DurableKey; value: Uint8Array }> {
    const m = this.live.get(ns);
    if (!m) return [];
    let keys = [...m.keys()].sort(compareKeys);
    keys = keys.filter((k) => (o.start === undefined || compareKeys(k, o.start) >= 0) && (o.end === undefined || compareKeys(k, o.end) < 0));
    if (o.reverse) keys.reverse();
    if (o.limit !== undefined) keys = keys.slice(0, o.limit);
    return keys.map((key) => ({ key, value: new Uint8Array(m.get(key)!) }));
  }

  write(ops: readonly DurableOp[]): void {
    for (const op of ops) {
      let m = this.live.get(op.ns);
      if (!m) this.live.set(op.ns, (m = new Map()));
      if (op.op === 'put') m.set(op.key, new Uint8Array(op.value));
      else if (op.op === 'del') m.delete(op.key);
      else for (const k of [...m.keys()]) if (compareKeys(k, op.from) >= 0 && (op.to === undefined || compareKeys(k, op.to) < 0)) m.delete(k);
    }
  }

  flush(): Promise<void> {
    const snapshot = cloneTable(this.live);
    return Promise.resolve().then(() => {
      this.durable = snapshot;
      this.flushes++;
    });
  }

  /** Lose everything not flushed. */
  crash(): void {
    this.live = cloneTable(this.durable);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** In-memory BlobStore: writes are atomic and durable at once (as the port promises). */
export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>();

  write(name: string, data: Uint8Array): Promise<void> {
    this.blobs.set(name, new Uint8Array(data));
    return Promise.resolve();
  }

  read(name: string): Promise<Uint8Array | undefined> {
    const v = this.blobs.get(name);
    return Promise.resolve(v && new Uint8Array(v));
  }

  list(): Promise<string[]> {
    return Promise.resolve([...this.blobs.keys()].sort());
  }

  remove(name: string): Promise<void> {
    this.blobs.delete(name);
    return Promise.resolve();
  }

  /** Corrupt a blob in place (tests of torn or damaged snapshots). */
  corrupt(name: string): void {
    const v = this.blobs.get(name);
    if (v && v.length > 0) v[v.length - 1]! ^= 0xff;
  }
}
