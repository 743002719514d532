/**
 * The guest heartbeat of one amfd: a HostGuestChannel for each local component with a
 * `guest_heartbeat {}` block while it runs, folded into the AMF. A loss, or ill health asking for a
 * corrective action, is an error report on that component with the recovery the guest asked for
 * (reboot: component restart; stop: component failover, i.e. terminated and left stopped until
 * repaired; log: an event and a log line only). Every heartbeat state change is published (the
 * node service puts it in the replicated state). Before an operation stops, restarts or moves a
 * heartbeating guest, the guest votes and is notified (ActionSequence); a reject vetoes it.
 */
import { Counter, Gauge } from 'prom-client';
import type { TerminateIntent, Veto } from '../agent/drivers/driver.js';
import type { ChannelNetwork } from '../runtime/ports/channel.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { Logger, Registry } from '../runtime/ports/observability.js';
import type { Random } from '../runtime/ports/random.js';
import type { Recovery } from '../model/vocabulary.js';
import { ActionSequence, type SequenceEffect } from './action-sequence.js';
import type { LifecycleAction } from './events.js';
import { HostGuestChannel, type ChannelEvent } from './host-channel.js';
import { HB_STATUSES, isHeartbeating, type HbStatus } from './status.js';
import type { ResponseAction } from './wire.js';

/** A local component whose guest is heartbeated, and where its channel is. */
export interface HeartbeatTarget {
  readonly su: string;
  readonly comp: string;
  /** The channel's unix socket (QEMU's server end). */
  readonly channel: string;
}

/** What the host side does to the rest of amfd. */
export interface HeartbeatHostDeps {
  readonly node: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly channels: ChannelNetwork;
  readonly logger: Logger;
  readonly metrics: Registry;
  /** An error report on the component, as the component itself would make it. */
  reportError(su: string, comp: string, recovery: Recovery, reason: string): void;
  /** A guest's heartbeat state changed (for the replicated state). */
  publish(su: string, comp: string, status: HbStatus, reason: string): void;
}

/** The AMF recovery for a guest's corrective action; undefined: log only. */
export function recoveryFor(action: ResponseAction): Recovery | undefined {
  switch (action) {
    case 'stop':
      return 'component-failover';
    case 'log':
      return undefined;
    default:
      // reboot, and what a guest that did not say asks for by default (CORRECTIVE_ACTION reboot).
      return 'component-restart';
  }
}

/**
 * The seed's lifecycle action for an operation on the component, and whether it interrupts the
 * guest: stop and restart do; `move` is a live migration when its reason says so, else the guest
 * keeps running and only loses what it serves (lock, shutdown, swap, switchover), told as `stop`.
 */
export function lifecycleFor(intent: TerminateIntent): { readonly action: LifecycleAction; readonly interrupts: boolean } {
  if (intent.action === 'restart') return { action: 'reboot', interrupts: true };
  if (intent.action === 'stop') return { action: 'stop', interrupts: true };
  return /migrat/i.test(intent.reason) ? { action: 'live-migrate', interrupts: true } : { action: 'stop', interrupts: false };
}

interface Guest {
  readonly target: HeartbeatTarget;
  readonly channel: HostGuestChannel;
  /** No longer heartbeated: what its channel says while closing is not news. */
  dropped: boolean;
}

const key = (su: string, comp: string): string => `${su}/${comp}`;

export class HeartbeatHost {
  private readonly guests = new Map<string, Guest>();
  private readonly log: Logger;
  private readonly gauge: Gauge<'status'>;
  private readonly events: Counter<'event'>;
  private readonly votes: Counter<'result'>;
  private readonly drops: Counter<'reason'>;

  constructor(private readonly deps: HeartbeatHostDeps) {
    this.log = deps.logger.child({ module: 'heartbeat' });
    const registers = [deps.metrics];
    this.gauge = new Gauge({ name: 'amfd_guest_heartbeat_guests', help: 'Heartbeated guests of this node by heartbeat state', labelNames: ['status'], registers, collect: () => this.collect() });
    this.events = new Counter({ name: 'amfd_guest_heartbeat_events_total', help: 'Guest heartbeat losses, ill-health reports and exits', labelNames: ['event'], registers });
    this.votes = new Counter({ name: 'amfd_guest_heartbeat_votes_total', help: 'Votes asked of guests before an operation, by result', labelNames: ['result'], registers });
    this.drops = new Counter({ name: 'amfd_guest_heartbeat_dropped_total', help: 'Guest messages dropped or refused, by reason', labelNames: ['reason'], registers });
  }

  /** Heartbeat exactly these guests: new ones are connected, gone ones stopped. */
  sync(targets: readonly HeartbeatTarget[]): void {
    const want = new Map(targets.map((t) => [key(t.su, t.comp), t]));
    for (const [k, g] of this.guests) {
      const t = want.get(k);
      if (t === undefined || t.channel !== g.target.channel) this.drop(k, g, t === undefined ? 'the component stopped' : 'its channel changed');
    }
    for (const [k, t] of want) if (!this.guests.has(k)) this.add(k, t);
  }

