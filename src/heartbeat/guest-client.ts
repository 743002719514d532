/**
 * The guest client (bin/amf-guest) as a library on the runtime ports: opens the channel device,
 * runs the GuestHeartbeatFsm, the health-check script every HEALTH_CHECK_INTERVAL, the event script
 * and the registered applications for each action, and serves the application API. The entry
 * point (src/cli/amf-guest.ts) only reads the config file and binds the real ports.
 */
import { KeyedTimers } from '../runtime/keyed-timers.js';
import { LineChannel } from '../runtime/line-channel.js';
import type { Channel } from '../runtime/ports/channel.js';
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { ProcessRunner } from '../runtime/ports/process.js';
import type { Random } from '../runtime/ports/random.js';
import type { StreamNetwork } from '../runtime/ports/stream.js';
import type { Result } from '../util/result.js';
import { ActionRound } from './guest-actions.js';
import { GuestAppServer } from './guest-app-server.js';
import type { GuestHbConfig } from './guest-config.js';
import { GuestHeartbeatFsm, TICK_MS, type GuestEffect, type GuestState, type GuestTimer } from './guest-fsm.js';
import { GuestHealth } from './guest-health.js';
import { eventScriptArgv, eventScriptResult, ScriptRunner } from './guest-scripts.js';
import { MAX_MSG_BYTES, type EventType, type NotificationType } from './wire.js';

export const DEFAULT_DEVICE = '/dev/virtio-ports/cgcs.heartbeat';
/** How long to wait between attempts to open the channel (the host end may not be there yet). */
const REOPEN_MS = 1000;
const SCRIPT = 'event script';

export interface GuestClientOptions {
  readonly config: GuestHbConfig;
  /** The name sent in init (the hostname by default). */
  readonly name: string;
  /** The channel, for logs: a virtio-serial port, or a unix socket standing in for one. */
  readonly device: string;
  /** One attempt at opening it (the entry point knows whether it is a device or a socket). */
  readonly openChannel: () => Promise<Result<Channel, string>>;
  /** The application API socket; undefined: no application API. */
  readonly apiSocket: string | undefined;
  readonly clock: Clock;
  readonly random: Random;
  readonly stream: StreamNetwork;
  readonly processes: ProcessRunner;
  /** The scripts' environment. */
  readonly env: Readonly<Record<string, string>>;
  readonly logger: Logger;
}

export class GuestClient {
  private readonly fsm: GuestHeartbeatFsm;
  private readonly health: GuestHealth;
  private readonly scripts: ScriptRunner;
  private readonly apps: GuestAppServer | undefined;
  private readonly log: Logger;
  private readonly timers: KeyedTimers<GuestTimer>;
  private tickTimer: TimerHandle | undefined;
  private readonly link: LineChannel;
  private up = false;
  private round: { readonly round: ActionRound; readonly deadline: TimerHandle } | undefined;
  private lastOpenError = '';
  private readonly stateListeners: Array<(s: GuestState) => void> = [];

  constructor(private readonly opts: GuestClientOptions) {
    this.log = opts.logger.child({ module: 'guest-client' });
    this.timers = new KeyedTimers(opts.clock);
    this.health = new GuestHealth(opts.config.correctiveAction);
    this.scripts = new ScriptRunner(opts.processes, opts.env);
    this.apps =
      opts.apiSocket === undefined
        ? undefined
        : new GuestAppServer({ socketPath: opts.apiSocket, network: opts.stream, clock: opts.clock, random: opts.random.fork('apps'), logger: opts.logger, onAnswer: (p, r, m) => this.answer(p, r, m) });
    this.link = new LineChannel({
      open: opts.openChannel,
      clock: opts.clock,
      maxLineBytes: MAX_MSG_BYTES,
      minBackoffMs: REOPEN_MS,
      maxBackoffMs: REOPEN_MS,
      maxQueuedBytes: 16 * MAX_MSG_BYTES,
      onLine: (line) => this.apply(this.fsm.receive(this.opts.clock.now(), line)),
      onDrop: (d) => this.log.warn(`dropped a line from the host: ${d.reason} (${d.bytes} bytes)`),
      onState: (state, detail) => this.linkState(state, detail),
    });
    this.fsm = new GuestHeartbeatFsm({
      config: opts.config,
      name: opts.name,
      random: opts.random.fork('heartbeat'),
      health: { respond: (now) => this.health.respond(now, this.apps?.health() ?? []), reset: () => this.health.reset() },
    });
  }

  get state(): GuestState {
    return this.fsm.current;
  }

  onState(listener: (s: GuestState) => void): void {
    this.stateListeners.push(listener);
  }

  async start(): Promise<void> {
    const c = this.opts.config;
    this.log.info(
      { name: this.opts.name, device: this.opts.device, interval: c.heartbeatIntervalMs, correctiveAction: c.correctiveAction, vote: c.voteMs, shutdown: c.shutdownNoticeMs, suspend: c.suspendNoticeMs, resume: c.resumeNoticeMs, restart: c.restartMs, healthCheck: c.healthCheckScript, healthCheckInterval: c.healthCheckIntervalMs, eventScript: c.eventNotificationScript },
      'Guest-Client Heartbeat Configuration',
    );
    // Heartbeating does not depend on the application API: without its socket it goes on alone.
    await this.apps?.start().catch((e: unknown) => this.log.error({ err: e, path: this.opts.apiSocket }, `application API unavailable: ${e instanceof Error ? e.message : String(e)}`));
    this.tickTimer = this.opts.clock.setPeriodic(TICK_MS, () => this.apply(this.fsm.tick(this.opts.clock.now())));
    this.apply(this.fsm.release(this.opts.clock.now()));
    this.link.start();
  }

