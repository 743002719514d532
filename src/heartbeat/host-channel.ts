/**
 * The driver of one guest's heartbeat on the host: a LineChannel to the channel's unix socket
 * (QEMU's server end), reconnecting 1 s after a failure and doubling up to 60 s, a flood budget,
 * the HostGuestFsm on the clock, and a listener told what happened. Everything it does goes
 * through the runtime ports.
 */
import { KeyedTimers } from '../runtime/keyed-timers.js';
import { LineChannel } from '../runtime/line-channel.js';
import type { ChannelNetwork } from '../runtime/ports/channel.js';
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { Random } from '../runtime/ports/random.js';
import { err, ok, type Result } from '../util/result.js';
import { FloodGuard } from './flood-guard.js';
import { HostGuestFsm, type GuestParams, type HostEffect, type HostFsmOptions, type HostTimer, type NotifyError } from './host-fsm.js';
import type { HbStatus } from './status.js';
import { MAX_MSG_BYTES, type EventType, type NotificationType, type VoteResult } from './wire.js';

export const RECONNECT_MIN_MS = 1000;
export const RECONNECT_MAX_MS = 60_000;
const CONNECT_TIMEOUT_MS = 5000;
/** Host messages queued behind a guest that does not read: a couple, then they are dropped (stale challenges are worthless). */
const MAX_QUEUED_BYTES = 2 * MAX_MSG_BYTES;

export interface ActionOutcome {
  readonly result: VoteResult;
  readonly logMsg: string;
  readonly source: 'guest' | 'timeout' | 'disconnected';
}

/** What a channel reports: the FSM's effects that are news, not plumbing. */
export type ChannelEvent = Extract<HostEffect, { kind: 'status' | 'enabled' | 'loss' | 'unhealthy' | 'exit' | 'action-result' | 'dropped' }>;

export interface HostChannelOptions {
  /** Whose guest this is (the component), for logs and events. */
  readonly id: string;
  /** The channel's unix socket. */
  readonly path: string;
  readonly channels: ChannelNetwork;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly fsm?: Omit<HostFsmOptions, 'random'>;
}

export class HostGuestChannel {
  private readonly fsm: HostGuestFsm;
  private readonly log: Logger;
  private readonly link: LineChannel;
  private readonly guard = new FloodGuard();
  private readonly timers: KeyedTimers<HostTimer>;
  private resumeTimer: TimerHandle | undefined;
  private connected = false;
  private lastFailure = '';
  private readonly listeners: Array<(e: ChannelEvent) => void> = [];
  private readonly pending = new Map<number, (o: ActionOutcome) => void>();

  constructor(private readonly opts: HostChannelOptions) {
    this.fsm = new HostGuestFsm({ ...opts.fsm, random: opts.random });
    this.timers = new KeyedTimers(opts.clock);
    this.log = opts.logger.child({ module: 'heartbeat', component: opts.id, channel: opts.path });
    this.link = new LineChannel({
      open: () => opts.channels.connect(opts.path, { timeoutMs: CONNECT_TIMEOUT_MS }),
      clock: opts.clock,
      maxLineBytes: MAX_MSG_BYTES,
      minBackoffMs: RECONNECT_MIN_MS,
      maxBackoffMs: RECONNECT_MAX_MS,
      maxQueuedBytes: MAX_QUEUED_BYTES,
      onLine: (line) => this.receive(line),
      onBytes: (bytes) => this.throttle(this.guard.chunk(this.opts.clock.now(), bytes)),
      onDrop: (d) => this.emit({ kind: 'dropped', reason: d.reason, detail: `${d.bytes} bytes` }),
      onState: (state, detail) => this.state(state, detail),
    });
  }

  get status(): HbStatus {
    return this.fsm.status;
  }

  get params(): GuestParams | undefined {
    return this.fsm.params;
  }

  onEvent(listener: (e: ChannelEvent) => void): void {
    this.listeners.push(listener);
  }

