/**
 * A node's own comings and goings in the cluster, on the ports (the daemon and the simulator run
 * the same policy):
 *
 * - First configuration: while the cluster has none (epoch 0), propose the bootstrap groups.conf
 *   as a compare-and-set on epoch 0, after waiting (bounded) for `bootstrapExpect` nodes to be up
 *   so the first placement spreads the SUs. Every node of a fresh cluster may try: one wins, the
 *   others are refused, and a cluster that has a configuration is never overwritten.
 * - Leaving (graceful stop, policy `stop`): lock this node so the AMF switches its SIs over to
 *   the standbys (no lease wait, no double active), bounded in time; then hand Raft leadership
 *   over. The lock is replicated, so a marker blob makes the next start unlock the node.
 * - Rejoining: after a stop that locked the node, unlock it once the cluster has it up again.
 */
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { BlobStore } from '../runtime/ports/storage.js';
import type { Result } from '../util/result.js';
import type { ClusterNode } from './node.js';

/** Present while this node is locked by its own graceful stop. */
export const UNLOCK_MARKER = 'unlock-on-start';
/** How often the hand-over checks whether this node's SIs have moved. */
const HANDOVER_POLL_MS = 50;

export interface LifecycleOptions {
  readonly node: ClusterNode;
  readonly clock: Clock;
  /** Where the unlock marker lives (the node's durable blobs). */
  readonly blobs: BlobStore;
  readonly logger: Logger;
  /** The groups.conf to commit while the cluster has none, read again at each try. None: never propose one. */
  readonly firstConfig?: () => Result<string, readonly string[]>;
}

export class NodeLifecycle {
  private readonly timers = new Set<TimerHandle>();
  private stopped = false;
  private readonly log: Logger;
  private readonly me: string;

  constructor(private readonly o: LifecycleOptions) {
    this.log = o.logger.child({ module: 'cluster.lifecycle' });
    this.me = o.node.name;
  }

  /** After the node started: propose the first configuration if need be, unlock after a graceful restart. */
  async start(): Promise<void> {
    if (this.o.firstConfig) this.proposeFirstConfig(this.o.firstConfig);
    if ((await this.o.blobs.read(UNLOCK_MARKER)) !== undefined) this.unlockAfterRestart();
  }

  /** Stop proposing and unlocking (before the node stops). Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  /**
   * Graceful stop: hand this node's SIs over (policy `stop`; with `freeze` the components are left
   * running and keep them), then Raft leadership. Resolves when done or out of time.
   */
  async leave(): Promise<void> {
    this.stop();
    if (this.o.node.settings.leasePolicy === 'stop') await this.handOver();
    const raft = this.o.node.raft;
    if (raft?.state() === 'leader') {
      const t = await raft.leadershipTransfer(this.o.node.settings.leadershipTransferMs);
      this.log.info({ result: t.ok ? { leader: t.value.id } : t.error }, 'leadership transfer');
    }
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const t = this.o.clock.setTimer(ms, () => {
      this.timers.delete(t);
      fn();
    });
    this.timers.add(t);
  }

  private proposeFirstConfig(read: () => Result<string, readonly string[]>): void {
    const { node, clock } = this.o;
    const s = node.settings;
    const since = clock.now();
    const tick = (): void => {
      if (this.stopped || node.fsm.state.epoch > 0) return;
      const up = Object.values(node.fsm.state.nodes).filter((n) => n.up).length;
      if (up < s.bootstrapExpect && clock.now() - since < s.firstConfigWaitMs) return this.later(s.firstConfigRetryMs / 5, tick);
      const text = read();
      if (!text.ok) {
        this.log.error({ errors: text.error }, 'the bootstrap configuration became invalid; not proposing it');
        return;
      }
      void node.setConfig(text.value, 0).then((r) => {
        if (r.ok && r.result.ok) this.log.info('initial configuration committed');
        else if (node.fsm.state.epoch === 0) this.later(s.firstConfigRetryMs, tick);
      });
    };
    this.later(0, tick);
  }

  private async handOver(): Promise<void> {
    const { node, clock, blobs } = this.o;
    const me = this.me;
    if (assignedSus(node, me).length === 0 || node.fsm.state.amf.nodes[me]?.admin !== 'unlocked') return;
    const sus = node.fsm.state.amf.sus;
    const mine = [...new Set(assignedSus(node, me).flatMap((su) => Object.entries(sus[su]?.assignments ?? {}).filter(([, a]) => a.ha === 'active').map(([si]) => si)))];
    const r = await node.admin('lock', { type: 'node', name: me });
    const failed = !r.ok ? r.error : !r.result.ok ? r.result.error : undefined;
    if (failed !== undefined) {
      this.log.warn({ error: failed }, 'hand-over: locking this node failed; its SIs move after the lease instead');
      return;
    }
    await blobs.write(UNLOCK_MARKER, new TextEncoder().encode(`${me}\n`));
    const sleep = (): Promise<void> => new Promise<void>((wake) => clock.setTimer(HANDOVER_POLL_MS, wake));
    const released = (): boolean => assignedSus(node, me).length === 0;
    const done = (): boolean => released() && mine.every((si) => activeElsewhere(node, si, me));
    // First this node's SUs give their assignments up; then the standbys elsewhere take them over
    // (not when an SI's only other SU is on this node too: it waits for the node to leave).
    const until = clock.now() + node.settings.handOverMs;
    while (!released() && clock.now() < until) await sleep();
    const settle = Math.min(until, clock.now() + node.settings.handOverSettleMs);
    while (!done() && clock.now() < settle) await sleep();
    if (done()) this.log.info({ sis: mine }, 'hand-over: every SI of this node was switched over');
    else this.log.warn({ sus: assignedSus(node, me), sis: mine }, 'hand-over incomplete within its bound; the rest is stopped with the node');
  }

  private unlockAfterRestart(): void {
    const { node, blobs } = this.o;
    const retry = node.settings.firstConfigRetryMs;
    const tick = (): void => {
      if (this.stopped) return;
      // Judge the admin state only once this replica has applied this incarnation's join: before
      // that it may not have applied the lock yet.
      const joined = node.fsm.state.nodes[this.me];
      const n = node.fsm.state.amf.nodes[this.me];
      if (joined?.up !== true || joined.inc !== node.runtime.inc || n === undefined) return this.later(retry, tick);
      if (n.admin === 'unlocked') return void blobs.remove(UNLOCK_MARKER);
      void node.admin('unlock', { type: 'node', name: this.me }).then((r) => {
        if (!r.ok || !r.result.ok) return this.later(retry, tick);
        void blobs.remove(UNLOCK_MARKER);
        this.log.info('unlocked this node (it was locked by its last graceful stop)');
      });
    };
    tick();
  }
}

/** SUs placed on `node` that hold any SI assignment, in the local replica. */
function assignedSus(cluster: ClusterNode, node: string): string[] {
  return Object.entries(cluster.fsm.state.amf.sus)
    .filter(([, su]) => su.node === node && Object.keys(su.assignments).length > 0)
    .map(([name]) => name);
}

/** Whether SI `si` is held ACTIVE by an SU on a node other than `node`. */
function activeElsewhere(cluster: ClusterNode, si: string, node: string): boolean {
  return Object.values(cluster.fsm.state.amf.sus).some((su) => su.node !== node && su.assignments[si]?.ha === 'active');
}
