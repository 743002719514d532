/**
 * The node side of the cluster: this node's lease, the execution of the committed commands for its
 * own components, and its reports on their way to the leader.
 *
 * Lease: the node counts from the moment it SENT the renewal the leader granted, so its lease ends
 * before the leader (which counts from when it received the renewal, plus a drift margin) believes
 * it has. The node executes commands only while it holds the lease, and starts stopping a stop
 * budget before the lease ends (the executor's watchdog kills at the end). When it runs out:
 * - policy `stop`: stop every component, then come back as a new incarnation (the leader declares
 *   the old one down at once when the new one speaks: it proves the old one is gone);
 * - policy `freeze`: keep the components running unsupervised (no commands executed) until the
 *   leader grants again, or says this incarnation was declared down (then as `stop`).
 * A node never replays history: after a restart it is a new incarnation, and only commands issued
 * to that incarnation are executed.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { DatagramAddress } from '../runtime/ports/datagram.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { Random } from '../runtime/ports/random.js';
import type { AgentReport, ReportItem } from './entries.js';
import type { CommandExecutor } from './executor.js';
import type { ClusterFsm } from './fsm.js';
import type { ClusterSettings } from './options.js';
import { encodeWire, type DenyMsg, type GrantMsg } from './wire.js';

export type NodePhase = 'resetting' | 'joining' | 'active' | 'frozen' | 'stopped';

/** Reports per renew datagram (the rest follow in the next ones). */
const REPORTS_PER_RENEW = 32;
/** Renewals remembered for their send times (older grants are useless anyway). */
const SENT_KEEP = 64;

export interface NodeRuntimeDeps {
  readonly nodeName: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly fsm: ClusterFsm;
  readonly executor: CommandExecutor;
  readonly settings: ClusterSettings;
  /** The current leader's lease endpoint, if known. */
  readonly leaderRpc: () => DatagramAddress | undefined;
  readonly send: (to: DatagramAddress, data: Uint8Array) => void;
}

export class NodeRuntime {
  private current: NodePhase = 'resetting';
  private readonly phaseListeners: Array<(p: NodePhase) => void> = [];
  /** This incarnation's id ('' while resetting). */
  inc = '';
  /** Local clock time this node stops acting: its lease end minus the stop budget. */
  leaseUntil = -Infinity;
  private seq = 0;
  /** The leader's challenge to this incarnation, echoed in renewals until it is up (Director.onRenew). */
  private challenge: string | undefined;
  private readonly sentAt = new Map<number, number>();
  private outbox: ReportItem[] = [];
  private lastReport = 0;
  private executed = 0;
  private epoch = -1;
  private ticker: TimerHandle | undefined;
  private expiry: TimerHandle | undefined;
  private readonly log: Logger;
  private readonly m: { lost: Counter; executed: Counter; held: Gauge };

  constructor(private readonly d: NodeRuntimeDeps) {
    this.log = d.logger.child({ module: 'cluster.node' });
    const registers = [d.metrics];
    this.m = {
      lost: new Counter({ name: 'amf_cluster_lease_lost_total', help: 'Times this node lost its lease', registers }),
      executed: new Counter({ name: 'amf_cluster_commands_executed_total', help: 'Committed commands executed on this node', registers }),
      held: new Gauge({ name: 'amf_cluster_lease_held', help: '1 while this node holds a lease', registers, collect: () => this.m.held.set(this.holdsLease() ? 1 : 0) }),
    };
    d.executor.onReport((r) => this.report(r));
  }

  get phase(): NodePhase {
    return this.current;
  }

  private set phase(p: NodePhase) {
    if (p === this.current) return;
    this.current = p;
    for (const l of this.phaseListeners) l(p);
  }

  /** Called on every phase change (the API's live status); listeners must not throw. */
  onPhase(listener: (p: NodePhase) => void): void {
    this.phaseListeners.push(listener);
  }

  start(): void {
    this.ticker = this.d.clock.setPeriodic(this.d.settings.renewIntervalMs, () => this.renew());
    void this.reset('start');
  }

  stop(): void {
    this.phase = 'stopped';
    this.ticker?.cancel();
    this.expiry?.cancel();
  }

  holdsLease(): boolean {
    return this.d.clock.now() < this.leaseUntil;
  }

