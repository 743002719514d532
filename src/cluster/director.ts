/**
 * The director runs on the Raft leader only. It grants node leases, turns what it learns
 * (renewals, SWIM deaths, silence) into committed membership entries, proposes node reports, fires
 * the AMF timers recorded in the FSM, and runs fencing. It holds no state that matters across a
 * leader change: a new leader rebuilds everything from the FSM and its own clock.
 *
 * Lease safety (docs/split-brain.md): a renewal is granted only after a Raft barrier that started
 * after it was received (so this node was still the leader, and every entry of earlier terms,
 * including a down of that incarnation, is applied). A lost node is declared down only once
 *   max(leaderSince, last granted renewal received) + leaseMs + leaseMarginMs
 * has passed on this node's clock, and no renewal of that incarnation is granted after that
 * decision. Fencing confirmed by the fencer skips the wait.
 */
import { Counter, type Registry } from 'prom-client';
import type { Raft } from '../raft/driver/raft.js';
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { DatagramAddress } from '../runtime/ports/datagram.js';
import type { Logger } from '../runtime/ports/observability.js';
import { encodeEntry, type ClusterEntry } from './entries.js';
import type { Fencer } from './executor.js';
import { notDone, type ClientResult } from './forward.js';
import type { ApplyResult, ClusterFsm } from './fsm.js';
import type { ClusterSettings } from './options.js';
import { encodeWire, type RenewMsg } from './wire.js';
import { must } from '../util/assert.js';

/** Outstanding challenges kept at most (one per joining incarnation; a flood of them is forgotten). */
const MAX_CHALLENGES = 1024;

export interface DirectorDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly raft: () => Raft | undefined;
  readonly fsm: ClusterFsm;
  readonly settings: ClusterSettings;
  readonly send: (to: DatagramAddress, data: Uint8Array) => void;
  /** SWIM says the node is dead or left (it may still be alive behind a partition). */
  readonly isDead: (node: string) => boolean;
  /** The node is a live SWIM member (renewals from anyone else are ignored). */
  readonly isMember: (node: string) => boolean;
  readonly fencer?: Fencer;
}

interface PendingGrant {
  readonly msg: RenewMsg;
  readonly from: DatagramAddress;
  readonly receivedAt: number;
}


