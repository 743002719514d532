import { Counter, Gauge } from 'prom-client';
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { Logger, Registry } from '../runtime/ports/observability.js';
import type { StreamConnection, StreamListener, StreamNetwork } from '../runtime/ports/stream.js';
import type { Result } from '../util/result.js';
import { ClientFrame, decodeFrame, encodeFrame, MAX_FRAME_BYTES, PROTOCOL_VERSION, type ErrorCode, type ServerFrame } from './protocol.js';

export interface ApiError {
  readonly code: ErrorCode;
  readonly message: string;
}

/** What a callback to a component came to. */
export type CallbackOutcome = 'ok' | 'failed' | 'timeout' | 'disconnected';

type Callback = Extract<ServerFrame, { invocation: number }>;
type CallbackBody = Callback extends infer C ? (C extends Callback ? Omit<C, 'v' | 'invocation'> : never) : never;
export type Request = Exclude<ClientFrame, { type: 'register' | 'response' }>;

/**
 * Frames a connection may have queued beyond the transport's high-water mark: a component that
 * stops reading (while still sending requests) is cut off instead of growing the agent's memory.
 */
export const MAX_SEND_BACKLOG = 256;

/** Healthcheck starts a connection may send before it registers (openais's testamf1.c sends one). */
export const MAX_EARLY_HEALTHCHECKS = 16;

type HealthcheckStart = Extract<Request, { type: 'healthcheck-start' }>;

/** One connection of a component to the agent. */
export class Session {
  /** The component key (`su/comp`) once registered. */
  comp: string | undefined;
  /**
   * Healthcheck starts sent before register: accepted as openais did, applied once the connection
   * proves with the secret whose they are (until then they affect nothing).
   */
  readonly early: HealthcheckStart[] = [];
  private nextInvocation = 1;
  private readonly pending = new Map<number, (outcome: CallbackOutcome, message?: string) => void>();
  /** Frames sent since the transport last drained while above its high-water mark. */
  private backlog = 0;

  constructor(
    readonly id: number,
    private readonly conn: StreamConnection,
    private readonly clock: Clock,
    private readonly overflow: (session: Session) => void = () => undefined,
  ) {
    conn.onDrain(() => (this.backlog = 0));
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  send(frame: ServerFrame): void {
    if (this.conn.closed || this.conn.send(encodeFrame(frame))) return;
    if (++this.backlog <= MAX_SEND_BACKLOG) return;
    this.overflow(this);
    this.conn.close();
  }

  /**
   * Send a callback and wait for its `response` (or the timeout, or the connection closing);
   * `message` resolves with it: the reason the component gave with a failed response, if any.
   */
  invoke(body: CallbackBody, timeoutMs: number): { readonly invocation: number; readonly outcome: Promise<CallbackOutcome>; readonly message: Promise<string | undefined> } {
    const invocation = this.nextInvocation++;
    let say: (m: string | undefined) => void = () => undefined;
    const message = new Promise<string | undefined>((r) => (say = r));
    const outcome = new Promise<CallbackOutcome>((resolve) => {
      if (this.conn.closed) {
        say(undefined);
        return resolve('disconnected');
      }
      const timer = this.clock.setTimer(timeoutMs, () => settle('timeout'));
      const settle = (o: CallbackOutcome, m?: string): void => {
        timer.cancel();
        this.pending.delete(invocation);
        say(m);
        resolve(o);
      };
      this.pending.set(invocation, settle);
      this.send({ v: PROTOCOL_VERSION, invocation, ...body } as ServerFrame);
    });
    return { invocation, outcome, message };
  }

  /** Deliver a `response`; false when no callback with that invocation is outstanding. */
  answer(invocation: number, result: 'ok' | 'failed', message?: string): boolean {
    const settle = this.pending.get(invocation);
    if (!settle) return false;
    settle(result, message);
    return true;
  }

  close(): void {
    this.conn.close();
  }

  /** Called once when the connection is gone: every outstanding callback ends as 'disconnected'. */
  failPending(): void {
    for (const settle of [...this.pending.values()]) settle('disconnected');
  }
}

/** Bounds on the component API's connections (docs/component-api.md §2). */
export interface ApiLimits {
  /** Open connections at most; one more is answered `busy` and closed. */
  readonly maxConnections: number;
  /** A connection not registered this long after it opened (or after it unregistered) is closed. */
  readonly registerTimeoutMs: number;
}

export const DEFAULT_API_LIMITS: ApiLimits = { maxConnections: 256, registerTimeoutMs: 10_000 };

/** The agent's side of the component API: who may register, and what requests do. */
export interface ComponentApiHandler {
  register(session: Session, dn: string, secret: string): Result<string, ApiError>;
  request(session: Session, request: Request): Result<unknown, ApiError>;
  disconnected(session: Session): void;
}

/**
 * The per-node Unix-socket server for SA-aware components (docs/component-api.md). It validates
 * every frame, enforces the order (register first, once), routes callback responses to their
 * invocation, and hands requests to the agent. A bad frame is answered with an error naming the
 * problem and counted; the connection (and everyone else's) keeps being served. Only an oversized
 * frame closes its connection, since the stream can no longer be trusted to be in step.
 */
export class ComponentApiServer {
  private listener: StreamListener | undefined;
  private path: string | undefined;
  private nextSession = 1;
  private readonly sessions = new Set<Session>();
  private readonly badFrames: Counter<'reason'>;
  private readonly dropped: Counter<'reason'>;
  private readonly connections: Gauge;
  private readonly log: Logger;

