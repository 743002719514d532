/**
 * The guest client's side of the application API, as a pure core: which applications registered,
 * their heartbeat (a challenge every interval, unhealthy with their corrective action after 2 ×
 * interval without an answer), their health, and their part in an action round. The driver owns
 * the sockets and timers and feeds frames, closes and expiries in; effects come out.
 */
import type { Random } from '../runtime/ports/random.js';
import { MIN_INTERVAL_MS } from './guest-config.js';
import { noticeSecs } from './events.js';
import type { AppHealth } from './guest-health.js';
import { APP_PROTOCOL_VERSION, MAX_APP_LOG, MAX_APPS, type AppFrame, type ClientToAppFrame } from './app-protocol.js';
import { MAX_ID, truncateUtf8, type EventType, type NotificationType, type VoteResult } from './wire.js';

export type ConnId = number;
export type AppTimer = 'challenge' | 'timeout' | 'action';

export type RegistryEffect =
  | { readonly kind: 'send'; readonly conn: ConnId; readonly frame: ClientToAppFrame }
  | { readonly kind: 'set-timer'; readonly conn: ConnId; readonly timer: AppTimer; readonly delayMs: number }
  | { readonly kind: 'cancel-timer'; readonly conn: ConnId; readonly timer: AppTimer }
  | { readonly kind: 'close'; readonly conn: ConnId; readonly reason: string }
  /** An application's answer (or timeout) in the current action round. */
  | { readonly kind: 'answer'; readonly participant: string; readonly result: VoteResult; readonly logMsg: string }
  | { readonly kind: 'log'; readonly level: 'info' | 'warn'; readonly msg: string };

type InitFrame = Extract<AppFrame, { type: 'init' }>;

/** A challenge answered with one of the last few is still good (GUEST_HEARTBEAT_MGMT_API_CHALLENGE_DEPTH). */
const CHALLENGE_DEPTH = 4;

interface App {
  readonly conn: ConnId;
  readonly config: InitFrame;
  /** The connection closed without `final`: kept so that its silence turns into ill health. */
  gone: boolean;
  answered: boolean;
  challenges: number[];
  health: AppHealth;
  action?: { readonly invocationId: number; readonly participant: string };
}

function participantOf(app: App): string {
  return `application ${app.config.name}`;
}

export class AppRegistry {
  private readonly apps = new Map<ConnId, App>();

  constructor(private readonly random: Random) {}

  /** The registered applications' health, gone ones included. */
  health(): AppHealth[] {
    return [...this.apps.values()].map((a) => a.health);
  }

  get names(): string[] {
    return [...this.apps.values()].map((a) => a.config.name);
  }

  frame(conn: ConnId, f: AppFrame): RegistryEffect[] {
    const out: RegistryEffect[] = [];
    const app = this.apps.get(conn);
    if (f.type === 'init') this.onInit(out, conn, f);
    else if (app === undefined || app.gone) out.push({ kind: 'send', conn, frame: { v: APP_PROTOCOL_VERSION, type: 'error', message: `'${f.type}' before a successful init` } });
    else if (f.type === 'challenge_response') {
      if (!app.challenges.includes(f.heartbeatChallenge)) {
        out.push({ kind: 'log', level: 'warn', msg: `application ${app.config.name}: response to an unknown challenge ${f.heartbeatChallenge}` });
        return out;
      }
      if (f.healthy !== app.health.healthy) out.push({ kind: 'log', level: 'info', msg: `Application ${app.config.name} health state change, healthy=${f.healthy}, corrective_action=${f.correctiveAction}, log_msg=${f.logMsg}.` });
      app.answered = true;
      app.health = { healthy: f.healthy, correctiveAction: f.correctiveAction, logMsg: truncateUtf8(f.logMsg, MAX_APP_LOG) };
      out.push({ kind: 'set-timer', conn, timer: 'timeout', delayMs: app.config.heartbeatIntervalMs * 2 });
    } else if (f.type === 'action_response') {
      const a = app.action;
      if (a === undefined || a.invocationId !== f.invocationId) {
        out.push({ kind: 'log', level: 'warn', msg: `application ${app.config.name}: answer for invocation ${f.invocationId}, which is not current` });
        return out;
      }
      app.action = undefined;
      out.push({ kind: 'cancel-timer', conn, timer: 'action' }, { kind: 'answer', participant: a.participant, result: f.voteResult, logMsg: truncateUtf8(f.logMsg, MAX_APP_LOG) });
    } else {
      out.push({ kind: 'log', level: 'info', msg: `Application ${app.config.name} has deregistered, msg=${f.logMsg}.` });
      this.remove(out, app);
    }
    return out;
  }

  /** The connection closed. Without a `final` the application stays registered and will turn unhealthy. */
  closed(conn: ConnId): RegistryEffect[] {
    const out: RegistryEffect[] = [];
    const app = this.apps.get(conn);
    if (app === undefined) return out;
    app.gone = true;
    out.push({ kind: 'cancel-timer', conn, timer: 'challenge' }, { kind: 'log', level: 'warn', msg: `application ${app.config.name} disconnected without deregistering` });
    this.abortOne(out, app, `${app.config.name} disconnected`);
    return out;
  }

