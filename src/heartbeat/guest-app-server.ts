/**
 * The driver of the in-guest application API: listens on the unix socket, decodes frames, runs the
 * AppRegistry on the clock and sends what it says. Answers to an action round go to `onAnswer`.
 */
import { decodeFrame } from '../agent/protocol.js';
import { KeyedTimers } from '../runtime/keyed-timers.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { Random } from '../runtime/ports/random.js';
import type { StreamConnection, StreamListener, StreamNetwork } from '../runtime/ports/stream.js';
import type { AppHealth } from './guest-health.js';
import { APP_PROTOCOL_VERSION, AppFrameSchema, encodeAppFrame, MAX_APP_FRAME_BYTES, MAX_APPS } from './app-protocol.js';
import { AppRegistry, type AppTimer, type ConnId, type RegistryEffect } from './app-registry.js';
import type { EventType, NotificationType, VoteResult } from './wire.js';

/** Connections that never register are closed after this long, and at most this many wait at once. */
const REGISTER_TIMEOUT_MS = 10_000;
const MAX_UNREGISTERED = MAX_APPS;

export interface AppServerOptions {
  readonly socketPath: string;
  readonly network: StreamNetwork;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly onAnswer: (participant: string, result: VoteResult, logMsg: string) => void;
}

export class GuestAppServer {
  private readonly registry: AppRegistry;
  private readonly conns = new Map<ConnId, StreamConnection>();
  private readonly registered = new Set<ConnId>();
  private readonly timers: KeyedTimers<string>;
  private listener: StreamListener | undefined;
  private nextConn = 1;
  private readonly log: Logger;

  constructor(private readonly opts: AppServerOptions) {
    this.registry = new AppRegistry(opts.random);
    this.timers = new KeyedTimers(opts.clock);
    this.log = opts.logger.child({ module: 'guest-app-api' });
  }

  async start(): Promise<void> {
    this.listener = await this.opts.network.listen(`unix:${this.opts.socketPath}`, { maxFrameSize: MAX_APP_FRAME_BYTES });
    this.listener.onConnection((c) => this.accept(c));
    this.log.info({ path: this.opts.socketPath }, 'application API listening');
  }

  async stop(): Promise<void> {
    this.timers.cancelAll();
    for (const c of this.conns.values()) c.close();
    await this.listener?.close();
  }

  health(): AppHealth[] {
    return this.registry.health();
  }

  /** Ask every connected application; returns the participants to wait for. */
  notify(invocationId: number, eventType: EventType, notificationType: NotificationType): string[] {
    const { participants, effects } = this.registry.notify(invocationId, eventType, notificationType);
    this.apply(effects);
    return participants;
  }

  abortActions(): void {
    this.apply(this.registry.abortActions());
  }

  private accept(conn: StreamConnection): void {
    const id = this.nextConn++;
    if (this.conns.size - this.registered.size >= MAX_UNREGISTERED) {
      conn.send(encodeAppFrame({ v: APP_PROTOCOL_VERSION, type: 'error', message: 'too many connections waiting to register; try again later' }));
      conn.close();
      return;
    }
    this.conns.set(id, conn);
    this.setTimer(id, 'register', REGISTER_TIMEOUT_MS, () => {
      if (this.registered.has(id)) return;
      conn.send(encodeAppFrame({ v: APP_PROTOCOL_VERSION, type: 'error', message: `no init within ${REGISTER_TIMEOUT_MS} ms; closing` }));
      conn.close();
    });
    conn.onFrame((bytes) => {
      const d = decodeFrame(bytes, AppFrameSchema, APP_PROTOCOL_VERSION);
      if (!d.ok) {
        this.log.warn({ conn: id, error: d.error.message }, 'bad application API frame');
        conn.send(encodeAppFrame({ v: APP_PROTOCOL_VERSION, type: 'error', message: d.error.message }));
        return;
      }
      this.apply(this.registry.frame(id, d.value));
    });
    conn.onClose(() => {
      this.conns.delete(id);
      this.registered.delete(id);
      this.cancel(id, 'register');
      this.apply(this.registry.closed(id));
    });
  }

  private apply(effects: readonly RegistryEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          if (e.frame.type === 'init_ack' && e.frame.accepted) {
            this.registered.add(e.conn);
            this.cancel(e.conn, 'register');
          }
          this.conns.get(e.conn)?.send(encodeAppFrame(e.frame));
          break;
        case 'set-timer': {
          const { conn, timer } = e;
          this.setTimer(conn, timer, e.delayMs, () => this.apply(this.registry.timeout(conn, timer)));
          break;
        }
        case 'cancel-timer':
          this.cancel(e.conn, e.timer);
          break;
        case 'close':
          this.conns.get(e.conn)?.close();
          break;
        case 'answer':
          this.opts.onAnswer(e.participant, e.result, e.logMsg);
          break;
        case 'log':
          if (e.level === 'warn') this.log.warn(e.msg);
          else this.log.info(e.msg);
          break;
      }
    }
  }

  private setTimer(conn: ConnId, timer: AppTimer | 'register', delayMs: number, fn: () => void): void {
    this.timers.set(`${conn}/${timer}`, delayMs, fn);
  }

  private cancel(conn: ConnId, timer: AppTimer | 'register'): void {
    this.timers.cancel(`${conn}/${timer}`);
  }
}
