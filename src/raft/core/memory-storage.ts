import { assert } from '../../util/assert.js';
import { check } from './check.js';
import type { ConfState, Entry, HardState, RaftLogStorage, Snapshot } from './types.js';

const EMPTY_SNAPSHOT: Snapshot = { meta: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) };

/**
 * An in-memory RaftLogStorage (etcd's MemoryStorage): the reference for what a durable store must
 * answer, and the store of tests. ents[0] is a dummy holding the index and term just before the
 * first real entry (the compaction point).
 */
export class MemoryStorage implements RaftLogStorage {
  hardState: HardState = { term: 0, vote: '', commit: 0 };
  private snap: Snapshot = EMPTY_SNAPSHOT;
  private ents: Entry[] = [{ index: 0, term: 0, type: 'noop', data: new Uint8Array(0) }];

  initialState(): { hardState: HardState } {
    return { hardState: this.hardState };
  }

  private dummy(): Entry {
    return this.ents[0] as Entry;
  }

  firstIndex(): number {
    return this.dummy().index + 1;
  }

  lastIndex(): number {
    return this.dummy().index + this.ents.length - 1;
  }

  term(i: number): number {
    const off = this.dummy().index;
    const e = this.ents[i - off];
    check(i >= off && e !== undefined, () => `term(${i}) outside [${off}, ${this.lastIndex()}]`);
    return e.term;
  }

  entries(lo: number, hi: number): Entry[] {
    const off = this.dummy().index;
    check(lo > off && hi <= this.lastIndex() + 1 && lo <= hi, () => `entries [${lo},${hi}) outside storage`);
    return this.ents.slice(lo - off, hi - off);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Append (overwriting any suffix from the first new index on). */
  append(ents: readonly Entry[]): void {
    const first = ents[0];
    if (first === undefined) return;
    const off = this.dummy().index;
    check(first.index > off, () => `append at ${first.index} into compacted log (first ${off + 1})`);
    check(first.index <= this.lastIndex() + 1, () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.ents.length = first.index - off; // drop any conflicting suffix
    for (const e of ents) this.ents.push(e);
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  /** Install a snapshot received from the leader: the whole log is replaced. */
  applySnapshot(s: Snapshot): void {
    assert(s.meta.index >= this.snap.meta.index, 'snapshot older than the current one');
    this.snap = s;
    this.ents = [{ index: s.meta.index, term: s.meta.term, type: 'noop', data: new Uint8Array(0) }];
  }

  /** Record a locally taken snapshot at index (which must be in the log). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    check(index >= this.snap.meta.index && index <= this.lastIndex(), () => `snapshot at ${index} out of range`);
    this.snap = { meta: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /** Delete entries through index, keeping its term as the new dummy. */
  compact(index: number): void {
    const off = this.dummy().index;
    if (index <= off) return;
    check(index <= this.lastIndex(), () => `compact ${index} beyond last ${this.lastIndex()}`);
    const d = this.ents[index - off] as Entry;
    this.ents = [{ index: d.index, term: d.term, type: 'noop', data: new Uint8Array(0) }, ...this.ents.slice(index - off + 1)];
  }
}
