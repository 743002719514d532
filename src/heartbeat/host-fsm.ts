/**
 * The host side of one guest's heartbeat: StarlingX guestServer's per-instance state machine
 * (waiting_init → waiting_response ⇄ waiting_challenge) as a pure core. Inputs are calls
 * (connected, received line, timer fired, notify); outputs are effects the driver carries out
 * (bytes to send, timers to arm, what to report). No clock, no I/O: the same code runs in amfd, in
 * the benchmark and in transcript tests.
 */
import type { Random } from '../runtime/ports/random.js';
import { err, ok, type Result } from '../util/result.js';
import type { HbStatus } from './status.js';
import { isHeartbeating } from './status.js';
import { noticeSecs } from './events.js';
import {
  decodeLine,
  encodeMessage,
  MAX_ID,
  type ActionResponseMsg,
  type ChallengeResponseMsg,
  type CorrectiveAction,
  type DecodeError,
  type EventType,
  type HbMessage,
  type InitMsg,
  type NotificationType,
  type ResponseAction,
  type VoteResult,
} from './wire.js';

/** guestServer's defaults (guest.ini, guestBase.h). */
export const HOST_DEFAULTS = {
  /** hbs_pulse_period: a smaller interval asked by a guest is raised to this. */
  minIntervalMs: 400,
  /** hbs_failure_threshold: loss when back-to-back misses exceed it, i.e. on the second miss. */
  failureThreshold: 1,
  /** HEARTBEAT_START_TIMEOUT: reconnect when heartbeating has not started this long after connecting. */
  startTimeoutMs: 120_000,
} as const;

export type HostTimer = 'monitor' | 'action' | 'start';
export type HbServerState = 'waiting_init' | 'waiting_response' | 'waiting_challenge';

/** What the guest announced in its init, with the interval as the host runs it. */
export type GuestParams = Omit<InitMsg, 'msgType' | 'heartbeatIntervalMs'> & { readonly intervalMs: number; readonly requestedIntervalMs: number };

export type ActionResultSource = 'guest' | 'timeout' | 'disconnected';

export type HostEffect =
  | { readonly kind: 'send'; readonly line: string; readonly msg: HbMessage }
  | { readonly kind: 'set-timer'; readonly timer: HostTimer; readonly delayMs: number }
  | { readonly kind: 'cancel-timer'; readonly timer: HostTimer }
  | { readonly kind: 'status'; readonly from: HbStatus; readonly to: HbStatus; readonly reason: string }
  | { readonly kind: 'enabled'; readonly params: GuestParams }
  /** Two back-to-back misses: the guest is declared lost; recovery is the init's corrective action. */
  | { readonly kind: 'loss'; readonly intervalMs: number; readonly correctiveAction: ResponseAction }
  /** An unhealthy response asking for a corrective action (none/unknown are not reported). */
  | { readonly kind: 'unhealthy'; readonly correctiveAction: CorrectiveAction; readonly logMsg: string }
  | { readonly kind: 'exit'; readonly logMsg: string }
  | {
      readonly kind: 'action-result';
      readonly invocationId: number;
      readonly eventType: EventType;
      readonly notificationType: NotificationType;
      readonly result: VoteResult;
      readonly logMsg: string;
      readonly source: ActionResultSource;
    }
  | { readonly kind: 'reconnect'; readonly reason: string }
  | { readonly kind: 'dropped'; readonly reason: string; readonly detail: string }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn'; readonly msg: string };

export interface HostFsmOptions {
  readonly random: Random;
  readonly minIntervalMs?: number;
  readonly failureThreshold?: number;
  readonly startTimeoutMs?: number;
}

interface PendingAction {
  readonly invocationId: number;
  readonly eventType: EventType;
  readonly notificationType: NotificationType;
  readonly timeoutMs: number;
}

export type NotifyError = { readonly kind: 'not-heartbeating'; readonly status: HbStatus } | { readonly kind: 'busy'; readonly eventType: EventType };

/** Log a repeated warning the first time and every 100th time after (guestServer's throttle). */
const THROTTLE = 100;