  start(): void {
    this.link.start();
  }

  stop(): void {
    this.link.stop();
    this.timers.cancelAll();
    this.resumeTimer?.cancel();
  }

  /** Vote (revocable) or notify (irrevocable); resolves with the guest's answer, or silence at the timeout. */
  notify(eventType: EventType, notificationType: NotificationType): Result<Promise<ActionOutcome>, NotifyError> {
    const r = this.fsm.notify(eventType, notificationType);
    if (!r.ok) return err(r.error);
    this.log.info({ eventType, notificationType, invocationId: r.value.invocationId, timeoutMs: r.value.timeoutMs }, `sending ${notificationType} '${eventType}' ${notificationType === 'revocable' ? 'vote' : 'notify'}`);
    const outcome = new Promise<ActionOutcome>((resolve) => this.pending.set(r.value.invocationId, resolve));
    this.apply(r.value.effects);
    return ok(outcome);
  }

  suspendMonitoring(reason: string): void {
    this.apply(this.fsm.suspendMonitoring(reason));
  }

  private state(state: string, detail: string | undefined): void {
    if (state === 'connected') {
      this.connected = true;
      this.lastFailure = '';
      this.log.info('channel connected');
      this.apply(this.fsm.connect());
      return;
    }
    if (this.connected && (state === 'backoff' || state === 'stopped')) {
      this.connected = false;
      this.resumeTimer?.cancel();
      this.resumeTimer = undefined;
      this.log.info({ detail }, 'channel closed');
      this.apply(this.fsm.disconnect());
      return;
    }
    // One line per change of cause, not one per attempt.
    if (state === 'backoff' && detail !== undefined && detail !== this.lastFailure) {
      this.lastFailure = detail;
      this.log.info(`channel connect failed: ${detail}; retrying with backoff (${RECONNECT_MIN_MS} ms doubling to ${RECONNECT_MAX_MS} ms)`);
    }
  }

  private receive(line: string): void {
    const now = this.opts.clock.now();
    if (this.guard.admit(now)) this.apply(this.fsm.receive(line));
    else {
      this.emit({ kind: 'dropped', reason: 'flood', detail: `more than the channel's line budget in this window` });
      this.throttle(this.guard.pausedUntil(now));
    }
  }

  /** Stop reading until the window ends: the guest sees backpressure, the host keeps its other guests. */
  private throttle(until: number | undefined): void {
    if (until === undefined || this.resumeTimer !== undefined) return;
    this.link.pause();
    this.resumeTimer = this.opts.clock.setTimer(Math.max(0, until - this.opts.clock.now()), () => {
      this.resumeTimer = undefined;
      this.link.resume();
    });
  }

  private apply(effects: readonly HostEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send': {
          const sent = this.link.send(e.line);
          if (sent === 'queue-full') this.emit({ kind: 'dropped', reason: 'tx-backlog', detail: `${e.msg.msgType} not sent: the guest is not reading` });
          break;
        }
        case 'set-timer': {
          const timer = e.timer;
          this.timers.set(timer, e.delayMs, () => this.apply(this.fsm.timeout(timer)));
          break;
        }
        case 'cancel-timer':
          this.timers.cancel(e.timer);
          break;
        case 'reconnect':
          this.log.warn(`issuing auto-reconnect: ${e.reason}`);
          this.link.drop();
          break;
        case 'log':
          if (e.level === 'warn') this.log.warn(e.msg);
          else this.log.info(e.msg);
          break;
        case 'action-result': {
          const resolve = this.pending.get(e.invocationId);
          this.pending.delete(e.invocationId);
          resolve?.({ result: e.result, logMsg: e.logMsg, source: e.source });
          this.emit(e);
          break;
        }
        default:
          this.emit(e);
      }
    }
  }

  private emit(e: ChannelEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (x) {
        this.log.error({ err: x }, 'heartbeat listener threw');
      }
    }
  }
}
