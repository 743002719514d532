import { assert } from '../../util/assert.js';
import { check } from './check.js';
import type { Result } from '../../util/result.js';
import type { Config } from './config.js';
import { Raft } from './raft.js';
import type {
  ConfChange,
  ConfState,
  HardState,
  Message,
  NodeId,
  ProposeError,
  Proposed,
  RaftLogStorage,
  Ready,
  SnapshotMeta,
  SoftState,
  Status,
} from './types.js';

/**
 * The core's public face (etcd's RawNode). Single-threaded and synchronous: the driver feeds
 * inputs, then takes ready() and, once it has handled it (see Ready for the order), advance().
 * Never touches I/O, clocks or Math.random.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | null = null;

  /** Throws AssertionError on an invalid config or inconsistent storage (a caller bug). */
  constructor(config: Config, storage: RaftLogStorage) {
    this.prevHard = storage.initialState().hardState;
    this.raft = new Raft(config, storage);
    this.prevSoft = this.softState();
  }

  /** Advance logical time by one tick (election / heartbeat / check-quorum timers). */
  tick(): void {
    this.raft.tick();
  }

  /** Start an election now (pre-vote first when enabled). */
  campaign(): void {
    this.raft.campaign();
  }

  /** Append normal entries on the leader (non-empty list). */
  propose(data: readonly Uint8Array[]): Result<Proposed, ProposeError> {
    return this.raft.propose(data);
  }

  /** Propose one membership change; refused while another is not yet applied. */
  proposeConfChange(cc: ConfChange): Result<Proposed, ProposeError> {
    return this.raft.proposeConfChange(cc);
  }

  /**
   * Ask for a linearizable read index (on a follower it is forwarded to the leader). The answer
   * arrives as a ReadState with this context in a later Ready; index 0 there means the read failed
   * (leadership lost) and must be retried. Contexts must be unique among outstanding reads.
   */
  readIndex(context: string): Result<void, ProposeError> {
    return this.raft.readIndex(context);
  }

  /** Leader only: hand leadership to `to` (catch it up, then TimeoutNow). Proposals are refused meanwhile. */
  transferLeadership(to: NodeId): Result<void, ProposeError> {
    return this.raft.transferLeadership(to);
  }

  /** Feed one validated message from a peer. Refuses messages not addressed to this node. */
  step(m: Message): Result<void, string> {
    return this.raft.step(m);
  }

  /** The driver could not reach `id`: stop pipelining to it until it answers again. */
  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  private softState(): SoftState {
    return { leader: this.raft.lead, role: this.raft.role };
  }

  private hardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  hasReady(): boolean {
    const r = this.raft;
    const s = this.softState();
    const h = this.hardState();
    return (
      s.leader !== this.prevSoft.leader ||
      s.role !== this.prevSoft.role ||
      !sameHard(h, this.prevHard) ||
      r.log.unstable.entries.length > 0 ||
      r.log.unstable.snapshot !== null ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.log.hasNextCommitted()
    );
  }

  /** Take the pending output. Call advance(ready) before the next ready(). */
  ready(): Ready {
    assert(this.outstanding === null, 'ready() called again before advance()');
    const r = this.raft;
    r.assertInvariants();
    const s = this.softState();
    const h = this.hardState();
    const soft = s.leader !== this.prevSoft.leader || s.role !== this.prevSoft.role ? s : null;
    const hard = sameHard(h, this.prevHard) ? null : h;
    const entries = [...r.log.unstable.entries];
    const snapshot = r.log.unstable.snapshot;
    const rd: Ready = {
      softState: soft,
      hardState: hard,
      entries,
      snapshot,
      committedEntries: r.log.nextCommitted(r.cfg.maxCommittedPerReady),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || snapshot !== null || h.term !== this.prevHard.term || h.vote !== this.prevHard.vote,
    };
    r.msgs = [];
    r.readStates = [];
    this.outstanding = rd;
    return rd;
  }

  /** Acknowledge that `rd` was handled fully: persisted, sent, applied. */
  advance(rd: Ready): void {
    assert(rd === this.outstanding, 'advance() with a Ready that is not the outstanding one');
    this.outstanding = null;
    const log = this.raft.log;
    if (rd.softState !== null) this.prevSoft = rd.softState;
    if (rd.hardState !== null) this.prevHard = rd.hardState;
    if (rd.snapshot !== null) {
      log.stableSnapTo(rd.snapshot.meta.index);
      if (rd.snapshot.meta.index > log.applied) log.applied = rd.snapshot.meta.index;
    }
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) {
      log.stableTo(last.index, last.term);
      if (log.matchTerm(last.index, last.term)) this.raft.stable(last.index);
    }
    // A snapshot received while this Ready was handled already carries the membership of
    // everything it covers; replaying older conf changes on top of it would corrupt it.
    const superseded = log.unstable.snapshot?.meta.index ?? 0;
    for (const e of rd.committedEntries) {
      if (e.index > superseded) this.raft.applyEntryConf(e);
      log.appliedTo(e.index);
    }
  }

  /**
   * The driver saved a snapshot at meta.index (an index it has applied, hence committed) durably
   * and made storage.snapshot() return it. Returns the highest index the driver may now delete
   * from its log (it keeps trailingLogs entries behind the snapshot so slow followers avoid a
   * snapshot); 0 = nothing. Deleting through that index must keep term(index) answerable (etcd's
   * dummy entry).
   */
  compact(meta: SnapshotMeta): number {
    check(meta.index <= this.raft.log.committed, () => `compact at ${meta.index} beyond commit ${this.raft.log.committed}`);
    return Math.max(0, meta.index - this.raft.cfg.trailingLogs);
  }

  get confState(): ConfState {
    return this.raft.conf;
  }

  status(): Status {
    return this.raft.status();
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
