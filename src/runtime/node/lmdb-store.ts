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

/** lmdb's RootDatabase.sync(callback) (mdb_env_sync on a libuv worker), missing from its typings. */
interface SyncableEnv {
  sync(callback: (error?: Error) => void): void;
}

/** A write not yet committed by lmdb's writer thread: its value (undefined: deleted) and batch. */
interface Pending {
  readonly value: Uint8Array | undefined;
  readonly seq: number;
}

/**
 * DurableStore on LMDB. Each namespace is an LMDB named database in one environment, so a batch
 * touching several namespaces is still one LMDB transaction (atomic). Keys use lmdb's
 * ordered-binary encoding: numbers sort numerically and before strings, strings bytewise (UTF-8).
 *
 * No fsync on the event loop. In lmdb 3.5.6 every commit made on the calling thread fsyncs before
 * it returns, whatever its flags (mdb_txn_commit syncs even a MDB_NOSYNC txn under overlappingSync),
 * which cost the Raft loop 40 % of its time. So write() hands the batch to lmdb's writer thread
 * (`transaction`, one LMDB transaction) and keeps it in an in-memory overlay that reads
 * consult first, until the commit is visible; flush() awaits the commits and then one coalesced
 * `env.sync()` on a libuv worker (mdb_env_sync, which returns at once when the writer thread has
 * synced them already).
 *
 * Crash safety (overlappingSync, lmdb-js's default on Linux; mdb.c): a commit writes its pages and
 * a meta page flagged "not synced", then syncs and writes the "flushed" meta. Pages the last synced
 * meta references are not reused before a newer sync (mdb_find_oldest uses me_synced_txn_id), and
 * an environment opened after a reboot rolls back to the flushed meta (MDB_PREVSNAPSHOT + boot id).
 * So a crash before flush() resolved loses whole batches (the newest ones), never half of one, and
 * never corrupts what an earlier flush() made durable. A process kill loses only the overlay (the
 * batches lmdb had not committed yet), also whole.
 */
export class LmdbDurableStore implements DurableStore {
  private readonly env: RootDatabase;
  private readonly dbs = new Map<string, Db>();
  private readonly overlay = new Map<string, Map<DurableKey, Pending>>();
  private seq = 0;
  private lastCommit: Promise<unknown> = Promise.resolve();
  private failure: Error | undefined;
  private syncing: Promise<void> | undefined;
  private nextSync: Promise<void> | undefined;
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
    const p = this.overlay.get(ns)?.get(key);
    if (p !== undefined) return p.value === undefined ? undefined : copy(p.value);
    const v = this.db(ns).get(key);
    return v === undefined ? undefined : copy(v);
  }

  range(ns: string, options: RangeOptions = {}): Array<{ key: DurableKey; value: Uint8Array }> {
    if (options.start !== undefined) checkKey(options.start);
    if (options.end !== undefined) checkKey(options.end);
    const pending = this.overlay.get(ns);
    if (pending === undefined) return this.committedRange(ns, options);
    // Rare (a read within a commit's few milliseconds): merge the overlay into the whole interval.
    const merged = new Map<DurableKey, Uint8Array>();
    for (const e of this.committedRange(ns, { start: options.start, end: options.end })) merged.set(e.key, e.value);
    for (const [key, p] of pending) {
      if (!inRange(key, options.start, options.end)) continue;
      if (p.value === undefined) merged.delete(key);
      else merged.set(key, copy(p.value));
    }
    const keys = [...merged.keys()].sort(compareKeys);
    if (options.reverse) keys.reverse();
    return keys.slice(0, options.limit).map((key) => ({ key, value: merged.get(key) as Uint8Array }));
  }

  private committedRange(ns: string, options: RangeOptions): Array<{ key: DurableKey; value: Uint8Array }> {
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
    const seq = ++this.seq;
    // Resolved against the view so far (a delRange becomes the keys it deletes), in batch order.
    const concrete: Array<{ ns: string; db: Db; key: DurableKey; value: Uint8Array | undefined }> = [];
    const stage = (ns: string, key: DurableKey, value: Uint8Array | undefined): void => {
      let m = this.overlay.get(ns);
      if (m === undefined) this.overlay.set(ns, (m = new Map()));
      m.set(key, { value, seq });
      concrete.push({ ns, db: this.db(ns), key, value });
    };
    for (const o of ops) {
      if (o.op === 'put') stage(o.ns, o.key, copy(o.value));
      else if (o.op === 'del') stage(o.ns, o.key, undefined);
      else for (const { key } of this.range(o.ns, { start: o.from, end: o.to })) stage(o.ns, key, undefined);
    }
    const committed = this.env.transaction(() => {
      for (const c of concrete) {
        if (c.value === undefined) c.db.removeSync(c.key);
        else c.db.putSync(c.key, Buffer.from(c.value));
      }
    });
    this.lastCommit = committed.then(
      () => this.settle(concrete, seq),
      (e: unknown) => {
        // The disk refused a commit (full, I/O error): every later flush() rejects; nothing is acknowledged.
        this.failure ??= e instanceof Error ? e : new Error(String(e));
      },
    );
  }

  /** A committed batch is visible in lmdb now: drop its overlay entries not overwritten since. */
  private settle(concrete: ReadonlyArray<{ ns: string; key: DurableKey }>, seq: number): void {
    for (const { ns, key } of concrete) {
      const m = this.overlay.get(ns);
      if (m?.get(key)?.seq !== seq) continue;
      m.delete(key);
      if (m.size === 0) this.overlay.delete(ns);
    }
  }

  async flush(): Promise<void> {
    assert(!this.isClosed, 'store: flush after close');
    await this.lastCommit;
    if (this.failure) throw this.failure;
    await this.sync();
  }

  /** At most one env.sync in flight; callers arriving during one wait for the next, which covers their commits. */
  private sync(): Promise<void> {
    if (this.syncing === undefined) {
      const run = new Promise<void>((resolve, reject) => {
        (this.env as unknown as SyncableEnv).sync((e) => (e ? reject(e) : resolve()));
      });
      this.syncing = run.finally(() => (this.syncing = undefined));
      return this.syncing;
    }
    this.nextSync ??= this.syncing.then(
      () => {
        this.nextSync = undefined;
        return this.sync();
      },
      () => {
        this.nextSync = undefined;
        return this.sync();
      },
    );
    return this.nextSync;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    await this.lastCommit;
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

/** lmdb's ordered-binary order: numbers numerically, before strings; strings bytewise (UTF-8). */
function compareKeys(a: DurableKey, b: DurableKey): number {
  if (typeof a === 'number') return typeof b === 'number' ? a - b : -1;
  if (typeof b === 'number') return 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function inRange(key: DurableKey, start: DurableKey | undefined, end: DurableKey | undefined): boolean {
  return (start === undefined || compareKeys(key, start) >= 0) && (end === undefined || compareKeys(key, end) < 0);
}

/** Values leave the store as plain Uint8Arrays of their own (lmdb may hand out shared buffers). */
function copy(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}