  status(su: string, comp: string): HbStatus | undefined {
    return this.guests.get(key(su, comp))?.channel.status;
  }

  stop(): void {
    for (const [k, g] of this.guests) this.drop(k, g, 'amfd stopping');
  }

  /**
   * Before an operation terminates a component on purpose: a heartbeating guest votes (a reject
   * is a veto with its reason), then is told (irrevocable notification); the host stops counting
   * misses and the operation goes on. A guest that does not heartbeat is neither asked nor told.
   */
  async preTerminate(su: string, comp: string, intent: TerminateIntent): Promise<Veto | undefined> {
    const g = this.guests.get(key(su, comp));
    if (g === undefined) return undefined;
    const params = g.channel.params;
    const { action, interrupts } = lifecycleFor(intent);
    const seq = new ActionSequence(action, { skipVote: false, heartbeating: isHeartbeating(g.channel.status), restartSecs: params?.restartSecs ?? 0, interrupts });
    let effects: SequenceEffect[] = seq.start();
    for (;;) {
      let next: SequenceEffect[] = [];
      for (const e of effects) {
        if (e.kind === 'abort') {
          this.log.info({ su, comp, reason: e.reason }, `the guest of ${key(su, comp)} rejected ${seq.action}: ${e.reason}`);
          return { by: 'guest-heartbeat', reason: `the guest rejected ${seq.action}: ${e.reason}` };
        }
        if (e.kind === 'proceed') return undefined;
        if (e.kind === 'suspend-monitoring') g.channel.suspendMonitoring(`${e.eventType} notified: ${intent.reason}`);
        if (e.kind === 'notify') {
          const sent = g.channel.notify(e.eventType, e.notificationType);
          const outcome = sent.ok ? await sent.value : { result: e.notificationType === 'revocable' ? ('accept' as const) : ('complete' as const), logMsg: '', source: 'timeout' as const };
          if (e.notificationType === 'revocable') this.votes.inc({ result: outcome.result === 'reject' ? 'reject' : outcome.source === 'guest' ? outcome.result : 'silence' });
          next = next.concat(seq.result(outcome.result, outcome.logMsg));
        }
      }
      if (next.length === 0) return undefined;
      effects = next;
    }
  }

  private add(k: string, t: HeartbeatTarget): void {
    const channel = new HostGuestChannel({ id: k, path: t.channel, channels: this.deps.channels, clock: this.deps.clock, random: this.deps.random.fork(k), logger: this.deps.logger });
    const g: Guest = { target: t, channel, dropped: false };
    this.guests.set(k, g);
    channel.onEvent((e) => this.onEvent(g, e));
    channel.start();
    this.log.info({ su: t.su, comp: t.comp, channel: t.channel }, `heartbeating the guest of ${k}`);
  }

  private drop(k: string, g: Guest, why: string): void {
    this.guests.delete(k);
    const was = g.channel.status;
    g.dropped = true;
    g.channel.stop();
    this.log.info({ su: g.target.su, comp: g.target.comp }, `no longer heartbeating the guest of ${k}: ${why}`);
    if (was !== 'disabled') this.deps.publish(g.target.su, g.target.comp, 'disabled', why);
  }

  private onEvent(g: Guest, e: ChannelEvent): void {
    if (g.dropped) return;
    const { su, comp } = g.target;
    switch (e.kind) {
      case 'status':
        this.deps.publish(su, comp, e.to, e.reason);
        return;
      case 'loss':
        this.events.inc({ event: 'loss' });
        return this.fault(su, comp, e.correctiveAction, `guest heartbeat lost (no answer to 2 challenges in a row at ${e.intervalMs} ms)`);
      case 'unhealthy':
        this.events.inc({ event: 'unhealthy' });
        return this.fault(su, comp, e.correctiveAction, `guest reports ill health${e.logMsg === '' ? '' : `: ${e.logMsg}`}`);
      case 'exit':
        this.events.inc({ event: 'exit' });
        return;
      case 'dropped':
        this.drops.inc({ reason: e.reason });
        return;
      default:
        return;
    }
  }

  private fault(su: string, comp: string, action: ResponseAction, what: string): void {
    const recovery = recoveryFor(action);
    const reason = `guest-heartbeat: ${what} (corrective action ${action})`;
    if (recovery === undefined) {
      this.log.warn({ su, comp }, `${key(su, comp)}: ${reason}; logged only`);
      this.deps.publish(su, comp, this.status(su, comp) ?? 'lost', `${what}; corrective action log: logged only`);
      return;
    }
    this.log.warn({ su, comp, recovery }, `${key(su, comp)}: ${reason}; reporting an error with recovery ${recovery}`);
    this.deps.reportError(su, comp, recovery, reason);
  }

  private collect(): void {
    const counts = new Map<HbStatus, number>(HB_STATUSES.map((s) => [s, 0]));
    for (const g of this.guests.values()) counts.set(g.channel.status, (counts.get(g.channel.status) ?? 0) + 1);
    for (const [status, n] of counts) this.gauge.set({ status }, n);
  }
}
