/**
 * The guest client's heartbeat state machine (StarlingX guest_heartbeat_fsm.c and its states):
 * initial → enabling (init now and every HB_INIT_RETRY with a new invocation id) → enabled
 * (answer each challenge; no challenge for max(2 × interval, HB_MIN_TIMEOUT) → enabling again,
 * unless the guest itself was not being scheduled) → disabled on channel down. Pure: every input
 * carries the monotonic time, outputs are effects for the driver.
 */
import type { Random } from '../runtime/ports/random.js';
import type { GuestHbConfig } from './guest-config.js';
import { guestDeadlineMs } from './guest-actions.js';
import type { HealthVerdict } from './guest-health.js';
import { decodeLine, encodeMessage, MAX_ID, type EventType, type HbMessage, type NotificationType, type VoteResult } from './wire.js';

export const GUEST_STATES = ['initial', 'enabling', 'enabled', 'disabled'] as const;
export type GuestState = (typeof GUEST_STATES)[number];
export type GuestEvent = 'release' | 'init-ack' | 'challenge' | 'challenge-timeout' | 'action' | 'channel-up' | 'channel-down' | 'shutdown';
export type GuestTimer = 'init-retry' | 'challenge' | 'health-check';

/** A gap this long between two inputs means the guest was not scheduled (GUEST_SCHEDULING_MAX_DELAY_IN_MS). */
export const SCHEDULING_MAX_DELAY_MS = 800;
/** How often the driver should call tick() so that such a gap is seen (GUEST_TICK_INTERVAL_IN_MS). */
export const TICK_MS = 300;

export type GuestEffect =
  | { readonly kind: 'send'; readonly line: string; readonly msg: HbMessage }
  | { readonly kind: 'set-timer'; readonly timer: GuestTimer; readonly delayMs: number }
  | { readonly kind: 'cancel-timer'; readonly timer: GuestTimer }
  | { readonly kind: 'state'; readonly from: GuestState; readonly to: GuestState; readonly event: GuestEvent }
  /** Run the health-check script now (a previous run still going counts as a failed check). */
  | { readonly kind: 'health-check' }
  /** Ask the applications and the event script; answer with actionDone() within deadlineMs. */
  | { readonly kind: 'action'; readonly invocationId: number; readonly eventType: EventType; readonly notificationType: NotificationType; readonly deadlineMs: number }
  /** Stop asking about the current action (a new one replaced it, or heartbeating stopped). */
  | { readonly kind: 'abort-action' }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn' | 'error'; readonly msg: string };

/** Where the answer to a challenge comes from (GuestHealth plus the application registry). */
export interface HealthSource {
  respond(now: number): HealthVerdict;
  reset(): void;
}

export interface GuestFsmOptions {
  readonly config: GuestHbConfig;
  readonly name: string;
  readonly random: Random;
  readonly health: HealthSource;
}

/** Seconds as the init message carries them: the configured value plus 1 s of propagation margin. */
function withMargin(ms: number): number {
  return Math.floor(ms / 1000) + 1;
}

export class GuestHeartbeatFsm {
  private state: GuestState = 'initial';
  private channelUp = false;
  private sequence = 0;
  private invocationId = 0;
  private prevInvocationId = 0;
  private lastChallenge = 0;
  private action: number | undefined;
  private lastInputAt: number | undefined;
  /** When the guest last saw itself descheduled for SCHEDULING_MAX_DELAY_MS or more. */
  private delayedAt = Number.NEGATIVE_INFINITY;
  private readonly challengeTimeoutMs: number;

  constructor(private readonly opts: GuestFsmOptions) {
    this.challengeTimeoutMs = Math.max(opts.config.heartbeatIntervalMs * 2, opts.config.heartbeatMinTimeoutMs);
  }

  get current(): GuestState {
    return this.state;
  }

  /** Start heartbeating (the channel may come up later). */
  release(now: number): GuestEffect[] {
    const out = this.observe(now);
    if (this.state === 'initial') this.transition(out, this.channelUp ? 'enabling' : 'disabled', 'release');
    return out;
  }

