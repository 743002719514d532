import { assert } from '../../util/assert.js';
import { check } from './check.js';
import type { Entry, RaftLogStorage, Snapshot } from './types.js';

/**
 * Entries (and possibly a snapshot) accepted by the core but not yet durable. entries[i] has
 * index offset + i. A pending snapshot, when set, sits just before offset.
 */
class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  constructor(public offset: number) {}

  lastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot?.meta.index;
  }

  term(i: number): number | undefined {
    if (i >= this.offset) return this.entries[i - this.offset]?.term;
    if (this.snapshot !== null && this.snapshot.meta.index === i) return this.snapshot.meta.term;
    return undefined;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const first = ents[0];
    assert(first !== undefined, 'truncateAndAppend of nothing');
    const after = first.index;
    if (after === this.offset + this.entries.length) {
      this.entries.push(...ents);
    } else if (after <= this.offset) {
      // Replaces everything unstable and a suffix of what storage holds (the driver truncates).
      this.offset = after;
      this.entries = [...ents];
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }
}

/** A log position: used for fast conflict backtracking. */
export interface LogPos {
  readonly index: number;
  readonly term: number;
}

/**
 * The log as the core sees it: durable storage plus the unstable tail, with the commit and apply
 * cursors. Invariant: applied <= committed <= lastIndex().
 */
export class RaftLog {
  readonly unstable: Unstable;
  committed: number;
  applied: number;

  constructor(readonly storage: RaftLogStorage, applied: number) {
    this.unstable = new Unstable(storage.lastIndex() + 1);
    const snapIndex = storage.snapshot().meta.index;
    check(storage.firstIndex() - 1 <= snapIndex, () => `storage: log compacted through ${storage.firstIndex() - 1} beyond its snapshot ${snapIndex}`);
    // A snapshot only ever holds committed entries.
    this.committed = snapIndex;
    this.applied = Math.max(applied, 0);
  }

  firstIndex(): number {
    const s = this.unstable.snapshot;
    return s !== null ? s.meta.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    assert(t !== undefined, 'term of the last index must be known');
    return t;
  }

  /** Term of entry i, or undefined when i is compacted away or beyond the end. */
  term(i: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return undefined;
    const u = this.unstable.term(i);
    if (u !== undefined) return u;
    if (this.unstable.snapshot !== null) return undefined;
    return this.storage.term(i);
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** Entries [lo, hi), at least one (if any) and then up to maxBytes of data. lo >= firstIndex(). */
  entries(lo: number, hi: number, maxBytes = Infinity): Entry[] {
    check(lo >= this.firstIndex() && hi <= this.lastIndex() + 1 && lo <= hi, () => `entries [${lo},${hi}) out of range`);
    const out: Entry[] = [];
    const off = this.unstable.offset;
    if (lo < off) out.push(...this.storage.entries(lo, Math.min(hi, off)));
    if (hi > off) out.push(...this.unstable.entries.slice(Math.max(lo, off) - off, hi - off));
    let size = 0;
    for (let i = 0; i < out.length; i++) {
      size += (out[i] as Entry).data.length;
      if (i > 0 && size > maxBytes) return out.slice(0, i);
    }
    return out;
  }

  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** Append after the leader's entries; returns the new last index. Never rewrites committed entries. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    check(first.index - 1 >= this.committed, () => `append at ${first.index} would rewrite committed ${this.committed}`);
    check(first.index <= this.lastIndex() + 1, () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /** The first entry of ents that disagrees with the log (0 when all agree or are simply new). */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The last position <= index whose term is <= term: the leader's entries after it cannot match
   * ours, so the next probe can skip straight there (etcd's fast backtracking).
   */
  findConflictByTerm(index: number, term: number): LogPos {
    for (let i = index; i >= 0; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /** Follower append: returns the last new index when prev matched, undefined otherwise. */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, ents: readonly Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      check(ci > this.committed, () => `conflict at ${ci} with committed entry (committed ${this.committed})`);
      this.append(ents.slice(ci - prevIndex - 1));
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    check(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Leader commit: only an entry of the current term commits by counting replicas (§5.4.2). */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.term(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  hasNextCommitted(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** The next committed entries to apply, at most `max` of them (a restart may have a long backlog). */
  nextCommitted(max = Infinity): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed + 1 <= lo) return [];
    return this.entries(lo, Math.min(this.committed + 1, lo + max));
  }

  appliedTo(index: number): void {
    check(index <= this.committed && index >= this.applied, () => `applied ${index} outside [${this.applied}, ${this.committed}]`);
    this.applied = index;
  }

  /** The driver made entries up to (index, term) durable. */
  stableTo(index: number, term: number): void {
    const u = this.unstable;
    if (index < u.offset || u.term(index) !== term) return; // replaced meanwhile; a later Ready carries it
    u.entries = u.entries.slice(index + 1 - u.offset);
    u.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.unstable.snapshot?.meta.index === index) this.unstable.snapshot = null;
  }

  /** Replace the whole log by a snapshot received from the leader. */
  restore(s: Snapshot): void {
    assert(s.meta.index > this.committed, 'restore of a snapshot that is not ahead of commit');
    this.committed = s.meta.index;
    this.unstable.snapshot = s;
    this.unstable.entries = [];
    this.unstable.offset = s.meta.index + 1;
  }
}