  /** Stop heartbeating: tell the host (exit, so that it reports no loss), then close everything. */
  async stop(): Promise<void> {
    this.apply(this.fsm.shutdown(this.opts.clock.now()));
    this.tickTimer?.cancel();
    this.timers.cancelAll();
    this.endRound();
    this.scripts.abortAll();
    // The channel's close flushes the exit just sent.
    this.link.stop();
    await this.apps?.stop();
  }

  private linkState(state: string, detail: string | undefined): void {
    if (state === 'connected') {
      this.up = true;
      this.lastOpenError = '';
      this.log.info({ device: this.opts.device }, 'Heartbeat messaging available.');
      this.apply(this.fsm.channel(this.opts.clock.now(), true));
    } else if (this.up && (state === 'backoff' || state === 'stopped')) {
      this.up = false;
      this.log.info({ detail }, 'Heartbeat messaging hangup.');
      if (state === 'backoff') this.apply(this.fsm.channel(this.opts.clock.now(), false));
    } else if (state === 'backoff' && detail !== undefined && detail !== this.lastOpenError) {
      this.lastOpenError = detail;
      this.log.warn({ device: this.opts.device }, `cannot open the channel ${this.opts.device}: ${detail}; retrying every ${REOPEN_MS} ms`);
    }
  }

  private apply(effects: readonly GuestEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          this.link.send(e.line);
          break;
        case 'set-timer': {
          const timer = e.timer;
          this.timers.set(timer, e.delayMs, () => this.apply(this.fsm.timeout(this.opts.clock.now(), timer)));
          break;
        }
        case 'cancel-timer':
          this.timers.cancel(e.timer);
          break;
        case 'state':
          for (const l of this.stateListeners) l(e.to);
          break;
        case 'health-check':
          void this.healthCheck();
          break;
        case 'action':
          this.startRound(e.invocationId, e.eventType, e.notificationType, e.deadlineMs);
          break;
        case 'abort-action':
          this.endRound();
          break;
        case 'log':
          this.log[e.level](e.msg);
          break;
      }
    }
  }

  private async healthCheck(): Promise<void> {
    const c = this.opts.config;
    // Killed before the next check is due, so that a hung script counts as a failed one.
    const o = await this.scripts.run('health', [c.healthCheckScript], Math.max(100, Math.floor(c.healthCheckIntervalMs * 0.9)));
    if (o === undefined) return;
    if (!o.ran) {
      this.log.error(`Failed to invoke health script ${c.healthCheckScript}: ${o.logMsg}`);
      return;
    }
    const was = this.health.scriptIsHealthy;
    if (this.health.scriptResult(o.ok, o.logMsg)) this.log.info(`Transition from ${was ? 'healthy' : 'unhealthy'} to ${o.ok ? 'healthy' : 'unhealthy'}, msg=${o.logMsg}.`);
  }

  private startRound(invocationId: number, eventType: EventType, notificationType: NotificationType, deadlineMs: number): void {
    this.endRound();
    const script = this.opts.config.eventNotificationScript;
    const participants = [...(this.apps?.notify(invocationId, eventType, notificationType) ?? []), ...(script === '' ? [] : [SCRIPT])];
    const round = new ActionRound(invocationId, eventType, notificationType, participants);
    const deadline = this.opts.clock.setTimer(deadlineMs, () => {
      this.log.error(`Failed to receive action responses in ${deadlineMs} ms.`);
      round.expire();
      this.finishRound(round);
    });
    this.round = { round, deadline };
    if (round.done) {
      this.finishRound(round);
      return;
    }
    if (script !== '') {
      this.log.info(`Invoke event script ${script} for event ${eventType}, notification=${notificationType}.`);
      void this.scripts.run('event', eventScriptArgv(script, notificationType, eventType), deadlineMs).then((o) => {
        if (o !== undefined) this.answer(SCRIPT, eventScriptResult(notificationType, o), o.logMsg);
      });
    }
  }

  private answer(participant: string, result: Parameters<ActionRound['answer']>[1], logMsg: string): void {
    const r = this.round?.round;
    if (r === undefined) return;
    this.log.info(`Received action response from ${participant}, event=${r.eventType}, notify=${r.notificationType}, vote-result=${result}, msg=${logMsg}.`);
    if (r.answer(participant, result, logMsg)) this.finishRound(r);
  }

  private finishRound(round: ActionRound): void {
    if (this.round?.round !== round) return;
    this.round.deadline.cancel();
    this.round = undefined;
    this.apps?.abortActions();
    this.scripts.abort('event');
    const o = round.outcome();
    this.apply(this.fsm.actionDone(this.opts.clock.now(), round.invocationId, round.eventType, round.notificationType, o.result, o.logMsg));
  }

  private endRound(): void {
    if (this.round === undefined) return;
    this.round.deadline.cancel();
    this.round = undefined;
    this.apps?.abortActions();
    this.scripts.abort('event');
  }
}