  channel(now: number, up: boolean): GuestEffect[] {
    const out = this.observe(now);
    this.channelUp = up;
    const event: GuestEvent = up ? 'channel-up' : 'channel-down';
    if (!up) {
      if (this.state !== 'disabled') this.transition(out, 'disabled', event);
    } else if (this.state === 'initial' || this.state === 'disabled') this.transition(out, 'enabling', event);
    return out;
  }

  /** Stop: a graceful exit tells the host, so that it reports no loss. */
  shutdown(now: number): GuestEffect[] {
    const out = this.observe(now);
    if (this.state === 'enabled') this.send(out, { msgType: 'exit', logMsg: 'Exiting...' });
    if (this.state !== 'initial') this.transition(out, 'initial', 'shutdown');
    return out;
  }

  /** Called every TICK_MS so that a scheduling gap is noticed even without other input. */
  tick(now: number): GuestEffect[] {
    return this.observe(now);
  }

  receive(now: number, line: string): GuestEffect[] {
    const out = this.observe(now);
    const d = decodeLine(line);
    if (!d.ok) {
      const e = d.error;
      out.push({ kind: 'log', level: 'warn', msg: e.kind === 'drop' ? `dropped message from host: ${e.reason} (${e.detail})` : e.kind === 'unknown-type' ? `unknown message type ${e.msgType} from host` : `failed to parse ${e.field} from host: ${e.detail}` });
      return out;
    }
    const msg = d.value.msg;
    switch (msg.msgType) {
      case 'init_ack':
        if (this.state === 'enabling' && (msg.invocationId === this.invocationId || msg.invocationId === this.prevInvocationId)) this.transition(out, 'enabled', 'init-ack');
        break;
      case 'challenge':
        this.lastChallenge = msg.heartbeatChallenge;
        if (this.state === 'enabled') this.onChallenge(out, now);
        break;
      case 'action_notify':
        if (this.state === 'enabled') this.onAction(out, msg.invocationId, msg.eventType, msg.notificationType, msg.timeoutMs);
        break;
      case 'nack':
        out.push({ kind: 'log', level: 'error', msg: `Heartbeat Nack message received, invocation_id=${msg.invocationId}, error msg: ${msg.logMsg}` });
        break;
      default:
        out.push({ kind: 'log', level: 'warn', msg: `ignoring ${msg.msgType} from host` });
    }
    return out;
  }

  timeout(now: number, timer: GuestTimer): GuestEffect[] {
    const out = this.observe(now);
    if (timer === 'init-retry' && this.state === 'enabling') {
      this.sendInit(out);
      out.push({ kind: 'set-timer', timer: 'init-retry', delayMs: this.opts.config.heartbeatInitRetryMs });
    } else if (timer === 'health-check' && this.state === 'enabled') {
      out.push({ kind: 'health-check' }, { kind: 'set-timer', timer: 'health-check', delayMs: this.opts.config.healthCheckIntervalMs });
    } else if (timer === 'challenge' && this.state === 'enabled') {
      out.push({ kind: 'set-timer', timer: 'challenge', delayMs: this.challengeTimeoutMs });
      if (now - this.delayedAt <= this.challengeTimeoutMs) {
        out.push({ kind: 'log', level: 'error', msg: `Failed to receive a challenge in ${this.challengeTimeoutMs} ms, but we are not scheduling on time.` });
        return out;
      }
      out.push({ kind: 'log', level: 'error', msg: `Failed to receive a challenge in ${this.challengeTimeoutMs} ms.` });
      this.transition(out, 'enabling', 'challenge-timeout');
    }
    return out;
  }

  /** The merged answer of the applications and the event script to the current action. */
  actionDone(now: number, invocationId: number, eventType: EventType, notificationType: NotificationType, result: VoteResult, logMsg: string): GuestEffect[] {
    const out = this.observe(now);
    if (this.state !== 'enabled' || this.action !== invocationId) return out;
    this.action = undefined;
    this.send(out, { msgType: 'action_response', invocationId, eventType, notificationType, voteResult: result, logMsg });
    return out;
  }

