import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../../runtime/ports/clock.js';
import type { Logger } from '../../runtime/ports/observability.js';
import type { Random } from '../../runtime/ports/random.js';
import type { BlobStore, DurableStore } from '../../runtime/ports/storage.js';
import { assert } from '../../util/assert.js';
import { err, ok, type Result } from '../../util/result.js';
import { applyConfChange, bootstrapLog, decodeConfChange, encodeConfChange, RawNode } from '../core/index.js';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, ProposeError, Proposed, Ready, Role, Snapshot, SnapshotMeta, SoftState } from '../core/types.js';
import { resolveRaftConfig, type RaftConfig } from '../config.js';
import type { FSM } from '../fsm.js';
import { packr, toBytes } from '../storage/codec.js';
import { RaftStorage } from '../storage/raft-storage.js';
import type { Transport } from '../transport/transport.js';
import type { LeaderInfo, Observation, Observer, RaftError, Server } from './types.js';

export interface RaftDeps {
  readonly id: NodeId;
  readonly clock: Clock;
  readonly random: Random;
  readonly store: DurableStore;
  readonly blobs: BlobStore;
  readonly transport: Transport;
  readonly fsm: FSM;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly config?: Partial<RaftConfig>;
  /**
   * Where a peer is reachable now (hashicorp's ServerAddressProvider), e.g. from the membership
   * layer's metadata; consulted before the address book (bootstrap list, configuration entries,
   * hello frames) on every send. undefined: not known there, use the address book.
   */
  readonly resolveAddress?: (id: NodeId) => string | undefined;
}

/** A proposal waiting to be applied; index 0 while it is still queued (not yet proposed). */
interface IndexWaiter {
  index: number;
  term: number;
  readonly resolve: (r: Result<unknown, RaftError>) => void;
  readonly timer: TimerHandle;
}

interface QueuedApply extends IndexWaiter {
  readonly cmd: Uint8Array;
}

interface ReadWaiter {
  /** Barrier: also wait until the read index is applied. */
  readonly waitApplied: boolean;
  /** Barrier: and at least this index (the last one proposed before it). */
  readonly floor: number;
  readonly resolve: (r: Result<number, RaftError>) => void;
  readonly timer: TimerHandle;
}

const ADDRS_KEY = 'addresses';

/**
 * The Raft driver (hashicorp/raft's Raft): wires the pure core to durable storage, the transport,
 * the FSM and the clock. One Ready at a time: persist the snapshot, entries and hard state in one
 * write and one flush (every apply() that arrived meanwhile rides in the same batch: group
 * commit), only then send the messages, then apply committed entries and resolve their waiters.
 */
export class Raft {
  private readonly log: Logger;
  private readonly config: RaftConfig;
  private node!: RawNode;
  private soft: SoftState = { leader: '', role: 'follower' };
  private term = 0;
  /** The hard state last made durable. */
  private persisted: HardState = { term: 0, vote: '', commit: 0 };
  private applied = 0;
  /** Membership as of `applied` (what a snapshot at `applied` records). */
  private appliedConf: ConfState;
  private readonly addresses = new Map<NodeId, string>();
  private readonly waiters = new Map<number, IndexWaiter>();
  /** apply() calls not yet proposed: the loop proposes them together, as one append per follower. */
  private queued: QueuedApply[] = [];
  private readonly readWaiters = new Map<string, ReadWaiter>();
  private appliedWaiters: Array<{ index: number; resolve: (r: Result<number, RaftError>) => void }> = [];
  private readonly observers = new Set<Observer>();
  private readonly ticker: TimerHandle;
  private readCounter = 0;
  private loopScheduled = false;
  private inLoop = false;
  private snapshotting = false;
  private stopped = false;
  private readonly m: {
    fsyncs: Counter;
    batch: Histogram;
    applied: Counter;
    leaderChanges: Counter;
    term: Gauge;
    commit: Gauge;
    snapshots: Counter;
    dropped: Counter;
  };