  constructor(
    private readonly network: StreamNetwork,
    private readonly files: FileSystem,
    private readonly clock: Clock,
    logger: Logger,
    metrics: Registry,
    private readonly handler: ComponentApiHandler,
    private readonly limits: ApiLimits = DEFAULT_API_LIMITS,
  ) {
    this.log = logger.child({ module: 'agent.ipc' });
    this.dropped = new Counter({ name: 'amf_agent_ipc_connections_dropped_total', help: 'Component API connections closed by the agent for exceeding a limit, by reason', labelNames: ['reason'], registers: [metrics] });
    this.badFrames = new Counter({ name: 'amf_agent_ipc_bad_frames_total', help: 'Component API frames refused, by reason', labelNames: ['reason'], registers: [metrics] });
    this.connections = new Gauge({ name: 'amf_agent_ipc_connections', help: 'Open component API connections', registers: [metrics] });
  }

  /** Listen on a Unix socket path, replacing a stale socket (never another kind of file), with mode 0600. */
  async listen(path: string): Promise<Result<void, string>> {
    const existing = this.files.stat(path);
    if (existing.ok && (existing.value.isFile || existing.value.isDirectory)) {
      return { ok: false, error: `component API socket ${path}: a ${existing.value.isFile ? 'regular file' : 'directory'} is there, not a stale socket; refusing to replace it` };
    }
    const removed = this.files.remove(path);
    if (!removed.ok) return { ok: false, error: `component API socket ${path}: cannot remove the old file (${removed.error.kind})` };
    let listener: StreamListener;
    try {
      listener = await this.network.listen(`unix:${path}`, { maxFrameSize: MAX_FRAME_BYTES });
    } catch (e) {
      return { ok: false, error: `component API socket ${path}: ${e instanceof Error ? e.message : String(e)}` };
    }
    const chmod = this.files.chmod(path, 0o600);
    if (!chmod.ok) {
      await listener.close();
      return { ok: false, error: `component API socket ${path}: chmod 0600 failed (${chmod.error.kind})` };
    }
    this.listener = listener;
    this.path = path;
    listener.onConnection((conn) => this.accept(conn));
    this.log.info({ path }, 'component API listening');
    return { ok: true, value: undefined };
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.close();
    await this.listener?.close();
    this.listener = undefined;
    // Only a socket this server created is removed.
    if (this.path !== undefined) this.files.remove(this.path);
    this.path = undefined;
  }

  private accept(conn: StreamConnection): void {
    const session = new Session(this.nextSession++, conn, this.clock, (s) => {
      this.badFrames.inc({ reason: 'slow-reader' });
      this.log.warn({ session: s.id, comp: s.comp }, `component API: more than ${MAX_SEND_BACKLOG} frames queued for a connection that does not read; closing it`);
    });
    if (this.sessions.size >= this.limits.maxConnections) {
      this.drop(session, conn, 'limit', 'busy', `too many component API connections (${this.limits.maxConnections} open); try again later`);
      return;
    }
    this.sessions.add(session);
    this.connections.inc();
    let registerTimer: TimerHandle | undefined = this.registerDeadline(session, conn);
    conn.onFrame((frame) => {
      this.onFrame(session, frame);
      // Registered: no deadline; unregistered again: a new one (an idle connection holds a slot).
      if (session.comp === undefined) registerTimer ??= this.registerDeadline(session, conn);
      else {
        registerTimer?.cancel();
        registerTimer = undefined;
      }
    });
    conn.onClose((info) => {
      registerTimer?.cancel();
      this.sessions.delete(session);
      this.connections.dec();
      if (info.reason === 'frame-too-large') this.refuse(session, 'oversized', undefined, 'bad-frame', `frame larger than the transport allows: ${info.detail ?? ''}`);
      session.failPending();
      this.handler.disconnected(session);
    });
  }