  timeout(conn: ConnId, timer: AppTimer): RegistryEffect[] {
    const out: RegistryEffect[] = [];
    const app = this.apps.get(conn);
    if (app === undefined) return out;
    if (timer === 'challenge') {
      out.push({ kind: 'set-timer', conn, timer: 'challenge', delayMs: app.config.heartbeatIntervalMs });
      // One challenge outstanding at a time: a slow application is not flooded.
      if (!app.answered) return out;
      const challenge = this.random.nextU32() & MAX_ID;
      app.challenges = [...app.challenges.slice(-(CHALLENGE_DEPTH - 1)), challenge];
      app.answered = false;
      out.push({ kind: 'send', conn, frame: { v: APP_PROTOCOL_VERSION, type: 'challenge', heartbeatChallenge: challenge } });
    } else if (timer === 'timeout') {
      const ms = app.config.heartbeatIntervalMs * 2;
      if (app.health.healthy) out.push({ kind: 'log', level: 'warn', msg: `Application ${app.config.name} heartbeat timeout ${ms} ms, corrective_action=${app.config.correctiveAction}.` });
      app.health = { healthy: false, correctiveAction: app.config.correctiveAction, logMsg: `Application ${app.config.name} heartbeat timeout ${ms} ms.` };
      out.push({ kind: 'set-timer', conn, timer: 'timeout', delayMs: ms });
    } else this.abortOne(out, app, `${app.config.name} did not answer in time`, 'timeout');
    return out;
  }

  /**
   * Send action_notify to every connected application; each gets its own timeout (its vote or
   * notice seconds). Returns the participants to await in the round.
   */
  notify(invocationId: number, eventType: EventType, notificationType: NotificationType): { readonly participants: string[]; readonly effects: RegistryEffect[] } {
    const out: RegistryEffect[] = [];
    const participants: string[] = [];
    for (const app of this.apps.values()) {
      if (app.gone) continue;
      const participant = participantOf(app);
      const appInvocation = this.random.nextU32() & MAX_ID;
      app.action = { invocationId: appInvocation, participant };
      participants.push(participant);
      const timeoutMs = appTimeoutSecs(app.config, eventType, notificationType) * 1000;
      out.push(
        { kind: 'send', conn: app.conn, frame: { v: APP_PROTOCOL_VERSION, type: 'action_notify', invocationId: appInvocation, eventType, notificationType, timeoutMs } },
        { kind: 'set-timer', conn: app.conn, timer: 'action', delayMs: timeoutMs },
      );
    }
    return { participants, effects: out };
  }

  /** Forget the current round (a new action replaced it, or heartbeating stopped). */
  abortActions(): RegistryEffect[] {
    const out: RegistryEffect[] = [];
    for (const app of this.apps.values()) {
      if (app.action === undefined) continue;
      app.action = undefined;
      out.push({ kind: 'cancel-timer', conn: app.conn, timer: 'action' });
    }
    return out;
  }

  private onInit(out: RegistryEffect[], conn: ConnId, f: InitFrame): void {
    const refuse = (why: string): void => {
      out.push({ kind: 'log', level: 'warn', msg: `application ${f.name} refused: ${why}` });
      out.push({ kind: 'send', conn, frame: { v: APP_PROTOCOL_VERSION, type: 'init_ack', accepted: false, logMsg: why } });
    };
    const live = this.apps.get(conn);
    if (live !== undefined && !live.gone) return refuse('this connection is registered already');
    if (f.heartbeatIntervalMs < MIN_INTERVAL_MS) return refuse(`heartbeat interval ${f.heartbeatIntervalMs} ms is less than ${MIN_INTERVAL_MS} ms`);
    // A re-registration under the same name replaces what its previous connection left behind.
    for (const other of [...this.apps.values()]) if (other.config.name === f.name && other.gone) this.remove(out, other);
    if (this.apps.size >= MAX_APPS) return refuse(`${MAX_APPS} applications are registered already`);
    const app: App = { conn, config: f, gone: false, answered: true, challenges: [], health: { healthy: true, correctiveAction: 'none', logMsg: '' } };
    this.apps.set(conn, app);
    out.push(
      { kind: 'send', conn, frame: { v: APP_PROTOCOL_VERSION, type: 'init_ack', accepted: true, logMsg: '' } },
      { kind: 'set-timer', conn, timer: 'challenge', delayMs: f.heartbeatIntervalMs },
      { kind: 'set-timer', conn, timer: 'timeout', delayMs: f.heartbeatIntervalMs * 2 },
      { kind: 'log', level: 'info', msg: `Connection accepted from ${f.name} (interval ${f.heartbeatIntervalMs} ms, corrective action ${f.correctiveAction}).` },
    );
  }

  private abortOne(out: RegistryEffect[], app: App, logMsg: string, result: VoteResult = 'timeout'): void {
    const a = app.action;
    if (a === undefined) return;
    app.action = undefined;
    out.push({ kind: 'cancel-timer', conn: app.conn, timer: 'action' }, { kind: 'answer', participant: a.participant, result, logMsg });
  }

  private remove(out: RegistryEffect[], app: App): void {
    this.abortOne(out, app, `${app.config.name} deregistered`, 'complete');
    this.apps.delete(app.conn);
    for (const timer of ['challenge', 'timeout', 'action'] as const) out.push({ kind: 'cancel-timer', conn: app.conn, timer });
  }
}

/** An application's own timeout for an action: its vote seconds, or the notice class of the event. */
export function appTimeoutSecs(c: InitFrame, eventType: EventType, notificationType: NotificationType): number {
  if (notificationType === 'revocable') return c.voteSecs;
  return noticeSecs(c, eventType);
}
