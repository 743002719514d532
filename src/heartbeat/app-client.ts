/**
 * The TypeScript client library of the in-guest application API (docs/guest-heartbeat.md
 * §Applications): an application inside the VM registers with the guest client for heartbeating,
 * voting and notifications.
 *
 *   const app = await GuestHeartbeatApp.connect({
 *     network: new NodeStreamNetwork({ logger, metrics, maxFrameSize: MAX_APP_FRAME_BYTES }),
 *     name: 'db', heartbeatIntervalMs: 1000, correctiveAction: 'reboot',
 *     health: () => ({ healthy: replicationOk() }),
 *     onAction: async (a) => (a.notificationType === 'revocable' && !standbyReady() ? { vote: 'reject', reason: 'standby not ready' } : undefined),
 *   });
 *
 * Challenges are answered from `health()`; actions from `onAction` (returning nothing accepts a
 * vote and completes a notification; throwing rejects with the error's message).
 */
import { decodeFrame } from '../agent/protocol.js';
import type { StreamConnection, StreamNetwork } from '../runtime/ports/stream.js';
import { APP_PROTOCOL_VERSION, ClientToAppFrameSchema, DEFAULT_APP_SOCKET, encodeAppFrame, type AppAction, type AppFrame } from './app-protocol.js';
import type { EventType, NotificationType } from './wire.js';

export interface AppActionRequest {
  readonly eventType: EventType;
  readonly notificationType: NotificationType;
  /** How long the guest client waits for the answer. */
  readonly timeoutMs: number;
}

export interface AppActionAnswer {
  readonly vote?: 'accept' | 'reject' | 'complete';
  readonly reason?: string;
}

export interface AppHealthReport {
  readonly healthy: boolean;
  /** Defaults to the registered corrective action when unhealthy. */
  readonly correctiveAction?: AppAction;
  readonly logMsg?: string;
}

export interface GuestHeartbeatAppOptions {
  readonly network: StreamNetwork;
  readonly socketPath?: string;
  readonly name: string;
  readonly heartbeatIntervalMs: number;
  readonly correctiveAction: AppAction;
  readonly voteSecs?: number;
  readonly shutdownNoticeSecs?: number;
  readonly suspendNoticeSecs?: number;
  readonly resumeNoticeSecs?: number;
  readonly health?: () => AppHealthReport;
  readonly onAction?: (a: AppActionRequest) => AppActionAnswer | void | Promise<AppActionAnswer | void>;
  readonly connectTimeoutMs?: number;
}

export class GuestHeartbeatAppError extends Error {
  override name = 'GuestHeartbeatAppError';
}

export class GuestHeartbeatApp {
  private closeHandlers: Array<() => void> = [];

  private constructor(
    private readonly conn: StreamConnection,
    private readonly opts: GuestHeartbeatAppOptions,
  ) {}

  /** Connect and register; rejects when the guest client refuses the registration. */
  static async connect(opts: GuestHeartbeatAppOptions): Promise<GuestHeartbeatApp> {
    const path = opts.socketPath ?? DEFAULT_APP_SOCKET;
    const r = await opts.network.connect(`unix:${path}`, { timeoutMs: opts.connectTimeoutMs ?? 5000 });
    if (!r.ok) throw new GuestHeartbeatAppError(`cannot connect to the guest client at ${path}: ${r.error.kind}`);
    const app = new GuestHeartbeatApp(r.value, opts);
    await app.register();
    return app;
  }

  onClose(handler: () => void): void {
    this.closeHandlers.push(handler);
  }

  /** Deregister (the guest client forgets this application) and close. */
  close(logMsg = ''): void {
    this.send({ v: APP_PROTOCOL_VERSION, type: 'final', logMsg });
    this.conn.close();
  }

  private send(f: AppFrame): void {
    this.conn.send(encodeAppFrame(f));
  }

  private register(): Promise<void> {
    const o = this.opts;
    return new Promise((resolve, reject) => {
      let registered = false;
      this.conn.onClose(() => {
        if (!registered) reject(new GuestHeartbeatAppError('the guest client closed the connection before accepting the registration'));
        for (const h of this.closeHandlers) h();
      });
      this.conn.onFrame((bytes) => {
        const d = decodeFrame(bytes, ClientToAppFrameSchema, APP_PROTOCOL_VERSION);
        if (!d.ok) return;
        const f = d.value;
        if (f.type === 'init_ack') {
          if (f.accepted) {
            registered = true;
            resolve();
          } else {
            reject(new GuestHeartbeatAppError(`registration refused: ${f.logMsg}`));
            this.conn.close();
          }
        } else if (f.type === 'challenge') {
          const h = o.health?.() ?? { healthy: true };
          this.send({ v: APP_PROTOCOL_VERSION, type: 'challenge_response', heartbeatChallenge: f.heartbeatChallenge, healthy: h.healthy, correctiveAction: h.healthy ? 'none' : (h.correctiveAction ?? o.correctiveAction), logMsg: h.logMsg ?? '' });
        } else if (f.type === 'action_notify') void this.answer(f.invocationId, { eventType: f.eventType, notificationType: f.notificationType, timeoutMs: f.timeoutMs });
      });
      this.send({
        v: APP_PROTOCOL_VERSION,
        type: 'init',
        name: o.name,
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        voteSecs: o.voteSecs ?? 8,
        shutdownNoticeSecs: o.shutdownNoticeSecs ?? 8,
        suspendNoticeSecs: o.suspendNoticeSecs ?? 8,
        resumeNoticeSecs: o.resumeNoticeSecs ?? 8,
        correctiveAction: o.correctiveAction,
      });
    });
  }

  private async answer(invocationId: number, a: AppActionRequest): Promise<void> {
    let vote: 'accept' | 'reject' | 'complete' = a.notificationType === 'revocable' ? 'accept' : 'complete';
    let reason = '';
    try {
      const r = await this.opts.onAction?.(a);
      if (r?.vote !== undefined) vote = r.vote;
      reason = r?.reason ?? '';
    } catch (e) {
      vote = 'reject';
      reason = e instanceof Error ? e.message : String(e);
    }
    this.send({ v: APP_PROTOCOL_VERSION, type: 'action_response', invocationId, eventType: a.eventType, notificationType: a.notificationType, voteResult: vote, logMsg: reason });
  }
}
