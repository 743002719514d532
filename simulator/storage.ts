import type { Random } from '../src/runtime/ports/random.js';
import type { BlobStore, DurableKey, DurableOp, DurableStore, RangeOptions } from '../src/runtime/ports/storage.js';
import { assert, unreachable } from '../src/util/assert.js';
import type { Domain } from './scheduler.js';
import type { World } from './world.js';

export interface DiskOptions {
  /** Fixed part of a flush (fsync) or blob write. */
  readonly syncMs: number;
  /** Mean of the exponential part added to it. */
  readonly syncJitterMs: number;
}

export const DEFAULT_DISK_OPTIONS: DiskOptions = { syncMs: 1, syncJitterMs: 1 };

/**
 * A node's disk. It outlives the node's incarnations: a crash keeps what completed flushes made
 * durable, plus a random prefix of the unflushed batches (each batch atomic, as LMDB commits are),
 * and forgets the rest. Blob writes are atomic and land only when they complete.
 */
export class SimDisk {
  private durable = new Namespaces();
  private visible = new Namespaces();
  /** Batches written but not yet durable, oldest first, with their sequence numbers. */
  private pending: Array<{ readonly seq: number; readonly ops: readonly DurableOp[] }> = [];
  private written = 0;
  private lastSyncDone = 0;
  private readonly blobs = new Map<string, Uint8Array>();

  constructor(
    private readonly world: World,
    readonly node: string,
    private readonly random: Random,
    private readonly options: DiskOptions = DEFAULT_DISK_OPTIONS,
  ) {}

  /** The DurableStore of one incarnation; once that incarnation is dead it writes nothing. */
  store(domain: Domain): DurableStore {
    return new SimDurableStore(this, domain);
  }

  blobStore(domain: Domain): BlobStore {
    return new SimBlobStore(this, domain);
  }

  get(ns: string, key: DurableKey): Uint8Array | undefined {
    return this.visible.get(ns, key)?.slice();
  }

  range(ns: string, options: RangeOptions = {}): Array<{ key: DurableKey; value: Uint8Array }> {
    return this.visible.range(ns, options);
  }

  write(ops: readonly DurableOp[]): void {
    for (const o of ops) {
      assert(validKey(o.op === 'delRange' ? o.from : o.key), `store: bad key ${JSON.stringify(o)} (finite number or non-empty string)`);
    }
    const copy = ops.map((o) => (o.op === 'put' ? { ...o, value: o.value.slice() } : o));
    for (const o of copy) this.visible.apply(o);
    this.pending.push({ seq: ++this.written, ops: copy });
  }

  /** Resolve once every batch written so far is durable (syncs complete in order). */
  flush(domain: Domain): Promise<void> {
    const upTo = this.written;
    const done = Math.max(this.lastSyncDone, this.world.scheduler.now) + this.syncTime();
    this.lastSyncDone = done;
    return new Promise((resolve) => {
      this.world.scheduler.at(done, domain, () => {
        this.makeDurable(upTo);
        resolve();
      });
    });
  }

  /** The machine lost power: keep a random prefix of the unflushed batches, forget the rest. */
  crash(): void {
    const kept = this.random.int(0, this.pending.length + 1);
    this.world.trace.record('disk.crash', this.node, `kept=${kept}`, `lost=${this.pending.length - kept}`);
    const survivor = this.pending[kept - 1];
    if (survivor) this.makeDurable(survivor.seq);
    this.pending = [];
    this.visible = this.durable.clone();
    this.lastSyncDone = 0;
  }

  /** Number of batches written and not yet durable (for tests and summaries). */
  get unflushedBatches(): number {
    return this.pending.length;
  }

  writeBlob(domain: Domain, name: string, data: Uint8Array): Promise<void> {
    const copy = data.slice();
    return new Promise((resolve) => {
      // The rename happens at the end: a crash before it leaves the old blob.
      this.world.scheduler.schedule(this.syncTime(), domain, () => {
        this.blobs.set(name, copy);
        this.world.trace.record('disk.blob', this.node, name, copy.length);
        resolve();
      });
    });
  }

  readBlob(name: string): Uint8Array | undefined {
    return this.blobs.get(name)?.slice();
  }

  listBlobs(): string[] {
    return [...this.blobs.keys()].sort();
  }

  removeBlob(domain: Domain, name: string): Promise<void> {
    return new Promise((resolve) => {
      this.world.scheduler.schedule(this.syncTime(), domain, () => {
        this.blobs.delete(name);
        resolve();
      });
    });
  }

  private makeDurable(upTo: number): void {
    while (this.pending.length > 0 && (this.pending[0]?.seq ?? Infinity) <= upTo) {
      const batch = this.pending.shift();
      assert(batch, 'disk: pending batch vanished');
      for (const o of batch.ops) this.durable.apply(o);
    }
  }

  private syncTime(): number {
    const { syncMs, syncJitterMs } = this.options;
    return syncMs + (syncJitterMs > 0 ? -Math.log(1 - this.random.float()) * syncJitterMs : 0);
  }
}

class SimDurableStore implements DurableStore {
  constructor(
    private readonly disk: SimDisk,
    private readonly domain: Domain,
  ) {}