  private registerDeadline(session: Session, conn: StreamConnection): TimerHandle {
    const ms = this.limits.registerTimeoutMs;
    return this.clock.setTimer(ms, () => {
      if (session.comp === undefined) this.drop(session, conn, 'register-timeout', 'not-registered', `no register within ${ms} ms of connecting; closing`);
    });
  }

  /** Close a connection the agent will not serve, telling it why; logged with the peer and counted. */
  private drop(session: Session, conn: StreamConnection, reason: 'limit' | 'register-timeout', code: ErrorCode, message: string): void {
    this.dropped.inc({ reason });
    this.log.warn({ session: session.id, peer: conn.remoteAddress, open: this.sessions.size, reason }, `component API: ${message}`);
    session.send({ v: PROTOCOL_VERSION, type: 'error', code, message });
    session.close();
  }

  private refuse(session: Session, reason: string, id: number | undefined, code: ErrorCode, message: string): void {
    this.badFrames.inc({ reason });
    this.log.warn({ session: session.id, comp: session.comp, code }, `component API: ${message}`);
    if (id === undefined) session.send({ v: PROTOCOL_VERSION, type: 'error', code, message });
    else session.send({ v: PROTOCOL_VERSION, type: 'reply', id, ok: false, code, message });
  }

  /** The healthcheck starts held until register; one that fails now is reported on the connection. */
  private startEarly(session: Session): void {
    for (const frame of session.early.splice(0)) {
      const r = this.handler.request(session, frame);
      if (!r.ok) this.refuse(session, 'early-healthcheck', undefined, r.error.code, `healthcheck-start '${frame.key}' sent before register: ${r.error.message}`);
    }
  }

  private onFrame(session: Session, bytes: Uint8Array): void {
    if (bytes.length > MAX_FRAME_BYTES) {
      this.refuse(session, 'oversized', undefined, 'bad-frame', `frame of ${bytes.length} bytes exceeds the limit of ${MAX_FRAME_BYTES}; closing`);
      session.close();
      return;
    }
    const decoded = decodeFrame(bytes, ClientFrame);
    if (!decoded.ok) {
      this.refuse(session, decoded.error.code, decoded.error.id, decoded.error.code, decoded.error.message);
      return;
    }
    const frame = decoded.value;
    const reply = (r: Result<unknown, ApiError>): void => {
      if (r.ok) session.send({ v: PROTOCOL_VERSION, type: 'reply', id: frame.id, ok: true, ...(r.value === undefined ? {} : { data: r.value }) });
      else this.refuse(session, r.error.code, frame.id, r.error.code, r.error.message);
    };
    if (frame.type === 'register') {
      if (session.comp !== undefined) return reply({ ok: false, error: { code: 'already-registered', message: `this connection is already registered as ${session.comp}` } });
      const r = this.handler.register(session, frame.comp, frame.secret);
      if (r.ok) session.comp = r.value;
      reply(r.ok ? { ok: true, value: undefined } : r);
      if (r.ok) this.startEarly(session);
      return;
    }
    if (session.comp === undefined && frame.type === 'healthcheck-start') {
      if (session.early.length >= MAX_EARLY_HEALTHCHECKS) return reply({ ok: false, error: { code: 'bad-state', message: `more than ${MAX_EARLY_HEALTHCHECKS} healthcheck starts before register` } });
      session.early.push(frame);
      return reply({ ok: true, value: undefined });
    }
    if (session.comp === undefined) return reply({ ok: false, error: { code: 'not-registered', message: `'${frame.type}' before register` } });
    if (frame.type === 'response') {
      if (!session.answer(frame.invocation, frame.result, frame.message)) return reply({ ok: false, error: { code: 'unknown-invocation', message: `no callback with invocation ${frame.invocation} is outstanding` } });
      return reply({ ok: true, value: undefined });
    }
    reply(this.handler.request(session, frame));
  }
}
