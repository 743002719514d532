import { assert } from '../../util/assert.js';
import { check } from './check.js';
import { err, ok, type Result } from '../../util/result.js';
import { applyConfChange, decodeConfChange, encodeConfChange } from './confchange.js';
import { resolveConfig, type Config, type ResolvedConfig } from './config.js';
import { RaftLog } from './log.js';
import { Progress } from './progress.js';
import { handleAppend, handleHeartbeat, handleSnapshotChunk, type IncomingSnapshot } from './follower.js';
import { bcastAppend, bcastHeartbeat, handleAppendResponse, handleHeartbeatResponse, handleSnapshotResponse, maybeCommit, quorum, sendAppend, sendTimeoutNow } from './leader.js';
import { ReadOnly } from './readonly.js';
import type {
  ConfChange,
  ConfState,
  CoreLogger,
  Entry,
  EntryType,
  Message,
  NodeId,
  ProposeError,
  Proposed,
  RaftLogStorage,
  ReadState,
  RequestVote,
  Role,
  Status,
} from './types.js';

type CampaignKind = 'preVote' | 'election' | 'transfer';

const EMPTY = new Uint8Array(0);

/**
 * The Raft protocol state machine (etcd-io/raft's raft.go, rewritten). Inputs mutate it; the
 * outputs (messages, read states, log changes) are collected by RawNode into a Ready. Roles,
 * elections, step, proposals, membership and ReadIndex are here; replication is split into its
 * follower side (follower.ts) and leader side (leader.ts).
 */