  get(ns: string, key: DurableKey): Uint8Array | undefined {
    return this.disk.get(ns, key);
  }

  range(ns: string, options?: RangeOptions): Array<{ key: DurableKey; value: Uint8Array }> {
    return this.disk.range(ns, options);
  }

  write(ops: readonly DurableOp[]): void {
    // A discarded incarnation finishing its microtasks must not touch the disk.
    if (this.domain.alive) this.disk.write(ops);
  }

  flush(): Promise<void> {
    if (!this.domain.alive) return new Promise(() => undefined);
    return this.disk.flush(this.domain);
  }

  /** A clean close is durable, as closing LMDB is. */
  close(): Promise<void> {
    return this.flush();
  }
}

class SimBlobStore implements BlobStore {
  constructor(
    private readonly disk: SimDisk,
    private readonly domain: Domain,
  ) {}

  write(name: string, data: Uint8Array): Promise<void> {
    if (!validBlobName(name)) return Promise.reject(new Error(`blob store: bad blob name ${JSON.stringify(name)}`));
    if (!this.domain.alive) return new Promise(() => undefined);
    return this.disk.writeBlob(this.domain, name, data);
  }

  read(name: string): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.disk.readBlob(name));
  }

  list(): Promise<string[]> {
    return Promise.resolve(this.disk.listBlobs());
  }

  remove(name: string): Promise<void> {
    if (!this.domain.alive) return new Promise(() => undefined);
    return this.disk.removeBlob(this.domain, name);
  }
}

/** A plain file name, as the file-backed store needs: not empty, '.', '..', nor with '/' or NUL. */
function validBlobName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function validKey(key: DurableKey): boolean {
  return typeof key === 'number' ? Number.isFinite(key) : typeof key === 'string' && key.length > 0;
}

/** Keys in store order: numbers numerically, before strings; strings by code point (= UTF-8 bytes). */
export function compareKeys(a: DurableKey, b: DurableKey): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i) as number;
    const cb = b.codePointAt(i) as number;
    if (ca !== cb) return ca - cb;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

/** One namespace: a sorted key array beside a Map (appends at the end, as logs do, are cheap). */
class OrderedMap {
  keys: DurableKey[] = [];
  values = new Map<DurableKey, Uint8Array>();

  put(key: DurableKey, value: Uint8Array): void {
    if (!this.values.has(key)) {
      const i = this.lowerBound(key);
      if (i === this.keys.length) this.keys.push(key);
      else this.keys.splice(i, 0, key);
    }
    this.values.set(key, value);
  }

  del(key: DurableKey): void {
    if (!this.values.delete(key)) return;
    this.keys.splice(this.lowerBound(key), 1);
  }

  delRange(from: DurableKey, to: DurableKey | undefined): void {
    const lo = this.lowerBound(from);
    const hi = to === undefined ? this.keys.length : this.lowerBound(to);
    if (hi <= lo) return;
    for (const k of this.keys.splice(lo, hi - lo)) this.values.delete(k);
  }

  /** First index whose key is >= key. */
  lowerBound(key: DurableKey): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(this.keys[mid] as DurableKey, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  clone(): OrderedMap {
    const m = new OrderedMap();
    m.keys = [...this.keys];
    m.values = new Map(this.values);
    return m;
  }
}

class Namespaces {
  private readonly spaces = new Map<string, OrderedMap>();

  get(ns: string, key: DurableKey): Uint8Array | undefined {
    return this.spaces.get(ns)?.values.get(key);
  }

  /** Keys in [start, end), ascending or (reverse) descending, at most limit of them. */
  range(ns: string, options: RangeOptions): Array<{ key: DurableKey; value: Uint8Array }> {
    const m = this.spaces.get(ns);
    if (!m) return [];
    const lo = options.start === undefined ? 0 : m.lowerBound(options.start);
    const hi = options.end === undefined ? m.keys.length : m.lowerBound(options.end);
    const limit = options.limit ?? Infinity;
    const out: Array<{ key: DurableKey; value: Uint8Array }> = [];
    const take = (i: number): void => {
      const key = m.keys[i] as DurableKey;
      out.push({ key, value: (m.values.get(key) as Uint8Array).slice() });
    };
    if (options.reverse) for (let i = hi - 1; i >= lo && out.length < limit; i--) take(i);
    else for (let i = lo; i < hi && out.length < limit; i++) take(i);
    return out;
  }

  apply(o: DurableOp): void {
    switch (o.op) {
      case 'put':
        this.space(o.ns).put(o.key, o.value);
        return;
      case 'del':
        this.spaces.get(o.ns)?.del(o.key);
        return;
      case 'delRange':
        this.spaces.get(o.ns)?.delRange(o.from, o.to);
        return;
      default:
        unreachable(o, 'durable op');
    }
  }

  clone(): Namespaces {
    const c = new Namespaces();
    for (const [ns, m] of this.spaces) c.spaces.set(ns, m.clone());
    return c;
  }

  private space(ns: string): OrderedMap {
    let m = this.spaces.get(ns);
    if (!m) {
      m = new OrderedMap();
      this.spaces.set(ns, m);
    }
    return m;
  }
}