export class Director {
  /** Local clock time this node became leader (undefined: not leader). */
  leaderSince: number | undefined;
  /** Receive time of the last granted renewal, per node (this term only). */
  private readonly leaseReceived = new Map<string, number>();
  /** Last time any message came from the node (this term only). */
  private readonly lastHeard = new Map<string, number>();
  /** Highest renewal seq received per node, with its incarnation (this term only): older ones are replays or late. */
  private readonly lastRenew = new Map<string, { readonly inc: string; readonly seq: number }>();
  /** Challenges to incarnations the FSM does not know yet (`node|inc`), this term only; see onRenew. */
  private readonly challenges = new Map<string, string>();
  private challengeSeq = 0;
  /** Incarnations this leader decided to let expire: never granted again. */
  private readonly condemned = new Map<string, string>();
  private pendingGrants: PendingGrant[] = [];
  private barrierRunning = false;
  private readonly inFlight = new Set<string>();
  /** Highest report seq proposed per node incarnation (`node|inc`). */
  private readonly proposedReports = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; handle: TimerHandle }>();
  private readonly fencing = new Set<string>();
  /** Incarnations whose fencing failed: not retried, the lease path decides (`node|inc`). */
  private readonly fenceFailed = new Set<string>();
  private ticker: TimerHandle | undefined;
  private readonly log: Logger;
  private readonly m: { grants: Counter; downs: Counter; ignored: Counter; stale: Counter; proposals: Counter<'type' | 'outcome'> };

  constructor(private readonly d: DirectorDeps) {
    this.log = d.logger.child({ module: 'cluster.director' });
    const registers = [d.metrics];
    this.m = {
      grants: new Counter({ name: 'amf_cluster_lease_grants_total', help: 'Lease renewals granted by this node as leader', registers }),
      downs: new Counter({ name: 'amf_cluster_node_down_total', help: 'Node incarnations declared down by this node as leader', registers }),
      ignored: new Counter({ name: 'amf_cluster_renewals_ignored_total', help: 'Renewals from names that are not live SWIM members', registers }),
      stale: new Counter({ name: 'amf_cluster_renewals_stale_total', help: 'Renewals no newer than one already received from that incarnation (duplicates, replays)', registers }),
      proposals: new Counter({ name: 'amf_cluster_proposals_total', help: 'Entries proposed by the director', labelNames: ['type', 'outcome'], registers }),
    };
  }

  start(): void {
    this.ticker = this.d.clock.setPeriodic(this.d.settings.tickMs, () => this.tick());
  }

  stop(): void {
    this.ticker?.cancel();
    this.stepDown();
  }

  /** Leadership changed (from the Raft observer). */
  setLeader(isLeader: boolean): void {
    if (isLeader && this.leaderSince === undefined) {
      this.leaderSince = this.d.clock.now();
      this.log.info('leader: directing; nodes may hold leases of the previous leader until leaderSince + lease + margin');
      this.syncTimers();
    } else if (!isLeader && this.leaderSince !== undefined) this.stepDown();
  }

  private stepDown(): void {
    this.leaderSince = undefined;
    this.leaseReceived.clear();
    this.lastHeard.clear();
    this.lastRenew.clear();
    this.challenges.clear();
    this.condemned.clear();
    this.pendingGrants = [];
    this.proposedReports.clear();
    for (const t of this.timers.values()) t.handle.cancel();
    this.timers.clear();
  }

  /** Propose an entry (leader only), stamped with this node's wall clock. */
  async propose(entry: ClusterEntry): Promise<ClientResult> {
    const raft = this.d.raft();
    if (!raft) return notDone('not-started', 'raft not started');
    const r = await raft.apply(encodeEntry(entry), this.d.settings.proposeTimeoutMs);
    this.m.proposals.inc({ type: entry.type, outcome: r.ok ? 'committed' : r.error.kind });
    return r.ok ? { ok: true, result: r.value as ApplyResult } : notDone(r.error.kind);
  }

  /** Propose once per key at a time (membership of a node, a timer, a fencing decision). */
  private proposeOnce(key: string, entry: ClusterEntry): void {
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    void this.propose(entry).then((r) => {
      this.inFlight.delete(key);
      if (!r.ok) this.log.debug({ key, error: r.error }, 'proposal failed');
      else if (!r.result.ok) this.log.debug({ key, error: r.result.error }, 'proposal refused by the FSM');
    });
  }

  /** After the local FSM applied entries: re-arm timers, nothing else (the tick does the rest). */
  onApplied(): void {
    if (this.leaderSince !== undefined) this.syncTimers();
  }

  // Renewals ---------------------------------------------------------------------------------

  onRenew(msg: RenewMsg, from: DatagramAddress): void {
    if (this.leaderSince === undefined) return;
    if (!this.d.isMember(msg.node)) {
      this.m.ignored.inc();
      return;
    }
    // A renewal no newer than one already received is a duplicate or a replay: it proves nothing.
    const last = this.lastRenew.get(msg.node);
    if (last?.inc === msg.inc && msg.seq <= last.seq) {
      this.m.stale.inc();
      return;
    }
    this.lastRenew.set(msg.node, { inc: msg.inc, seq: msg.seq });
    const now = this.d.clock.now();
    this.lastHeard.set(msg.node, now);
    const n = this.d.fsm.state.nodes[msg.node];
    const wall = this.d.clock.wallTime();
    if (n?.inc === msg.inc && !n.up) {
      this.d.send(from, encodeWire({ t: 'deny', inc: msg.inc, seq: msg.seq, reason: 'stale' }));
      return;
    }
    if (n?.inc !== msg.inc) return this.newIncarnation(msg, from, wall);
    this.proposeReports(msg, n.reportSeq, wall);
    this.pendingGrants.push({ msg, from, receivedAt: now });
    this.runBarrier();
  }

  /**
   * A new incarnation cleaned up before it spoke, so an older one is gone for sure and the FSM may
   * take it down at once. But a renewal of an incarnation the FSM does not know may also be an old
   * one's, replayed (or delayed) from before the node's last restart: taking the current incarnation
   * down on its word would run its SIs twice. So the incarnation first echoes a challenge this
   * leader made up for it (unique: term and counter), which only a live one can do, since renewals
   * are sealed and a recorded one carries an older challenge or none.
   */
  private newIncarnation(msg: RenewMsg, from: DatagramAddress, wall: number): void {
    const key = `${msg.node}|${msg.inc}`;
    const issued = this.challenges.get(key);
    if (issued !== undefined && msg.challenge === issued) {
      this.challenges.delete(key);
      this.proposeOnce(`membership:${msg.node}`, { type: 'membership', time: wall, node: msg.node, change: 'up', inc: msg.inc, reason: 'joined' });
      this.d.send(from, encodeWire({ t: 'deny', inc: msg.inc, seq: msg.seq, reason: 'wait' }));
      return;
    }
    if (this.challenges.size >= MAX_CHALLENGES) this.challenges.clear();
    const challenge = issued ?? `${this.d.raft()?.currentTerm ?? 0}.${++this.challengeSeq}`;
    this.challenges.set(key, challenge);
    this.d.send(from, encodeWire({ t: 'deny', inc: msg.inc, seq: msg.seq, reason: 'wait', challenge }));
  }

  private proposeReports(msg: RenewMsg, applied: number, wall: number): void {
    const key = `${msg.node}|${msg.inc}`;
    const from = Math.max(applied, this.proposedReports.get(key) ?? 0);
    const items = msg.reports.filter((r) => r.seq > from);
    if (items.length === 0) return;
    const last = must(items[items.length - 1], 'items is not empty').seq;
    this.proposedReports.set(key, last);
    void this.propose({ type: 'reports', time: wall, node: msg.node, inc: msg.inc, items, executedThrough: msg.executedThrough }).then((r) => {
      // Not committed: let the next renewal carry them again.
      if (!r.ok && this.proposedReports.get(key) === last) this.proposedReports.set(key, applied);
    });
  }

  /** One barrier at a time covers every renewal received before it started. */
  private runBarrier(): void {
    const raft = this.d.raft();
    if (this.barrierRunning || this.pendingGrants.length === 0 || !raft) return;
    this.barrierRunning = true;
    const batch = this.pendingGrants;
    this.pendingGrants = [];
    void raft.barrier(this.d.settings.proposeTimeoutMs).then((r) => {
      this.barrierRunning = false;
      if (r.ok && this.leaderSince !== undefined) for (const g of batch) this.grant(g);
      this.runBarrier();
    });
  }

  private grant(g: PendingGrant): void {
    const { msg } = g;
    const n = this.d.fsm.state.nodes[msg.node];
    if (!n?.up || n.inc !== msg.inc) return;
    if (this.condemned.get(msg.node) === msg.inc || this.d.fsm.state.condemned[msg.node] === msg.inc) return;
    this.leaseReceived.set(msg.node, Math.max(this.leaseReceived.get(msg.node) ?? -Infinity, g.receivedAt));
    this.m.grants.inc();
    this.d.send(g.from, encodeWire({ t: 'grant', inc: msg.inc, seq: msg.seq, reportSeq: n.reportSeq }));
  }

  /** When a node incarnation's lease has surely expired, by this leader's clock. */
  safeDownAt(node: string): number {
    const since = this.leaderSince ?? Infinity;
    return Math.max(since, this.leaseReceived.get(node) ?? -Infinity) + this.d.settings.leaseMs + this.d.settings.leaseMarginMs;
  }

  // Housekeeping -----------------------------------------------------------------------------

  private tick(): void {
    if (this.leaderSince === undefined) return;
    const now = this.d.clock.now();
    const wall = this.d.clock.wallTime();
    const s = this.d.fsm.state;
    for (const [node, n] of Object.entries(s.nodes)) {
      if (!n.up) continue;
      const heard = this.lastHeard.get(node) ?? this.leaderSince;
      const fenceReason = s.fenceRequests[node];
      const lost = this.d.isDead(node) || now - heard > this.d.settings.lostAfterMs;
      if (fenceReason !== undefined || (lost && this.d.fencer)) this.fence(node, n.inc, fenceReason ?? 'node lost');
      if (fenceReason !== undefined && !this.d.fencer && s.condemned[node] !== n.inc) {
        // Nobody can power it off: stop renewing its lease, so it stops its components itself.
        this.condemned.set(node, n.inc);
        this.proposeOnce(`fencing:${node}`, { type: 'fencing', time: wall, node, action: 'condemned', reason: fenceReason });
      }
      const condemned = this.condemned.get(node) === n.inc || s.condemned[node] === n.inc;
      if ((lost || condemned) && now >= this.safeDownAt(node)) {
        this.condemned.set(node, n.inc);
        this.m.downs.inc();
        this.proposeOnce(`membership:${node}`, { type: 'membership', time: wall, node, change: 'down', inc: n.inc, reason: condemned ? 'condemned, lease expired' : 'lost, lease expired' });
      }
    }
  }

  private fence(node: string, inc: string, reason: string): void {
    const fencer = this.d.fencer;
    if (!fencer || this.fencing.has(node) || this.fenceFailed.has(`${node}|${inc}`)) return;
    this.fencing.add(node);
    this.log.warn({ node, reason }, 'fencing node');
    void fencer.fence(node, reason).then((r) => {
      this.fencing.delete(node);
      if (this.leaderSince === undefined) return;
      if (!r.ok) {
        this.fenceFailed.add(`${node}|${inc}`);
        this.log.error({ node, error: r.error }, 'fencing failed; waiting for the lease to expire instead');
      }
      // Only the incarnation we meant: a node back meanwhile is a new one.
      if (this.d.fsm.state.nodes[node]?.inc !== inc) return;
      const wall = this.d.clock.wallTime();
      this.proposeOnce(`fencing:${node}`, { type: 'fencing', time: wall, node, action: r.ok ? 'confirmed' : 'failed', reason: r.ok ? reason : r.error });
    });
  }

  /** Arm a local timer for every AMF timer the FSM holds, at its committed due time. */
  private syncTimers(): void {
    const want = this.d.fsm.state.timers;
    for (const [id, t] of this.timers) {
      if (want[id] !== t.at) {
        t.handle.cancel();
        this.timers.delete(id);
      }
    }
    for (const [id, at] of Object.entries(want)) {
      if (this.timers.has(id)) continue;
      const delay = Math.max(0, at - this.d.clock.wallTime());
      const handle = this.d.clock.setTimer(delay, () => {
        this.proposeOnce(`timer:${id}`, { type: 'timer', time: Math.max(at, this.d.clock.wallTime()), id, at });
        // Re-armed by syncTimers if the expiry did not commit (leader change, timeout).
        handle.cancel();
        this.d.clock.setTimer(this.d.settings.proposeTimeoutMs, () => {
          if (this.timers.get(id)?.handle === handle) this.timers.delete(id);
          if (this.leaderSince !== undefined) this.syncTimers();
        });
      });
      this.timers.set(id, { at, handle });
    }
  }
}