  private constructor(
    private readonly deps: RaftDeps,
    config: RaftConfig,
    private readonly storage: RaftStorage,
  ) {
    this.config = config;
    this.log = deps.logger.child({ module: 'raft' });
    const reg = [deps.metrics];
    this.m = {
      fsyncs: new Counter({ name: 'raft_fsyncs_total', help: 'Durability points (one per persisted Ready)', registers: reg }),
      batch: new Histogram({ name: 'raft_persist_batch_entries', help: 'Entries persisted per durability point (group commit)', buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256], registers: reg }),
      applied: new Counter({ name: 'raft_applied_entries_total', help: 'Committed entries applied to the FSM', registers: reg }),
      leaderChanges: new Counter({ name: 'raft_leader_changes_total', help: 'Times the known leader changed', registers: reg }),
      term: new Gauge({ name: 'raft_term', help: 'Current term', registers: reg }),
      commit: new Gauge({ name: 'raft_commit_index', help: 'Commit index', registers: reg }),
      snapshots: new Counter({ name: 'raft_snapshots_total', help: 'Snapshots taken or installed', labelNames: ['kind'], registers: reg }),
      dropped: new Counter({ name: 'raft_unroutable_messages_total', help: 'Messages to peers with no known address', registers: reg }),
    };
    const snap = storage.snapshot();
    this.appliedConf = snap.meta.confState;
    this.restoreFrom(snap);
    this.startCore();
    deps.transport.onMessage((msg) => this.receive(msg));
    deps.transport.onPeerAddress((id, address) => {
      if (this.addresses.get(id) === address) return;
      this.addresses.set(id, address);
      this.saveAddresses();
    });
    deps.transport.onPeerStatus((id, up) => {
      // Stop pipelining into a peer we cannot reach; the core probes it again on the next heartbeat.
      if (!up && !this.stopped) this.node.reportUnreachable(id);
      this.emit({ type: up ? 'heartbeatResumed' : 'heartbeatFailed', id });
    });
    this.ticker = deps.clock.setPeriodic(config.tickMs, () => {
      if (this.stopped) return;
      this.node.tick();
      this.kick();
    });
  }

  /** Open (or recover) a node from its stores; the FSM is restored from the latest snapshot. */
  static async create(deps: RaftDeps): Promise<Result<Raft, string>> {
    const config = resolveRaftConfig(deps.config);
    if (!config.ok) return config;
    const storage = await RaftStorage.open(deps.store, deps.blobs);
    return ok(new Raft(deps, config.value, storage));
  }

  /** Write the initial membership (hashicorp BootstrapCluster); only on a node with no state at all. */
  async bootstrap(servers: readonly Server[]): Promise<Result<void, string>> {
    if (this.storage.hasExistingState()) return err('raft bootstrap: this node already has state');
    if (!servers.some((s) => s.id === this.deps.id)) return err(`raft bootstrap: the servers do not include this node (${this.deps.id})`);
    const ids = new Set(servers.map((s) => s.id));
    if (ids.size !== servers.length) return err('raft bootstrap: duplicate server ids');
    const voters = servers.filter((s) => s.suffrage !== 'nonvoter').map((s) => s.id).sort();
    const learners = servers.filter((s) => s.suffrage === 'nonvoter').map((s) => s.id).sort();
    if (voters.length === 0) return err('raft bootstrap: no voter');
    for (const s of servers) this.addresses.set(s.id, s.address);
    // The initial membership is a committed prefix of configuration entries, the same on every
    // server bootstrapped with the same list.
    const boot = bootstrapLog(voters);
    const learnerEntries: Entry[] = learners.map((nodeId, i) => ({
      index: boot.entries.length + i + 1,
      term: boot.hardState.term,
      type: 'confChange',
      data: encodeConfChange({ type: 'addLearner', nodeId, context: '' }),
    }));
    const entries = [...boot.entries, ...learnerEntries];
    this.storage.log.storeLogs(entries);
    this.storage.setHardState({ ...boot.hardState, commit: entries.length });
    this.saveAddresses();
    await this.storage.sync();
    this.startCore();
    return ok(undefined);
  }

  // Writes ----------------------------------------------------------------------------------

  /** Replicate `cmd`; resolves with the FSM's result once committed and applied on this node. */
  apply(cmd: Uint8Array, timeoutMs: number): Promise<Result<unknown, RaftError>> {
    if (this.stopped) return Promise.resolve(err({ kind: 'shutdown' }));
    return new Promise((resolve) => {
      const q: QueuedApply = { cmd, index: 0, term: 0, resolve, timer: this.deps.clock.setTimer(timeoutMs, () => this.expire(q)) };
      this.queued.push(q);
      this.kick();
    });
  }

  addVoter(id: NodeId, address: string, timeoutMs: number): Promise<Result<number, RaftError>> {
    return this.changeMembership({ type: 'addVoter', nodeId: id, context: address }, timeoutMs);
  }

  addNonvoter(id: NodeId, address: string, timeoutMs: number): Promise<Result<number, RaftError>> {
    return this.changeMembership({ type: 'addLearner', nodeId: id, context: address }, timeoutMs);
  }

  demoteVoter(id: NodeId, timeoutMs: number): Promise<Result<number, RaftError>> {
    return this.changeMembership({ type: 'addLearner', nodeId: id, context: this.addresses.get(id) ?? '' }, timeoutMs);
  }

  removeServer(id: NodeId, timeoutMs: number): Promise<Result<number, RaftError>> {
    return this.changeMembership({ type: 'removeNode', nodeId: id, context: '' }, timeoutMs);
  }

  private async changeMembership(cc: ConfChange, timeoutMs: number): Promise<Result<number, RaftError>> {
    if (this.stopped) return err({ kind: 'shutdown' });
    // Known at once, so the leader can reach a new member as soon as the change takes effect.
    if (cc.context !== '') this.addresses.set(cc.nodeId, cc.context);
    this.proposeQueued();
    const proposed = this.node.proposeConfChange(cc);
    const r = await this.track(proposed, timeoutMs);
    return r.ok && proposed.ok ? ok(proposed.value.lastIndex) : (r as Result<never, RaftError>);
  }

  /** Resolves once every entry before it is applied here (and leadership was confirmed by a quorum). */
  barrier(timeoutMs: number): Promise<Result<number, RaftError>> {
    if (this.soft.role !== 'leader') return Promise.resolve(err({ kind: 'notLeader', leader: this.leader() }));
    // hashicorp's Barrier also waits for every operation enqueued before it; a read index alone
    // is only the commit index.
    this.proposeQueued();
    return this.readIndex(true, timeoutMs, this.node.status().lastIndex);
  }

  /**
   * Linearizable read point on ANY node (ReadIndex, thesis §6.4): the leader's commit index,
   * confirmed by a quorum heartbeat round after this call, then waited for until this node's FSM
   * has applied it. Resolves with that index; local reads of the FSM after it are linearizable.
   * On a follower the request goes to the leader it knows; an unanswered one (partition, lost
   * message, leader change) ends in `timeout`, never in a stale index. `notLeader` when no leader
   * is known or the leader lost leadership before confirming; both mean: retry or ask elsewhere.
   */
  readBarrier(timeoutMs: number): Promise<Result<number, RaftError>> {
    return this.readIndex(true, timeoutMs, 0);
  }

  /** Confirms with a quorum round that this node is still the leader. */
  async verifyLeader(timeoutMs: number): Promise<Result<void, RaftError>> {
    if (this.soft.role !== 'leader') return err({ kind: 'notLeader', leader: this.leader() });
    const r = await this.readIndex(false, timeoutMs, 0);
    return r.ok ? ok(undefined) : r;
  }

  /** Hand leadership to `to`, or to the most up-to-date voter. Resolves when a new leader is known. */
  async leadershipTransfer(timeoutMs: number, to?: NodeId): Promise<Result<LeaderInfo, RaftError>> {
    if (this.stopped) return err({ kind: 'shutdown' });
    if (this.soft.role !== 'leader') return err({ kind: 'notLeader', leader: this.leader() });
    const target = to ?? this.bestTransferTarget();
    if (!target) return err({ kind: 'rejected', reason: 'no other voter to transfer to' });
    const r = this.node.transferLeadership(target);
    if (!r.ok) return err(this.proposeError(r.error));
    this.kick();
    return new Promise((resolve) => {
      const timer = this.deps.clock.setTimer(timeoutMs, () => {
        off();
        resolve(err({ kind: 'timeout' }));
      });
      const off = this.observe((o) => {
        if (o.type === 'leader' && o.leader && o.leader.id !== this.deps.id) {
          timer.cancel();
          off();
          resolve(ok(o.leader));
        }
      });
    });
  }

  /** Take a snapshot of the FSM now and compact the log behind it. */
  async snapshot(): Promise<Result<SnapshotMeta, string>> {
    if (this.snapshotting) return err('a snapshot is already in progress');
    const index = this.applied;
    if (index <= this.storage.snapshot().meta.index) return err('nothing new to snapshot');
    this.snapshotting = true;
    const fsmSnap = this.deps.fsm.snapshot();
    const meta: SnapshotMeta = { index, term: this.storage.term(index), confState: this.appliedConf };
    try {
      const snap: Snapshot = { meta, data: this.wrapSnapshot(await fsmSnap.persist()) };
      await this.storage.snapshots.save(snap);
      // A snapshot installed from the leader meanwhile supersedes ours.
      if (this.stopped || this.storage.snapshot().meta.index >= index) return err('superseded by a newer snapshot');
      this.storage.setSnapshot(snap);
      const cut = this.node.compact(meta);
      if (cut > 0) this.storage.compactTo(Math.min(cut, this.storage.lastIndex()));
      this.m.snapshots.inc({ kind: 'taken' });
      this.log.info({ index, term: meta.term, compactedTo: cut }, 'snapshot taken');
      return ok(meta);
    } finally {
      fsmSnap.release();
      this.snapshotting = false;
    }
  }

  // State -----------------------------------------------------------------------------------

  state(): Role {
    return this.soft.role;
  }

  leader(): LeaderInfo | undefined {
    if (this.soft.leader === '') return undefined;
    return { id: this.soft.leader, address: this.addressOf(this.soft.leader) ?? '' };
  }

  get id(): NodeId {
    return this.deps.id;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  get currentTerm(): number {
    return this.term;
  }

  getConfiguration(): Server[] {
    const cs = this.node.confState;
    return [
      ...cs.voters.map((id) => ({ id, address: this.addresses.get(id) ?? '', suffrage: 'voter' as const })),
      ...cs.learners.map((id) => ({ id, address: this.addresses.get(id) ?? '', suffrage: 'nonvoter' as const })),
    ];
  }

  stats(): Record<string, string | number> {
    const s = this.node.status();
    return {
      state: s.softState.role,
      term: s.hardState.term,
      leader: s.softState.leader,
      commitIndex: s.hardState.commit,
      appliedIndex: this.applied,
      firstIndex: s.firstIndex,
      lastIndex: s.lastIndex,
      lastSnapshotIndex: this.storage.snapshot().meta.index,
      voters: s.confState.voters.join(','),
      nonvoters: s.confState.learners.join(','),
      pendingApplies: this.waiters.size,
    };
  }

  /** Register an observer; returns its unregister function. Observers must not throw. */
  observe(observer: Observer): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /** Stop ticking, fail every waiter with 'shutdown', close the transport. Stores stay open (the caller owns them). */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.ticker.cancel();
    const down = err({ kind: 'shutdown' } as const);
    for (const w of [...this.waiters.values(), ...this.queued]) {
      w.timer.cancel();
      w.resolve(down);
    }
    this.queued = [];
    for (const w of [...this.readWaiters.values()]) w.resolve(down);
    for (const w of this.appliedWaiters) w.resolve(down);
    this.waiters.clear();
    this.readWaiters.clear();
    this.appliedWaiters = [];
    await this.deps.transport.close();
  }

  // Internals ---------------------------------------------------------------------------------

  private startCore(): void {
    const c = this.config;
    this.node = new RawNode(
      {
        id: this.deps.id,
        electionTicks: c.electionTicks,
        heartbeatTicks: c.heartbeatTicks,
        maxInflight: c.maxInflight,
        maxSizePerMsg: c.maxSizePerMsg,
        snapshotChunkSize: c.snapshotChunkSize,
        preVote: c.preVote,
        checkQuorum: c.checkQuorum,
        trailingLogs: c.trailingLogs,
        applied: this.applied,
        random: this.deps.random,
        logger: this.log,
      },
      this.storage,
    );
    this.persisted = this.storage.hardState();
    this.term = this.persisted.term;
  }

  private receive(msg: Message): void {
    if (this.stopped) return;
    const r = this.node.step(msg);
    if (!r.ok) this.log.debug({ from: msg.from, type: msg.type, why: r.error }, 'message refused by the core');
    this.kick();
  }

  private track(proposed: Result<Proposed, ProposeError>, timeoutMs: number): Promise<Result<unknown, RaftError>> {
    if (!proposed.ok) return Promise.resolve(err(this.proposeError(proposed.error)));
    const { term, lastIndex } = proposed.value;
    this.kick();
    return new Promise((resolve) => {
      const w: IndexWaiter = { index: lastIndex, term, resolve, timer: this.deps.clock.setTimer(timeoutMs, () => this.expire(w)) };
      this.register(w);
    });
  }

  /**
   * Propose every queued apply() as one batch: one append per follower instead of one per call
   * (hashicorp batches its applyCh the same way). The loop does it before taking each Ready, so a
   * command waits no longer than it did when proposed at once: its append left with the next Ready anyway.
   */
  private proposeQueued(): void {
    if (this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    const r = this.node.propose(batch.map((q) => q.cmd));
    if (!r.ok) {
      const e = err(this.proposeError(r.error));
      for (const q of batch) {
        q.timer.cancel();
        q.resolve(e);
      }
      return;
    }
    batch.forEach((q, i) => {
      q.index = r.value.firstIndex + i;
      q.term = r.value.term;
      this.register(q);
    });
  }

  private register(w: IndexWaiter): void {
    const old = this.waiters.get(w.index);
    // An older proposal at this index was overwritten by a newer leader's log: outcome unknown.
    if (old) {
      old.timer.cancel();
      old.resolve(err({ kind: 'leadershipLost' }));
    }
    this.waiters.set(w.index, w);
  }

  private expire(w: IndexWaiter): void {
    if (w.index === 0) this.queued = this.queued.filter((q) => q !== w);
    else if (this.waiters.get(w.index) === w) this.waiters.delete(w.index);
    else return;
    w.resolve(err({ kind: 'timeout' }));
  }

  private proposeError(e: ProposeError): RaftError {
    if (e === 'notLeader') return { kind: 'notLeader', leader: this.leader() };
    return { kind: 'rejected', reason: e };
  }

  /** A quorum-confirmed read index; with waitApplied, resolves once max(it, floor) is applied here. */
  private readIndex(waitApplied: boolean, timeoutMs: number, floor: number): Promise<Result<number, RaftError>> {
    if (this.stopped) return Promise.resolve(err({ kind: 'shutdown' }));
    const context = `${this.deps.id}/${++this.readCounter}`;
    const r = this.node.readIndex(context);
    if (!r.ok) return Promise.resolve(err(this.proposeError(r.error)));
    this.kick();
    return new Promise((outer) => {
      let settled = false;
      // Settles once, whether by read state, apply progress, timeout or shutdown.
      const resolve = (res: Result<number, RaftError>): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        this.readWaiters.delete(context);
        outer(res);
      };
      const timer = this.deps.clock.setTimer(timeoutMs, () => resolve(err({ kind: 'timeout' })));
      this.readWaiters.set(context, { waitApplied, floor, resolve, timer });
    });
  }

  private bestTransferTarget(): NodeId | undefined {
    const voters = new Set(this.node.confState.voters);
    let best: { id: NodeId; match: number } | undefined;
    for (const p of this.node.status().progress) {
      if (p.id === this.deps.id || !voters.has(p.id)) continue;
      if (!best || p.match > best.match) best = { id: p.id, match: p.match };
    }
    return best?.id;
  }

  private kick(): void {
    if (this.loopScheduled || this.inLoop || this.stopped) return;
    this.loopScheduled = true;
    queueMicrotask(() => {
      this.loopScheduled = false;
      void this.runLoop();
    });
  }

  private async runLoop(): Promise<void> {
    if (this.inLoop) return;
    this.inLoop = true;
    try {
      while (!this.stopped) {
        this.proposeQueued();
        if (!this.node.hasReady()) break;
        const rd = this.node.ready();
        await this.handleReady(rd);
        if (this.stopped) return;
        this.node.advance(rd);
      }
    } finally {
      this.inLoop = false;
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    // The term first, so leader observations carry the term they belong to.
    if (rd.hardState && rd.hardState.term !== this.term) {
      this.term = rd.hardState.term;
      this.m.term.set(this.term);
    }
    if (rd.softState) this.onSoftState(rd.softState);
    // A leader may send its new entries while it writes them (thesis §10.2.1): its own copy counts
    // towards commit, but nothing commit-dependent leaves the node before this flush is done,
    // because the next Ready is taken only after it. Votes and term changes still persist first.
    const voteOrTermChanged = rd.hardState !== null && (rd.hardState.term !== this.persisted.term || rd.hardState.vote !== this.persisted.vote);
    const sendFirst = this.soft.role === 'leader' && !voteOrTermChanged && rd.snapshot === null;
    if (sendFirst) this.send(rd.messages);
    if (rd.snapshot && !(await this.installSnapshot(rd.snapshot))) return;
    this.storage.log.storeLogs(rd.entries);
    if (rd.hardState) {
      this.storage.setHardState(rd.hardState);
      this.m.commit.set(rd.hardState.commit);
    }
    // Committed entries are durable on a quorum already (a leader counts its own copy only once it
    // is durable, followers only acknowledge durable entries), so they apply while this node's own
    // write is flushed, as etcd's server does; their results may leave at once.
    for (const e of rd.committedEntries) this.applyEntry(e);
    for (const rs of rd.readStates) this.onReadState(rs.context, rs.index);
    this.resolveAppliedWaiters();
    if (rd.mustSync || rd.snapshot) {
      await this.storage.sync();
      this.m.fsyncs.inc();
      this.m.batch.observe(rd.entries.length);
    }
    if (rd.hardState) this.persisted = rd.hardState;
    if (this.stopped) return;
    // Persist-before-send: everything this Ready promises is durable now.
    if (!sendFirst) this.send(rd.messages);
    // Here, after the flush: a snapshot at `applied` must not cover entries this node may still lose.
    if (this.applied - this.storage.snapshot().meta.index >= this.config.snapshotThreshold && !this.snapshotting) {
      void this.snapshot();
    }
  }

  private send(messages: readonly Message[]): void {
    for (const msg of messages) {
      const address = this.addressOf(msg.to);
      if (address === undefined) {
        this.m.dropped.inc();
        continue;
      }
      this.deps.transport.send(address, msg);
    }
  }

  private addressOf(id: NodeId): string | undefined {
    return this.deps.resolveAddress?.(id) ?? this.addresses.get(id);
  }

  private onSoftState(s: SoftState): void {
    const prev = this.soft;
    this.soft = s;
    if (prev.role !== s.role) this.emit({ type: 'state', state: s.role });
    if (prev.leader !== s.leader) {
      this.m.leaderChanges.inc();
      this.log.info({ leader: s.leader, role: s.role }, 'leader changed');
      this.emit({ type: 'leader', leader: this.leader(), term: this.term });
    }
  }

  /** False when the snapshot cannot be read: the node stops rather than run with a wrong state. */
  private async installSnapshot(snap: Snapshot): Promise<boolean> {
    try {
      this.restoreFrom(snap);
    } catch (e) {
      this.log.error({ index: snap.meta.index, error: String(e) }, 'snapshot from the leader is unreadable; stopping this raft node');
      await this.shutdown();
      return false;
    }
    await this.storage.snapshots.save(snap);
    this.storage.installSnapshot(snap);
    this.appliedConf = snap.meta.confState;
    this.saveAddresses();
    this.m.snapshots.inc({ kind: 'installed' });
    this.log.info({ index: snap.meta.index, term: snap.meta.term }, 'snapshot installed from leader');
    // Proposals the snapshot covers may or may not be in it.
    for (const [index, w] of this.waiters) {
      if (index > snap.meta.index) continue;
      w.timer.cancel();
      w.resolve(err({ kind: 'leadershipLost' }));
      this.waiters.delete(index);
    }
    return true;
  }

  /** Load the FSM and the address book from a snapshot (or start empty for index 0). */
  private restoreFrom(snap: Snapshot): void {
    const saved = this.storage.stable.get(ADDRS_KEY);
    if (saved) for (const [id, a] of Object.entries(packr.unpack(saved) as Record<string, string>)) this.addresses.set(id, a);
    if (snap.data.length > 0) {
      const v = packr.unpack(snap.data) as { fsm?: unknown; addresses?: unknown } | null;
      const data = toBytes(v?.fsm);
      if (!data) throw new Error('snapshot without FSM data');
      if (snap.meta.index > 0) this.deps.fsm.restore(data);
      const addrs = v?.addresses;
      if (typeof addrs === 'object' && addrs !== null) {
        for (const [id, a] of Object.entries(addrs)) if (typeof a === 'string') this.addresses.set(id, a);
      }
    }
    this.applied = snap.meta.index;
  }

  private wrapSnapshot(fsmData: Uint8Array): Uint8Array {
    return packr.pack({ fsm: fsmData, addresses: Object.fromEntries(this.addresses) });
  }

  private saveAddresses(): void {
    this.storage.stable.set(ADDRS_KEY, packr.pack(Object.fromEntries(this.addresses)));
  }

  private applyEntry(e: Entry): void {
    assert(e.index === this.applied + 1, `raft: applying ${e.index} after ${this.applied}`);
    this.applied = e.index;
    this.m.applied.inc();
    let result: unknown = undefined;
    if (e.type === 'normal') result = this.deps.fsm.apply({ index: e.index, term: e.term, data: e.data });
    else if (e.type === 'confChange') this.applyConf(e);
    const w = this.waiters.get(e.index);
    if (!w) return;
    this.waiters.delete(e.index);
    w.timer.cancel();
    // Same index and term means the same entry (log matching): it is ours.
    w.resolve(w.term === e.term ? ok(result) : err({ kind: 'leadershipLost' }));
  }

  private applyConf(e: Entry): void {
    const cc = decodeConfChange(e.data);
    if (!cc.ok) {
      this.log.error({ index: e.index, why: cc.error }, 'undecodable configuration entry');
      return;
    }
    const next = applyConfChange(this.appliedConf, cc.value);
    if (!next.ok) return; // The core refused it too; it changes nothing.
    this.appliedConf = next.value;
    const { nodeId, context } = cc.value;
    if (context !== '') this.addresses.set(nodeId, context);
    this.saveAddresses();
    const change = cc.value.type === 'removeNode' ? 'removed' : cc.value.type === 'addVoter' ? 'voter' : 'nonvoter';
    this.emit({ type: 'peer', id: nodeId, address: this.addresses.get(nodeId) ?? '', change });
  }

  private onReadState(context: string, index: number): void {
    const w = this.readWaiters.get(context);
    if (!w) return;
    this.readWaiters.delete(context);
    if (index === 0) w.resolve(err({ kind: 'notLeader', leader: this.leader() }));
    else if (!w.waitApplied) w.resolve(ok(index));
    else {
      const target = Math.max(index, w.floor);
      if (this.applied >= target) w.resolve(ok(target));
      else this.appliedWaiters.push({ index: target, resolve: w.resolve });
    }
  }

  private resolveAppliedWaiters(): void {
    if (this.appliedWaiters.length === 0) return;
    const still: typeof this.appliedWaiters = [];
    for (const w of this.appliedWaiters) {
      if (w.index <= this.applied) w.resolve(ok(w.index));
      else still.push(w);
    }
    this.appliedWaiters = still;
  }

  private emit(o: Observation): void {
    for (const obs of this.observers) obs(o);
  }
}