export class HostGuestFsm {
  private connected = false;
  private state: HbServerState = 'waiting_init';
  private current: HbStatus = 'disabled';
  private misses = 0;
  private heartbeating = false;
  /** An init was accepted and no valid response has come since. */
  private fresh = false;
  private challenge = 0;
  private sequence = 0;
  private guest: GuestParams | undefined;
  private action: PendingAction | undefined;
  private mismatches = 0;
  private readonly minIntervalMs: number;
  private readonly failureThreshold: number;
  private readonly startTimeoutMs: number;

  constructor(private readonly opts: HostFsmOptions) {
    this.minIntervalMs = opts.minIntervalMs ?? HOST_DEFAULTS.minIntervalMs;
    this.failureThreshold = opts.failureThreshold ?? HOST_DEFAULTS.failureThreshold;
    this.startTimeoutMs = opts.startTimeoutMs ?? HOST_DEFAULTS.startTimeoutMs;
  }

  get status(): HbStatus {
    return this.current;
  }

  get serverState(): HbServerState {
    return this.state;
  }

  get params(): GuestParams | undefined {
    return this.guest;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** The channel connected: wait for the guest's init. */
  connect(): HostEffect[] {
    const out: HostEffect[] = [];
    this.connected = true;
    this.state = 'waiting_init';
    this.misses = 0;
    this.heartbeating = false;
    if (this.current !== 'lost') this.setStatus(out, 'enabling', 'channel connected');
    out.push({ kind: 'set-timer', timer: 'start', delayMs: this.startTimeoutMs });
    return out;
  }

  /** The channel closed. A vote in flight resolves as silence (the guest can no longer answer). */
  disconnect(): HostEffect[] {
    const out: HostEffect[] = [];
    this.connected = false;
    this.state = 'waiting_init';
    this.heartbeating = false;
    out.push({ kind: 'cancel-timer', timer: 'monitor' }, { kind: 'cancel-timer', timer: 'start' });
    this.resolveAction(out, undefined, '', 'disconnected');
    if (this.current !== 'lost') this.setStatus(out, 'disabled', 'channel closed');
    return out;
  }

  /** One framed line from the channel. */
  receive(line: string): HostEffect[] {
    const out: HostEffect[] = [];
    const d = decodeLine(line);
    if (!d.ok) {
      this.rejected(out, d.error);
      return out;
    }
    const msg = d.value.msg;
    switch (msg.msgType) {
      case 'init':
        this.onInit(out, msg);
        break;
      case 'challenge_response':
        this.onResponse(out, msg);
        break;
      case 'action_response':
        this.onActionResponse(out, msg);
        break;
      case 'exit':
        this.onExit(out, msg.logMsg);
        break;
      case 'nack':
        // Never answered: two peers nacking each other would loop.
        out.push({ kind: 'log', level: 'warn', msg: `guest sent nack (invocation_id ${msg.invocationId}): ${msg.logMsg}` });
        break;
      default:
        this.nack(out, `unsupported message type: ${msg.msgType}`);
    }
    return out;
  }

  timeout(timer: HostTimer): HostEffect[] {
    const out: HostEffect[] = [];
    if (timer === 'monitor') this.onMonitor(out);
    else if (timer === 'action') {
      const a = this.action;
      if (a !== undefined) {
        out.push({ kind: 'log', level: 'info', msg: `response time out on '${a.eventType}' ${a.notificationType} notify; proceeding with action` });
        this.resolveAction(out, undefined, '', 'timeout');
      }
    } else if (this.connected && !this.heartbeating) out.push({ kind: 'reconnect', reason: `no heartbeating ${this.startTimeoutMs} ms after connecting` });
    return out;
  }

  /**
   * Send a revocable (vote) or irrevocable (notification) action_notify. Its result arrives as an
   * `action-result` effect: the guest's answer, or silence at the timeout (accept / complete).
   */
  notify(eventType: EventType, notificationType: NotificationType): Result<{ readonly invocationId: number; readonly timeoutMs: number; readonly effects: HostEffect[] }, NotifyError> {
    const params = this.guest;
    if (!this.connected || params === undefined || !isHeartbeating(this.current)) return err({ kind: 'not-heartbeating', status: this.current });
    if (this.action !== undefined) return err({ kind: 'busy', eventType: this.action.eventType });
    const timeoutMs = (notificationType === 'revocable' ? params.voteSecs : noticeSecs(params, eventType)) * 1000;
    const invocationId = this.opts.random.nextU32() & MAX_ID;
    this.action = { invocationId, eventType, notificationType, timeoutMs };
    const out: HostEffect[] = [];
    this.send(out, { msgType: 'action_notify', invocationId, eventType, notificationType, timeoutMs });
    out.push({ kind: 'set-timer', timer: 'action', delayMs: timeoutMs });
    return ok({ invocationId, timeoutMs, effects: out });
  }

  /**
   * Stop counting misses while the VM is stopped, paused or moved for an action (guestServer does
   * this when the VIM disables reporting): back to waiting_init until the guest sends init again.
   */
  suspendMonitoring(reason: string): HostEffect[] {
    const out: HostEffect[] = [];
    this.state = 'waiting_init';
    this.heartbeating = false;
    this.misses = 0;
    out.push({ kind: 'cancel-timer', timer: 'monitor' });
    this.setStatus(out, this.connected ? 'enabling' : 'disabled', reason);
    return out;
  }

  private onInit(out: HostEffect[], msg: InitMsg): void {
    if (this.state !== 'waiting_init') {
      // guestServer answers no init while heartbeating: it goes back to waiting for one, and the
      // guest's next init (5 s later) is acknowledged. This avoids racing a burst of repeated inits.
      out.push({ kind: 'log', level: 'warn', msg: `unexpected 'init' message in state ${this.state}; waiting for the next init` });
      this.state = 'waiting_init';
      this.heartbeating = false;
      out.push({ kind: 'cancel-timer', timer: 'monitor' });
      this.setStatus(out, 'enabling', 'unexpected init');
      return;
    }
    const intervalMs = Math.max(msg.heartbeatIntervalMs, this.minIntervalMs);
    if (intervalMs !== msg.heartbeatIntervalMs) out.push({ kind: 'log', level: 'warn', msg: `guest asked for a ${msg.heartbeatIntervalMs} ms interval; raised to ${intervalMs} ms` });
    const { msgType: _type, heartbeatIntervalMs: requestedIntervalMs, ...announced } = msg;
    this.guest = { ...announced, intervalMs, requestedIntervalMs };
    out.push({ kind: 'log', level: 'info', msg: `'init' from ${msg.name} (invocation_id ${msg.invocationId}, interval ${intervalMs} ms, corrective action ${msg.correctiveAction}); sending 'init_ack'` });
    this.send(out, { msgType: 'init_ack', invocationId: msg.invocationId });
    // The first challenge goes out at once, before any other message can be handled.
    this.misses = 0;
    this.fresh = true;
    this.sendChallenge(out);
  }

  private onResponse(out: HostEffect[], msg: ChallengeResponseMsg): void {
    if (this.state === 'waiting_challenge') {
      out.push({ kind: 'log', level: 'warn', msg: 'late challenge response' });
      return;
    }
    if (this.state !== 'waiting_response') return;
    if (msg.heartbeatResponse !== this.challenge) {
      // A stale or forged answer does not count: the interval timer will see a miss.
      if (this.mismatches++ % THROTTLE === 0) out.push({ kind: 'log', level: 'warn', msg: `challenge secret mismatch (${this.challenge}:${msg.heartbeatResponse}) (throttle:${THROTTLE})` });
      return;
    }
    this.mismatches = 0;
    this.state = 'waiting_challenge';
    this.heartbeating = true;
    const params = this.guest;
    if (this.fresh && params !== undefined) {
      this.fresh = false;
      out.push({ kind: 'enabled', params }, { kind: 'cancel-timer', timer: 'start' });
    }
    if (msg.heartbeatHealth === 'healthy') {
      this.setStatus(out, 'enabled', 'heartbeating');
      return;
    }
    if (msg.heartbeatHealth !== 'unhealthy') out.push({ kind: 'log', level: 'warn', msg: `invalid health reported (${msg.heartbeatHealth}); taken as unhealthy` });
    this.setStatus(out, 'unhealthy', msg.logMsg === '' ? 'guest reports ill health' : msg.logMsg);
    const action = msg.correctiveAction;
    if (action === 'none' || action === 'unknown') return;
    out.push({ kind: 'unhealthy', correctiveAction: action, logMsg: msg.logMsg });
  }

  private onActionResponse(out: HostEffect[], msg: ActionResponseMsg): void {
    const a = this.action;
    if (a === undefined || msg.invocationId !== a.invocationId) {
      this.nack(out, `Invocation id mismatch. Received: ${msg.invocationId} expect: ${a?.invocationId ?? 0}`, msg.invocationId);
      return;
    }
    this.resolveAction(out, msg.voteResult, msg.logMsg, 'guest');
  }

  private onExit(out: HostEffect[], logMsg: string): void {
    // A graceful stop: heartbeating ends without a loss.
    this.state = 'waiting_init';
    this.heartbeating = false;
    this.misses = 0;
    out.push({ kind: 'cancel-timer', timer: 'monitor' }, { kind: 'exit', logMsg });
    this.setStatus(out, 'disabled', logMsg === '' ? 'guest exited' : `guest exited: ${logMsg}`);
  }

  private onMonitor(out: HostEffect[]): void {
    if (!this.connected) return;
    if (this.state === 'waiting_challenge') {
      this.misses = 0;
      this.sendChallenge(out);
      return;
    }
    if (this.state !== 'waiting_response') return;
    const intervalMs = this.guest?.intervalMs ?? 0;
    if (++this.misses > this.failureThreshold) {
      this.misses = 0;
      this.state = 'waiting_init';
      this.heartbeating = false;
      out.push({ kind: 'log', level: 'warn', msg: `*** Heartbeat Loss *** (Timeout=${intervalMs} msec)` });
      this.setStatus(out, 'lost', `no response to ${this.failureThreshold + 1} challenges in a row`);
      out.push({ kind: 'loss', intervalMs, correctiveAction: this.guest?.correctiveAction ?? 'unknown' });
      return;
    }
    out.push({ kind: 'log', level: 'warn', msg: `*** Heartbeat Miss *** ${this.misses} of ${this.failureThreshold} (Timeout=${intervalMs} msec)` });
    this.setStatus(out, 'missed', `no response in ${intervalMs} ms`);
    this.sendChallenge(out);
  }

  private sendChallenge(out: HostEffect[]): void {
    this.challenge = this.opts.random.nextU32() & MAX_ID;
    this.state = 'waiting_response';
    this.send(out, { msgType: 'challenge', heartbeatChallenge: this.challenge });
    out.push({ kind: 'set-timer', timer: 'monitor', delayMs: this.guest?.intervalMs ?? this.minIntervalMs });
  }

  private resolveAction(out: HostEffect[], result: VoteResult | undefined, logMsg: string, source: ActionResultSource): void {
    const a = this.action;
    if (a === undefined) return;
    this.action = undefined;
    // Silence counts as consent: accept for a vote, complete for a notification.
    const final = result ?? (a.notificationType === 'revocable' ? 'accept' : 'complete');
    out.push(
      { kind: 'cancel-timer', timer: 'action' },
      { kind: 'action-result', invocationId: a.invocationId, eventType: a.eventType, notificationType: a.notificationType, result: final, logMsg, source },
    );
  }

  private rejected(out: HostEffect[], e: DecodeError): void {
    if (e.kind === 'drop') out.push({ kind: 'dropped', reason: e.reason, detail: e.detail });
    else if (e.kind === 'unknown-type') this.nack(out, `unsupported message type: ${e.msgType}`);
    else this.nack(out, `failed to parse ${e.field}`, e.invocationId);
  }

  private nack(out: HostEffect[], logMsg: string, invocationId?: number): void {
    out.push({ kind: 'dropped', reason: 'nack', detail: logMsg });
    this.send(out, { msgType: 'nack', invocationId: invocationId ?? this.guest?.invocationId ?? 0, logMsg });
  }

  private send(out: HostEffect[], msg: HbMessage): void {
    this.sequence = (this.sequence + 1) >>> 0;
    out.push({ kind: 'send', line: encodeMessage(msg, this.sequence), msg });
  }

  private setStatus(out: HostEffect[], to: HbStatus, reason: string): void {
    if (this.current === to) return;
    out.push({ kind: 'status', from: this.current, to, reason });
    this.current = to;
  }
}