  /** The local FSM applied entries: execute what is new for this incarnation. */
  onApplied(): void {
    if (this.phase !== 'active' || !this.holdsLease()) return;
    const fsm = this.d.fsm;
    const me = fsm.state.nodes[this.d.nodeName];
    if (!me?.up || me.inc !== this.inc) return;
    if (fsm.state.epoch !== this.epoch) {
      this.epoch = fsm.state.epoch;
      this.d.executor.setModel(fsm.model);
    }
    for (const p of fsm.pendingFor(this.d.nodeName, this.inc, this.executed)) {
      this.executed = p.seq;
      this.m.executed.inc();
      this.d.executor.execute(p.cmd);
    }
  }

  onGrant(g: GrantMsg): void {
    const sent = this.sentAt.get(g.seq);
    if (g.inc !== this.inc || sent === undefined || (this.phase !== 'joining' && this.phase !== 'active' && this.phase !== 'frozen')) return;
    this.outbox = this.outbox.filter((r) => r.seq > g.reportSeq);
    const end = sent + this.d.settings.leaseMs;
    // Act only until the stop budget before the end, so stopping is done by the end.
    const until = end - this.d.settings.stopBudgetMs;
    if (until <= this.leaseUntil) return;
    this.leaseUntil = until;
    if (this.d.settings.leasePolicy === 'stop') this.d.executor.leaseUntil?.(end);
    if (this.phase !== 'active') this.log.info({ inc: this.inc, phase: this.phase }, 'lease granted');
    this.phase = 'active';
    this.expiry?.cancel();
    this.expiry = this.d.clock.setTimer(Math.max(0, until - this.d.clock.now()), () => this.checkExpiry());
    this.onApplied();
  }

  onDeny(m: DenyMsg): void {
    if (m.inc !== this.inc) return;
    if (m.reason === 'wait' && m.challenge !== undefined && m.challenge !== this.challenge && this.phase === 'joining') {
      this.challenge = m.challenge;
      this.renew();
      return;
    }
    if (m.reason !== 'stale') return;
    if (this.phase === 'joining' || this.phase === 'active' || this.phase === 'frozen') void this.reset('the leader declared this incarnation down');
  }

  private checkExpiry(): void {
    if (this.phase !== 'active') return;
    if (this.holdsLease()) {
      // A real timer may fire a little early: check again at the end.
      this.expiry = this.d.clock.setTimer(Math.max(1, this.leaseUntil - this.d.clock.now()), () => this.checkExpiry());
      return;
    }
    this.m.lost.inc();
    if (this.d.settings.leasePolicy === 'freeze') {
      this.log.warn({ inc: this.inc }, 'lease expired: components keep running unsupervised (policy freeze)');
      this.phase = 'frozen';
      return;
    }
    void this.reset('lease expired (policy stop)');
  }

  private async reset(why: string): Promise<void> {
    this.log.warn({ inc: this.inc, why }, 'stopping every component of this node');
    this.phase = 'resetting';
    this.inc = '';
    this.leaseUntil = -Infinity;
    this.expiry?.cancel();
    this.outbox = [];
    this.sentAt.clear();
    await this.d.executor.resetAll();
    // Disarmed only now: a stop slower than the stop budget is cut short by the watchdog at the lease end.
    this.d.executor.leaseUntil?.(-Infinity);
    // Disarmed only now: a stop slower than the stop budget is cut short by the watchdog at the lease end.
    this.d.executor.leaseUntil?.(-Infinity);
    if (this.phase !== 'resetting') return; // stopped meanwhile
    this.inc = [...this.d.random.bytes(6)].map((b) => b.toString(16).padStart(2, '0')).join('');
    this.seq = 0;
    this.challenge = undefined;
    this.lastReport = 0;
    this.executed = 0;
    this.epoch = -1;
    this.phase = 'joining';
    this.log.info({ inc: this.inc }, 'joining as a new incarnation');
    this.renew();
  }

  private report(r: AgentReport): void {
    // Answers that arrive while no incarnation is up belong to one that is gone.
    if (this.phase !== 'active' && this.phase !== 'frozen') return;
    this.outbox.push({ seq: ++this.lastReport, input: r });
    this.renew();
  }

  private renew(): void {
    if (this.phase === 'resetting' || this.phase === 'stopped') return;
    const to = this.d.leaderRpc();
    if (to === undefined) return;
    const seq = ++this.seq;
    this.sentAt.set(seq, this.d.clock.now());
    this.sentAt.delete(seq - SENT_KEEP);
    this.d.send(
      to,
      encodeWire({
        t: 'renew',
        node: this.d.nodeName,
        inc: this.inc,
        seq,
        reports: this.outbox.slice(0, REPORTS_PER_RENEW),
        executedThrough: this.executed,
        ...(this.challenge !== undefined && this.phase === 'joining' ? { challenge: this.challenge } : {}),
      }),
    );
  }
}
