import { open, type Database, type RootDatabase } from 'lmdb';
import { assert } from '../../util/assert.js';
import type { DurableKey, DurableOp, DurableStore, RangeOptions } from '../ports/storage.js';

export interface LmdbStoreOptions {
  /** The LMDB environment directory (created if missing). One environment per data dir. */
  readonly path: string;
  /** Upper bound on namespaces (LMDB named databases). Default 64. */
  readonly maxNamespaces?: number;
}

type Db = Database<Buffer, DurableKey>;

/**
 * DurableStore on LMDB. Each namespace is an LMDB named database in one environment, so a batch
 * touching several namespaces is still one LMDB transaction (atomic). Keys use lmdb's
 * ordered-binary encoding: numbers sort numerically and before strings, strings bytewise (UTF-8).
 *
 * Durability: write() commits a synchronous transaction, visible at once. With overlappingSync
 * (the Linux default) that commit is NOT yet on disk; flush() awaits the environment's `flushed`,
 * which resolves once every earlier commit has been fsynced. A crash before then may lose the
 * batch, never half of it (LMDB commits are atomic and copy-on-write).
 */
export class LmdbDurableStore implements DurableStore {
  private readonly env: RootDatabase;
  private readonly dbs = new Map<string, Db>();
  private isClosed = false;

  constructor(options: LmdbStoreOptions) {
    this.env = open({ path: options.path, maxDbs: options.maxNamespaces ?? 64, compression: false });
  }

  private db(ns: string): Db {
    assert(!this.isClosed, 'store: used after close');
    let db = this.dbs.get(ns);
    if (db === undefined) {
      assert(ns.length > 0, 'store: empty namespace');
      db = this.env.openDB<Buffer, DurableKey>({ name: ns, encoding: 'binary', compression: false });
      this.dbs.set(ns, db);
    }
    return db;
  }

  get(ns: string, key: DurableKey): Uint8Array | undefined {
    checkKey(key);
    const v = this.db(ns).get(key);
    return v === undefined ? undefined : copy(v);
  }

  range(ns: string, options: RangeOptions = {}): Array<{ key: DurableKey; value: Uint8Array }> {
    if (options.start !== undefined) checkKey(options.start);
    if (options.end !== undefined) checkKey(options.end);
    // lmdb iterates from `start` toward `end`; in reverse our exclusive upper bound is where it starts.
    const q = options.reverse
      ? { start: options.end, end: options.start, reverse: true, exclusiveStart: true, inclusiveEnd: true }
      : { start: options.start, end: options.end };
    const out: Array<{ key: DurableKey; value: Uint8Array }> = [];
    for (const { key, value } of this.db(ns).getRange({ ...q, limit: options.limit })) {
      out.push({ key, value: copy(value) });
    }
    return out;
  }

  write(ops: readonly DurableOp[]): void {
    for (const o of ops) checkOp(o);
    this.env.transactionSync(() => {
      for (const o of ops) {
        const db = this.db(o.ns);
        switch (o.op) {
          case 'put':
            db.putSync(o.key, Buffer.from(o.value));
            break;
          case 'del':
            db.removeSync(o.key);
            break;
          case 'delRange':
            for (const k of [...db.getKeys({ start: o.from, end: o.to })]) db.removeSync(k);
            break;
        }
      }
    });
  }

  async flush(): Promise<void> {
    assert(!this.isClosed, 'store: flush after close');
    await this.env.flushed;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.env.close();
  }
}

function checkKey(key: DurableKey): void {
  assert(typeof key === 'string' ? key.length > 0 : Number.isFinite(key), `store: bad key ${String(key)}`);
}

function checkOp(o: DurableOp): void {
  assert(o.ns.length > 0, 'store: empty namespace');
  if (o.op === 'delRange') {
    checkKey(o.from);
    if (o.to !== undefined) checkKey(o.to);
  } else checkKey(o.key);
}

/** Values leave the store as plain Uint8Arrays of their own (lmdb may hand out shared buffers). */
function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}