export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedConfig;
  readonly log: RaftLog;
  term = 0;
  vote: NodeId = '';
  lead: NodeId = '';
  role: Role = 'follower';
  conf: ConfState;
  /** Leader only: every member's progress, this node included. */
  readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  leadTransferee: NodeId = '';
  /** Leader: index of the latest conf change; another waits until it is applied. */
  private pendingConfIndex = 0;
  // Shared with the replication halves (leader.ts, follower.ts); not for the driver.
  readonly readOnly = new ReadOnly();
  incoming: IncomingSnapshot | null = null;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  readonly logger: CoreLogger | undefined;

  constructor(config: Config, storage: RaftLogStorage) {
    const r = resolveConfig(config);
    assert(r.ok, r.ok ? '' : r.error);
    this.cfg = r.value;
    this.id = this.cfg.id;
    this.logger = this.cfg.logger;
    const hs = storage.initialState().hardState;
    const snap = storage.snapshot();
    const applied = this.cfg.applied ?? snap.meta.index;
    check(applied >= snap.meta.index, () => `applied ${applied} is behind the snapshot ${snap.meta.index}`);
    this.log = new RaftLog(storage, applied);
    check(hs.commit <= this.log.lastIndex(), () => `stored commit ${hs.commit} beyond last index ${this.log.lastIndex()}`);
    this.log.commitTo(hs.commit);
    check(applied <= this.log.committed, () => `applied ${applied} beyond commit ${this.log.committed}`);
    this.term = hs.term;
    this.vote = hs.vote;
    if (this.log.lastTerm() > hs.term) {
      // A crash between writing entries and the hard state: the log proves a later term was seen.
      this.term = this.log.lastTerm();
      this.vote = '';
    }
    // Membership as of `applied`: the snapshot's, plus the conf changes applied after it.
    this.conf = snap.meta.confState;
    if (applied > snap.meta.index) {
      for (const e of this.log.entries(snap.meta.index + 1, applied + 1)) this.applyEntryConf(e);
    }
    this.becomeFollower(this.term, '');
  }

  // ------------------------------------------------------------------------------------------
  // Role transitions

  private reset(term: number): void {
    if (this.term !== term) {
      check(term > this.term, () => `term went back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = '';
      this.incoming = null;
    }
    if (this.role === 'leader') this.failPendingReads();
    this.lead = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTicks + this.cfg.random.int(0, this.cfg.electionTicks);
    this.leadTransferee = '';
    this.votes.clear();
    this.progress.clear();
    this.pendingConfIndex = 0;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = 'follower';
    this.logger?.debug({ term, lead }, 'became follower');
  }

  private becomePreCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become pre-candidate');
    // Pre-vote changes neither term nor vote: a failed pre-campaign leaves no trace.
    this.votes.clear();
    this.lead = '';
    this.role = 'preCandidate';
  }

  private becomeCandidate(): void {
    assert(this.role !== 'leader', 'leader cannot become candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    assert(this.role === 'candidate', 'only a candidate becomes leader');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const next = this.log.lastIndex() + 1;
    for (const v of this.conf.voters) this.addProgress(v, false, next);
    for (const l of this.conf.learners) this.addProgress(l, true, next);
    const self = this.progress.get(this.id);
    assert(self !== undefined, 'a leader is a voter');
    // The leader's own copy counts only once durable (see stable()).
    self.match = this.log.unstable.offset - 1;
    self.becomeReplicate();
    self.next = next;
    self.recentActive = true;
    // No conf change until everything before this term is applied (fixes the single-server
    // change bug Ongaro reported: a leader must commit in its own term first).
    this.pendingConfIndex = this.log.lastIndex();
    this.appendEntries([{ type: 'noop', data: EMPTY }]);
    this.logger?.info({ term: this.term, lastIndex: this.log.lastIndex() }, 'became leader');
  }

  private addProgress(id: NodeId, learner: boolean, next: number): void {
    this.progress.set(id, new Progress(id, next, learner, this.cfg.maxInflight));
  }

  private promotable(): boolean {
    return this.conf.voters.includes(this.id) && this.log.unstable.snapshot === null;
  }

  // ------------------------------------------------------------------------------------------
  // Time

  tick(): void {
    if (this.role === 'leader') this.tickLeader();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.quorumActive()) {
        this.logger?.warn({ term: this.term }, 'stepping down: no quorum heard within an election timeout');
        this.becomeFollower(this.term, '');
        return;
      }
      if (!this.conf.voters.includes(this.id)) {
        this.logger?.warn({ term: this.term }, 'hand-off after removal did not finish: stepping down');
        this.becomeFollower(this.term, '');
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.leadTransferee !== '') this.leadTransferee = '';
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      bcastHeartbeat(this, this.readOnly.lastPending());
    }
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const v of this.conf.voters) {
      const pr = this.progress.get(v);
      if (pr !== undefined && (pr.recentActive || v === this.id)) active++;
    }
    for (const pr of this.progress.values()) if (pr.id !== this.id) pr.recentActive = false;
    return active >= quorum(this.conf.voters.length);
  }

  // ------------------------------------------------------------------------------------------
  // Elections

  /** Start an election (a pre-vote round first when enabled). No-op for a leader. */
  campaign(kind: CampaignKind = this.cfg.preVote ? 'preVote' : 'election'): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) {
      this.logger?.debug({}, 'not campaigning: not a voter (or installing a snapshot)');
      return;
    }
    if (this.hasUnappliedConfChange()) {
      this.logger?.debug({ term: this.term }, 'not campaigning: committed conf change not applied yet');
      return;
    }
    let voteTerm: number;
    let type: RequestVote['type'];
    if (kind === 'preVote') {
      this.becomePreCandidate();
      voteTerm = this.term + 1;
      type = 'requestPreVote';
    } else {
      this.becomeCandidate();
      voteTerm = this.term;
      type = 'requestVote';
    }
    if (this.poll(this.id, true) === 'won') {
      this.wonVote();
      return;
    }
    const lastLogIndex = this.log.lastIndex();
    const lastLogTerm = this.log.lastTerm();
    for (const v of this.conf.voters) {
      if (v === this.id) continue;
      this.send({ type, from: this.id, to: v, term: voteTerm, lastLogIndex, lastLogTerm, transfer: kind === 'transfer' });
    }
  }

  private hasUnappliedConfChange(): boolean {
    if (this.log.committed <= this.log.applied) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    return this.log.entries(lo, this.log.committed + 1).some((e) => e.type === 'confChange');
  }

  private poll(id: NodeId, granted: boolean): 'won' | 'lost' | 'pending' {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    let yes = 0;
    let no = 0;
    for (const v of this.conf.voters) {
      const g = this.votes.get(v);
      if (g === true) yes++;
      else if (g === false) no++;
    }
    const q = quorum(this.conf.voters.length);
    if (yes >= q) return 'won';
    if (this.conf.voters.length - no < q) return 'lost';
    return 'pending';
  }

  private wonVote(): void {
    if (!this.conf.voters.includes(this.id)) {
      // Demoted or removed (a conf change applied) while campaigning: not ours to win.
      this.becomeFollower(this.term, '');
      return;
    }
    if (this.role === 'preCandidate') {
      this.campaign('election');
    } else {
      this.becomeLeader();
      bcastAppend(this);
    }
  }

  private handleVote(m: RequestVote): void {
    const pre = m.type === 'requestPreVote';
    const canVote = this.vote === m.from || (this.vote === '' && this.lead === '') || (pre && m.term > this.term);
    const respType = pre ? 'requestPreVoteResponse' : 'requestVoteResponse';
    if (canVote && this.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
      // A pre-vote is answered in the term it asks about, so the asker can count it.
      this.send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false });
      if (!pre) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      const commit = this.log.committed;
      const commitTerm = this.log.term(commit) ?? 0;
      this.send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true, commit, commitTerm });
    }
  }

  // ------------------------------------------------------------------------------------------
  // Step

  step(m: Message): Result<void, string> {
    if (m.to !== this.id) return err(`message for ${m.to} delivered to ${this.id}`);
    if (m.from === this.id) return err(`message from ${m.from} to itself`);
    if (m.term > this.term) {
      if (m.type === 'requestVote' || m.type === 'requestPreVote') {
        // Leader lease: while we hear from a leader, a vote request is someone else's partition talking.
        const inLease = this.cfg.checkQuorum && this.lead !== '' && this.electionElapsed < this.cfg.electionTicks;
        if (inLease && !m.transfer) {
          this.logger?.debug({ from: m.from, term: m.term }, 'ignoring vote request within leader lease');
          return ok(undefined);
        }
      }
      if (m.type === 'requestPreVote' || (m.type === 'requestPreVoteResponse' && !m.reject)) {
        // A pre-vote does not move terms; a granted pre-vote answer carries the future term.
      } else {
        const fromLeader = m.type === 'appendEntries' || m.type === 'heartbeat' || m.type === 'installSnapshot';
        this.becomeFollower(m.term, fromLeader ? m.from : '');
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'appendEntries' || m.type === 'heartbeat')) {
        // A stale leader (possibly cut off and never stepping down) learns the newer term.
        this.send({ type: 'appendEntriesResponse', from: this.id, to: m.from, term: this.term, index: 0, reject: false, rejectHint: 0, hintTerm: 0 });
      } else if (m.type === 'requestPreVote') {
        this.send({ type: 'requestPreVoteResponse', from: this.id, to: m.from, term: this.term, reject: true });
      }
      return ok(undefined);
    }

    if (m.type === 'requestVote' || m.type === 'requestPreVote') {
      this.handleVote(m);
      return ok(undefined);
    }
    switch (this.role) {
      case 'leader':
        this.stepLeader(m);
        break;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
    }
    return ok(undefined);
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'appendEntriesResponse':
        handleAppendResponse(this, m.from, m.index, m.reject, m.rejectHint, m.hintTerm);
        return;
      case 'heartbeatResponse':
        handleHeartbeatResponse(this, m.from, m.context);
        return;
      case 'installSnapshotResponse':
        handleSnapshotResponse(this, m.from, m.snapshotIndex, m.received, m.reject);
        return;
      case 'readIndex':
        this.handleReadIndex(m.from, m.context);
        return;
      case 'appendEntries':
      case 'heartbeat':
      case 'installSnapshot':
        this.logger?.warn({ from: m.from, term: m.term, type: m.type }, 'second leader in my term: ignored');
        return;
      default:
        return; // stale vote answers, timeoutNow, read answers: nothing to do as leader
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'appendEntries':
      case 'heartbeat':
      case 'installSnapshot':
        this.becomeFollower(m.term, m.from);
        this.stepFollower(m);
        return;
      case 'requestVoteResponse':
      case 'requestPreVoteResponse': {
        const mine = this.role === 'preCandidate' ? 'requestPreVoteResponse' : 'requestVoteResponse';
        if (m.type !== mine) return;
        if (m.reject && m.commit !== undefined && m.commit > this.log.committed && this.log.matchTerm(m.commit, m.commitTerm ?? 0)) {
          // A committed index is a fact; with matching terms our log holds the same prefix.
          this.log.commitTo(m.commit);
        }
        const res = this.poll(m.from, !m.reject);
        if (res === 'won') this.wonVote();
        else if (res === 'lost') this.becomeFollower(this.term, '');
        return;
      }
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'appendEntries':
        this.heardFromLeader(m.from);
        handleAppend(this, m);
        return;
      case 'heartbeat':
        this.heardFromLeader(m.from);
        handleHeartbeat(this, m);
        return;
      case 'installSnapshot':
        this.heardFromLeader(m.from);
        handleSnapshotChunk(this, m);
        return;
      case 'timeoutNow':
        if (m.from !== this.lead) return; // only our leader may hand us leadership
        this.logger?.info({ from: m.from, term: this.term }, 'leadership transfer: campaigning now');
        this.campaign('transfer');
        return;
      case 'readIndexResponse':
        this.readStates.push({ index: m.index, context: m.context });
        return;
      case 'readIndex':
        this.send({ type: 'readIndexResponse', from: this.id, to: m.from, term: this.term, context: m.context, index: 0 });
        return;
      default:
        return;
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.lead = from;
  }

  // ------------------------------------------------------------------------------------------
  // Replication: the follower side is follower.ts, the leader side leader.ts

  committedInTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private appendEntries(items: readonly { type: EntryType; data: Uint8Array }[]): Proposed {
    const first = this.log.lastIndex() + 1;
    const ents: Entry[] = items.map((it, i) => ({ index: first + i, term: this.term, type: it.type, data: it.data }));
    const last = this.log.append(ents);
    return { term: this.term, firstIndex: first, lastIndex: last };
  }

  /**
   * The driver made the log durable through `index` (advance). Only now does a leader count its
   * own copy: a commit then never rests on an entry that a crash could still lose, so a leader may
   * send its appends while it writes them (Ready contract) even as a single voter.
   */
  stable(index: number): void {
    if (this.role !== 'leader') return;
    const self = this.progress.get(this.id);
    if (self === undefined || !self.maybeUpdate(index)) return;
    if (maybeCommit(this)) bcastAppend(this);
  }

  // ------------------------------------------------------------------------------------------
  // Proposals

  private checkProposal(): ProposeError | null {
    if (this.role !== 'leader') return 'notLeader';
    if (!this.conf.voters.includes(this.id)) return 'removedFromCluster';
    if (this.leadTransferee !== '') return 'transferInProgress';
    return null;
  }

  propose(data: readonly Uint8Array[]): Result<Proposed, ProposeError> {
    assert(data.length > 0, 'propose of nothing');
    const e = this.checkProposal();
    if (e !== null) return err(e);
    const p = this.appendEntries(data.map((d) => ({ type: 'normal' as const, data: d })));
    bcastAppend(this);
    return ok(p);
  }

  proposeConfChange(cc: ConfChange): Result<Proposed, ProposeError> {
    const e = this.checkProposal();
    if (e !== null) return err(e);
    if (this.pendingConfIndex > this.log.applied) return err('confChangePending');
    const next = applyConfChange(this.conf, cc);
    if (!next.ok) {
      this.logger?.warn({ change: cc, reason: next.error }, 'conf change refused');
      return err('invalidConfChange');
    }
    const p = this.appendEntries([{ type: 'confChange', data: encodeConfChange(cc) }]);
    this.pendingConfIndex = p.lastIndex;
    bcastAppend(this);
    return ok(p);
  }

  /** Called as a committed confChange entry is handed to the application (advance). */
  applyEntryConf(e: Entry): void {
    if (e.type !== 'confChange') return;
    const cc = decodeConfChange(e.data);
    if (!cc.ok) {
      this.logger?.warn({ index: e.index, reason: cc.error }, 'undecodable conf change entry skipped');
      return;
    }
    const next = applyConfChange(this.conf, cc.value);
    if (!next.ok) {
      // Every node skips the same entry the same way: membership stays identical everywhere.
      this.logger?.warn({ index: e.index, change: cc.value, reason: next.error }, 'conf change entry not applicable, skipped');
      return;
    }
    this.conf = next.value;
    this.logger?.info({ index: e.index, change: cc.value, conf: this.conf }, 'membership changed');
    if (this.role !== 'leader') return;
    const next1 = this.log.lastIndex() + 1;
    for (const id of [...this.progress.keys()]) {
      if (!this.conf.voters.includes(id) && !this.conf.learners.includes(id)) this.progress.delete(id);
    }
    for (const [ids, learner] of [[this.conf.voters, false], [this.conf.learners, true]] as const) {
      for (const id of ids) {
        const pr = this.progress.get(id);
        if (pr === undefined) this.addProgress(id, learner, next1);
        else pr.isLearner = learner;
      }
    }
    if (this.leadTransferee !== '' && !this.conf.voters.includes(this.leadTransferee)) this.leadTransferee = '';
    // A smaller quorum may commit more; new members need the log either way.
    maybeCommit(this);
    bcastAppend(this);
    if (!this.conf.voters.includes(this.id)) this.handOff();
  }

  /**
   * This leader was removed or demoted. It may hold the longest log (entries after the change),
   * and the remaining voters may not know the change committed; stepping down at once can wedge
   * them. So it keeps leading (refusing proposals) and transfers leadership to the most caught-up
   * voter, stepping down if that has not happened within an election timeout.
   */
  private handOff(): void {
    let best: Progress | undefined;
    for (const v of this.conf.voters) {
      const pr = this.progress.get(v);
      if (pr !== undefined && (best === undefined || pr.match > best.match)) best = pr;
    }
    if (best === undefined) {
      this.becomeFollower(this.term, '');
      return;
    }
    this.logger?.info({ to: best.id }, 'removed from the voters: handing leadership off');
    this.startTransfer(best.id);
  }

  transferLeadership(to: NodeId): Result<void, ProposeError> {
    if (this.role !== 'leader') return err('notLeader');
    if (to === this.id) return ok(undefined);
    if (!this.conf.voters.includes(to)) return err('invalidTarget');
    if (this.leadTransferee === to) return ok(undefined);
    if (!this.conf.voters.includes(this.id)) return err('removedFromCluster'); // a hand-off is under way
    this.startTransfer(to);
    return ok(undefined);
  }

  private startTransfer(to: NodeId): void {
    this.leadTransferee = to;
    this.electionElapsed = 0; // the transfer must finish within one election timeout
    const pr = this.progress.get(to);
    assert(pr !== undefined, 'voter has progress');
    this.logger?.info({ to }, 'leadership transfer started');
    if (pr.match === this.log.lastIndex()) sendTimeoutNow(this, to);
    else sendAppend(this, to);
  }

  // ------------------------------------------------------------------------------------------
  // ReadIndex

  readIndex(context: string): Result<void, ProposeError> {
    if (this.role === 'leader') {
      this.handleReadIndex(this.id, context);
      return ok(undefined);
    }
    if (this.lead === '') return err('notLeader');
    this.send({ type: 'readIndex', from: this.id, to: this.lead, term: this.term, context });
    return ok(undefined);
  }

  handleReadIndex(from: NodeId, context: string): void {
    if (!this.committedInTerm()) {
      // The commit index is only known to be current once this term has committed an entry.
      this.readOnly.wait(from, context);
      return;
    }
    if (this.conf.voters.length === 1 && this.conf.voters[0] === this.id) {
      // The only voter needs nobody's confirmation (a removed leader handing off does).
      this.respondRead(from, context, this.log.committed);
      return;
    }
    if (this.readOnly.add(from, context, this.log.committed, this.id)) bcastHeartbeat(this, context);
  }

  respondRead(from: NodeId, context: string, index: number): void {
    if (from === this.id) this.readStates.push({ index, context });
    else this.send({ type: 'readIndexResponse', from: this.id, to: from, term: this.term, context, index });
  }

  /** Leadership ends: every outstanding read fails with index 0 so callers retry elsewhere. */
  private failPendingReads(): void {
    for (const r of this.readOnly.drain()) this.respondRead(r.from, r.context, 0);
  }

  // ------------------------------------------------------------------------------------------

  reportUnreachable(id: NodeId): void {
    const pr = this.progress.get(id);
    if (this.role === 'leader' && pr !== undefined && pr.state === 'replicate') pr.becomeProbe();
  }

  send(m: Message): void {
    this.msgs.push(m);
  }

  /** Cheap structural invariants, checked once per Ready (a failure is a bug in the core). */
  assertInvariants(): void {
    const log = this.log;
    check(log.applied <= log.committed, () => `applied ${log.applied} > committed ${log.committed}`);
    check(log.committed <= log.lastIndex(), () => `committed ${log.committed} > last index ${log.lastIndex()}`);
    assert(log.firstIndex() <= log.lastIndex() + 1, 'first index beyond last index + 1');
    check(log.lastTerm() <= this.term, () => `last log term ${log.lastTerm()} above current term ${this.term}`);
    assert(this.role !== 'candidate' || this.vote === this.id, 'a candidate votes for itself');
    assert((this.role === 'leader') === (this.lead === this.id), 'lead is self exactly when leader');
    if (this.role === 'leader') {
      const self = this.progress.get(this.id);
      // A removed leader handing off no longer tracks itself.
      if (self !== undefined) assert(self.match <= log.lastIndex() && self.match < log.unstable.offset, 'leader counts only its durable log');
      else assert(!this.conf.voters.includes(this.id), 'a voting leader tracks itself');
      for (const pr of this.progress.values()) {
        check(pr.match < pr.next, () => `progress ${pr.id}: match ${pr.match} >= next ${pr.next}`);
        check(pr.match <= log.lastIndex(), () => `progress ${pr.id}: match beyond the leader's log`);
      }
    } else {
      assert(this.progress.size === 0, 'only a leader tracks progress');
    }
  }

  status(): Status {
    return {
      id: this.id,
      hardState: { term: this.term, vote: this.vote, commit: this.log.committed },
      softState: { leader: this.lead, role: this.role },
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      confState: this.conf,
      progress: [...this.progress.values()].map((p) => p.view()),
      leadTransferee: this.leadTransferee,
    };
  }
}
