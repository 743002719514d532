import type { DurableOp, DurableStore } from '../../runtime/ports/storage.js';
import { assert } from '../../util/assert.js';
import type { Entry, EntryType } from '../core/types.js';
import { packr, toBytes } from './codec.js';

const ENTRY_TYPES: readonly EntryType[] = ['normal', 'confChange', 'noop'];

/**
 * The Raft log (hashicorp LogStore) on a DurableStore namespace, one key per index. Writes are
 * visible at once and durable after `sync()`; the driver batches a whole Ready into one write and
 * one sync (group commit). The retained log is also cached in memory: the core reads terms and
 * entries synchronously on every message, and the cache is bounded by compaction.
 */
export interface LogStore {
  /** First stored index; lastIndex()+1 when the log is empty. */
  firstIndex(): number;
  /** Last stored index; 0 (or the compaction point) when empty. */
  lastIndex(): number;
  getLog(index: number): Entry | undefined;
  /** Entries [lo, hi). */
  getLogs(lo: number, hi: number): Entry[];
  /** Append contiguous entries; an entry at index i replaces every stored entry >= i. */
  storeLogs(entries: readonly Entry[]): void;
  /** Term of the entry just before firstIndex() (0 when nothing was compacted). */
  prevTerm(): number;
  /** Drop every entry <= index, whose term is `term` (compaction after a snapshot). */
  compactTo(index: number, term: number): void;
  /** Drop the whole log and restart it after `index` of `term` (a snapshot replaced it). */
  resetTo(index: number, term: number): void;
  sync(): Promise<void>;
}

export class DurableLogStore implements LogStore {
  private first = 1;
  private baseTerm = 0;
  private readonly cache: Entry[] = [];

  constructor(
    private readonly store: DurableStore,
    private readonly ns = 'raft.log',
  ) {
    // Where the log restarts after compaction; entries, if any, must begin right after it.
    const base = store.get(`${ns}.meta`, 'base');
    if (base) {
      const b = packr.unpack(base) as { first?: unknown; term?: unknown };
      assert(Number.isSafeInteger(b.first) && Number.isSafeInteger(b.term), `raft log: corrupt base record in ${ns}`);
      this.first = b.first as number;
      this.baseTerm = b.term as number;
    }
    const rows = store.range(ns);
    for (const { key, value } of rows) {
      const e = decodeEntry(key, value);
      assert(e, `raft log: corrupt entry at ${String(key)} in ${ns}`);
      assert(e.index === this.first + this.cache.length, `raft log: gap at index ${e.index} in ${ns}`);
      this.cache.push(e);
    }
  }

  firstIndex(): number {
    return this.first;
  }

  lastIndex(): number {
    return this.first + this.cache.length - 1;
  }

  getLog(index: number): Entry | undefined {
    return this.cache[index - this.first];
  }

  getLogs(lo: number, hi: number): Entry[] {
    assert(lo >= this.first && hi <= this.lastIndex() + 1 && lo <= hi, `raft log: range [${lo}, ${hi}) outside [${this.first}, ${this.lastIndex() + 1})`);
    return this.cache.slice(lo - this.first, hi - this.first);
  }

  storeLogs(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const start = entries[0]!.index;
    assert(start >= this.first && start <= this.lastIndex() + 1, `raft log: append at ${start} leaves a gap after ${this.lastIndex()}`);
    const ops: DurableOp[] = [];
    if (start <= this.lastIndex()) {
      ops.push({ op: 'delRange', ns: this.ns, from: start });
      this.cache.length = start - this.first;
    }
    for (const e of entries) {
      assert(e.index === this.first + this.cache.length, 'raft log: entries not contiguous');
      ops.push({ op: 'put', ns: this.ns, key: e.index, value: packr.pack({ t: e.term, y: e.type, d: e.data }) });
      this.cache.push(e);
    }
    this.store.write(ops);
  }

  prevTerm(): number {
    return this.baseTerm;
  }

  compactTo(index: number, term: number): void {
    if (index < this.first) return;
    assert(index <= this.lastIndex(), `raft log: compaction to ${index} past the last index ${this.lastIndex()}`);
    this.cache.splice(0, index - this.first + 1);
    this.setBase(index, term, { op: 'delRange', ns: this.ns, from: 0, to: index + 1 });
  }

  resetTo(index: number, term: number): void {
    this.cache.length = 0;
    this.setBase(index, term, { op: 'delRange', ns: this.ns, from: 0 });
  }

  private setBase(index: number, term: number, del: DurableOp): void {
    this.first = index + 1;
    this.baseTerm = term;
    this.store.write([del, { op: 'put', ns: `${this.ns}.meta`, key: 'base', value: packr.pack({ first: this.first, term }) }]);
  }

  sync(): Promise<void> {
    return this.store.flush();
  }
}

function decodeEntry(key: unknown, value: Uint8Array): Entry | undefined {
  if (typeof key !== 'number') return undefined;
  let v: unknown;
  try {
    v = packr.unpack(value);
  } catch {
    return undefined;
  }
  const o = v as { t?: unknown; y?: unknown; d?: unknown } | null;
  const data = toBytes(o?.d);
  if (!o || typeof o.t !== 'number' || !ENTRY_TYPES.includes(o.y as EntryType) || !data) return undefined;
  return { index: key, term: o.t, type: o.y as EntryType, data };
}
