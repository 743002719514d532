import { assert } from '../../util/assert.js';
import type { NodeId, PeerProgress, ProgressState, Snapshot } from './types.js';

/** Last indexes of AppendEntries sent but not yet acknowledged (a sliding window). */
export class Inflights {
  private items: number[] = [];
  constructor(private readonly capacity: number) {}

  get count(): number {
    return this.items.length;
  }

  full(): boolean {
    return this.items.length >= this.capacity;
  }

  add(last: number): void {
    assert(!this.full(), 'inflights overflow');
    const prev = this.items[this.items.length - 1];
    assert(prev === undefined || last > prev, 'inflights must grow');
    this.items.push(last);
  }

  /** Acknowledge everything up to index. */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.items.length && (this.items[n] as number) <= index) n++;
    if (n > 0) this.items = this.items.slice(n);
  }

  freeFirst(): void {
    this.items.shift();
  }

  reset(): void {
    this.items = [];
  }
}

/**
 * The leader's view of one peer (etcd's tracker.Progress):
 * - probe: one AppendEntries per heartbeat interval until a match is found;
 * - replicate: stream optimistically, up to maxInflight messages;
 * - snapshot: sending InstallSnapshot chunks, one at a time; appends paused.
 * Invariant: match < next.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** probe: an append is out and unanswered (resumed on any answer or heartbeat response). */
  probeSent = false;
  /** Heard from the peer since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;
  /** snapshot state: the snapshot being sent, how much the peer confirmed, and a chunk out. */
  snapshot: Snapshot | null = null;
  snapshotOffset = 0;
  snapshotChunkOut = false;

  constructor(
    readonly id: NodeId,
    next: number,
    public isLearner: boolean,
    maxInflight: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private reset(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.snapshot = null;
    this.snapshotOffset = 0;
    this.snapshotChunkOut = false;
    this.inflights.reset();
  }

  becomeProbe(): void {
    const pending = this.snapshot?.meta.index ?? 0;
    this.next = Math.max(this.match + 1, this.state === 'snapshot' ? pending + 1 : this.match + 1);
    this.reset('probe');
  }

  becomeReplicate(): void {
    this.reset('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(s: Snapshot): void {
    this.reset('snapshot');
    this.snapshot = s;
  }

  /** An acceptance up to n. Returns whether match moved. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A rejection of the append whose prevIndex was `rejected`; `hint` is where the logs may match.
   * Returns false for a stale rejection (already past it).
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  /** Bookkeeping after sending an append whose last entry is `last` (prevIndex when empty). */
  sentEntries(last: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = last + 1;
        this.inflights.add(last);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  view(): PeerProgress {
    return {
      id: this.id,
      match: this.match,
      next: this.next,
      state: this.state,
      recentActive: this.recentActive,
      isLearner: this.isLearner,
      inflight: this.inflights.count,
    };
  }
}