  private onChallenge(out: GuestEffect[], now: number): void {
    out.push({ kind: 'set-timer', timer: 'challenge', delayMs: this.challengeTimeoutMs });
    const v = this.opts.health.respond(now);
    if (v.health === 'unhealthy' && v.correctiveAction !== 'none') out.push({ kind: 'log', level: 'info', msg: `Unhealthy, reporting corrective action ${v.correctiveAction}.` });
    this.send(out, { msgType: 'challenge_response', heartbeatResponse: this.lastChallenge, heartbeatHealth: v.health, correctiveAction: v.correctiveAction, logMsg: v.logMsg });
  }

  private onAction(out: GuestEffect[], invocationId: number, eventType: EventType, notificationType: NotificationType, timeoutMs: number): void {
    if (this.action !== undefined) out.push({ kind: 'abort-action' });
    this.action = invocationId;
    out.push({ kind: 'log', level: 'info', msg: `Heartbeat Action Notify received, invocation_id=${invocationId}, event=${eventType}, notification=${notificationType}.` });
    out.push({ kind: 'action', invocationId, eventType, notificationType, deadlineMs: guestDeadlineMs(timeoutMs) });
  }

  private sendInit(out: GuestEffect[]): void {
    const c = this.opts.config;
    this.prevInvocationId = this.invocationId;
    this.invocationId = this.opts.random.nextU32() & MAX_ID;
    this.send(out, {
      msgType: 'init',
      invocationId: this.invocationId,
      name: this.opts.name,
      heartbeatIntervalMs: c.heartbeatIntervalMs,
      voteSecs: withMargin(c.voteMs),
      shutdownNoticeSecs: withMargin(c.shutdownNoticeMs),
      suspendNoticeSecs: withMargin(c.suspendNoticeMs),
      resumeNoticeSecs: withMargin(c.resumeNoticeMs),
      restartSecs: withMargin(c.restartMs),
      correctiveAction: c.correctiveAction,
    });
  }

  private transition(out: GuestEffect[], to: GuestState, event: GuestEvent): void {
    const from = this.state;
    if (from === to) return;
    this.leave(out, from);
    this.state = to;
    out.push({ kind: 'state', from, to, event }, { kind: 'log', level: 'info', msg: `Guest-Client heartbeat state change from ${from} to ${to}, event=${event}.` });
    this.enter(out, to);
  }

  private leave(out: GuestEffect[], state: GuestState): void {
    if (state === 'enabling') out.push({ kind: 'cancel-timer', timer: 'init-retry' });
    if (state === 'enabled') {
      out.push({ kind: 'cancel-timer', timer: 'challenge' }, { kind: 'cancel-timer', timer: 'health-check' });
      if (this.action !== undefined) out.push({ kind: 'abort-action' });
      this.action = undefined;
    }
  }

  private enter(out: GuestEffect[], state: GuestState): void {
    const c = this.opts.config;
    if (state === 'enabling') {
      this.sendInit(out);
      out.push({ kind: 'set-timer', timer: 'init-retry', delayMs: c.heartbeatInitRetryMs });
    } else if (state === 'enabled') {
      this.opts.health.reset();
      out.push({ kind: 'set-timer', timer: 'challenge', delayMs: this.challengeTimeoutMs });
      if (c.healthCheckIntervalMs > 0 && c.healthCheckScript !== '') out.push({ kind: 'set-timer', timer: 'health-check', delayMs: c.healthCheckIntervalMs });
    }
  }

  /** Notice a scheduling gap: the time since the previous input. */
  private observe(now: number): GuestEffect[] {
    const out: GuestEffect[] = [];
    if (this.lastInputAt !== undefined && now - this.lastInputAt >= SCHEDULING_MAX_DELAY_MS) {
      if (now - this.delayedAt > this.challengeTimeoutMs) out.push({ kind: 'log', level: 'info', msg: `Not scheduling on time, elapsed=${Math.round(now - this.lastInputAt)} ms.` });
      this.delayedAt = now;
    }
    this.lastInputAt = now;
    return out;
  }

  private send(out: GuestEffect[], msg: HbMessage): void {
    this.sequence = (this.sequence + 1) >>> 0;
    out.push({ kind: 'send', line: encodeMessage(msg, this.sequence), msg });
  }
}
