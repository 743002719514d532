/**
 * The TypeScript client of the amfd component API (docs/component-api.md), for SA-aware
 * components. A component started by amfd finds everything it needs in its environment:
 *
 *   const client = await AmfClient.connect({ network: new NodeStreamNetwork(...), env: process.env });
 *   client.onCsiSet(async (csi) => { ...become csi.haState... });
 *   await client.register();          // handlers first: callbacks may follow the registration at once
 *   await client.healthcheckStart('hc', { invocation: 'amf' });
 *
 * Callbacks are answered from the handler's outcome: returning (or resolving) answers OK,
 * throwing (or rejecting) answers FAILED. Requests resolve with the agent's reply or reject with
 * an AmfApiError carrying the protocol's error code.
 */
import type { HaState, Recovery } from '../model/vocabulary.js';
import type { StreamConnection, StreamNetwork } from '../runtime/ports/stream.js';
import {
  decodeFrame,
  encodeFrame,
  MAX_FAILURE_MESSAGE,
  PROTOCOL_VERSION,
  ServerFrame,
  type ClientFrame,
  type ErrorCode,
  type PgChange,
  type PgMember,
} from '../agent/protocol.js';

export type { ErrorCode, HaState, PgChange, PgMember };

/** The agent's error codes, and `disconnected` when the connection is gone (or never was). */
export type AmfErrorCode = ErrorCode | 'disconnected';

export class AmfApiError extends Error {
  override name = 'AmfApiError';
  constructor(
    readonly code: AmfErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Read-only one level down: arrays and records of a frame are the receiver's to read, not to edit. */
type Frozen<T> = { readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? readonly E[] : T[K] extends object ? Readonly<T[K]> : T[K] };
/** What the callbacks get: the agent's frames (their zod schemas) without the envelope. */
type Callback<T extends ServerFrame['type']> = Frozen<Omit<Extract<ServerFrame, { type: T }>, 'v' | 'type'>>;
export type CsiDescriptor = Callback<'csi-set'>;
export type CsiRemoval = Callback<'csi-remove'>;
export type ProtectionGroupUpdate = Callback<'pg-update'>;

export interface ConnectOptions {
  readonly network: StreamNetwork;
  /** Defaults come from the environment amfd gives the component. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Default: $AMF_COMPONENT_SOCKET. */
  readonly socketPath?: string;
  /** The component DN. Default: $SA_AMF_COMPONENT_DN. */
  readonly comp?: string;
  /** The per-instantiation secret. Default: $AMF_COMPONENT_SECRET. */
  readonly secret?: string;
  readonly connectTimeoutMs?: number;
}

type Handler<T> = (arg: T) => void | Promise<void>;
type Reply = { ok: true; data?: unknown } | { ok: false; code: AmfErrorCode; message: string };
type RequestBody = ClientFrame extends infer F ? (F extends ClientFrame ? Omit<F, 'v' | 'id'> : never) : never;

export class AmfClient {
  private nextId = 1;
  private readonly pending = new Map<number, (r: Reply) => void>();
  private csiSetHandler: Handler<CsiDescriptor> = () => {
    throw new Error('no CSI set handler installed');
  };
  private csiRemoveHandler: Handler<CsiRemoval> = () => undefined;
  private healthcheckHandler: Handler<string> = () => undefined;
  private terminateHandler: Handler<void> = () => undefined;
  private readonly pgHandlers: Array<(u: ProtectionGroupUpdate) => void> = [];
  private readonly closeHandlers: Array<(reason: string) => void> = [];
  private readonly protocolErrors: Array<(e: AmfApiError) => void> = [];

  private constructor(
    private readonly conn: StreamConnection,
    /** This component's DN. */
    readonly comp: string,
    private readonly secret: string,
  ) {
    conn.onFrame((f) => this.onFrame(f));
    conn.onClose((info) => {
      for (const settle of this.pending.values()) settle({ ok: false, code: 'disconnected', message: `connection closed (${info.reason})` });
      this.pending.clear();
      for (const h of this.closeHandlers) h(info.reason);
    });
  }

  /** Connect to the agent; install the handlers, then register(). */
  static async connect(options: ConnectOptions): Promise<AmfClient> {
    const env = options.env ?? {};
    const socketPath = options.socketPath ?? env.AMF_COMPONENT_SOCKET;
    const comp = options.comp ?? env.SA_AMF_COMPONENT_DN;
    const secret = options.secret ?? env.AMF_COMPONENT_SECRET;
    if (!socketPath || !comp || !secret) throw new AmfApiError('bad-frame', 'AMF_COMPONENT_SOCKET, SA_AMF_COMPONENT_DN and AMF_COMPONENT_SECRET are needed (is this process started by amfd?)');
    const c = await options.network.connect(`unix:${socketPath}`, { timeoutMs: options.connectTimeoutMs ?? 5000 });
    if (!c.ok) throw new AmfApiError('disconnected', `cannot connect to ${socketPath}: ${c.error.kind}`);
    return new AmfClient(c.value, comp, secret);
  }

  /** Register this component (with the secret of its instantiation): this completes its instantiation. */
  async register(): Promise<void> {
    await this.request({ type: 'register', comp: this.comp, secret: this.secret });
  }

  // ------------------------------------------------------------------ callbacks

  /** CSI set (assign or change HA state). For `quiescing`, call quiescingComplete(invocation) when done. */
  onCsiSet(handler: Handler<CsiDescriptor>): void {
    this.csiSetHandler = handler;
  }
  onCsiRemove(handler: Handler<CsiRemoval>): void {
    this.csiRemoveHandler = handler;
  }
  /** AMF-invoked healthcheck: throw to report FAILED. Default: healthy. */
  onHealthcheck(handler: Handler<string>): void {
    this.healthcheckHandler = handler;
  }
  /** Terminate: release resources, then exit the process after the handler resolves. */
  onTerminate(handler: Handler<void>): void {
    this.terminateHandler = handler;
  }
  onProtectionGroup(handler: (u: ProtectionGroupUpdate) => void): void {
    this.pgHandlers.push(handler);
  }
  onClose(handler: (reason: string) => void): void {
    this.closeHandlers.push(handler);
  }
  /** Errors the agent sent that belong to no request (e.g. a frame it could not parse). */
  onProtocolError(handler: (e: AmfApiError) => void): void {
    this.protocolErrors.push(handler);
  }

  // ------------------------------------------------------------------ requests

  async healthcheckStart(key: string, options: { invocation?: 'amf' | 'component'; recovery?: Recovery } = {}): Promise<void> {
    await this.request({ type: 'healthcheck-start', key, invocation: options.invocation ?? 'amf', recovery: options.recovery ?? 'no-recommendation' });
  }
  async healthcheckStop(key: string): Promise<void> {
    await this.request({ type: 'healthcheck-stop', key });
  }
  /** Component-invoked healthchecks: confirm within every period. */
  async healthcheckConfirm(key: string, healthy = true): Promise<void> {
    await this.request({ type: 'healthcheck-confirm', key, result: healthy ? 'ok' : 'failed' });
  }
  async quiescingComplete(invocation: number, ok = true): Promise<void> {
    await this.request({ type: 'quiescing-complete', invocation, result: ok ? 'ok' : 'failed' });
  }
  async errorReport(recovery: Recovery, reason?: string): Promise<void> {
    await this.request({ type: 'error-report', recovery, ...(reason === undefined ? {} : { reason }) });
  }
  async errorClear(): Promise<void> {
    await this.request({ type: 'error-clear' });
  }
  async haStateGet(csi: string): Promise<HaState> {
    const data = (await this.request({ type: 'ha-state-get', csi })) as { haState: HaState };
    return data.haState;
  }
  /** Track a CSI's protection group; 'current' only answers, the others also push updates. */
  async protectionGroupTrack(csi: string, flags: 'current' | 'changes' | 'changes-only'): Promise<readonly PgMember[]> {
    const data = (await this.request({ type: 'pg-track', csi, flags })) as { members: PgMember[] } | undefined;
    return data?.members ?? [];
  }
  async protectionGroupTrackStop(csi: string): Promise<void> {
    await this.request({ type: 'pg-track-stop', csi });
  }
  async unregister(): Promise<void> {
    await this.request({ type: 'unregister' });
  }
  close(): void {
    this.conn.close();
  }

  /** Send a raw request and wait for its reply; exposed for tools and tests. */
  request(body: RequestBody): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.conn.closed) return reject(new AmfApiError('disconnected', 'connection closed'));
      this.pending.set(id, (r) => (r.ok ? resolve(r.data) : reject(new AmfApiError(r.code, r.message))));
      this.conn.send(encodeFrame({ v: PROTOCOL_VERSION, id, ...body } as ClientFrame));
    });
  }

  /** Run a callback handler and answer for it: failed (with the error's message) when it throws or rejects. */
  private respond(invocation: number, run: () => void | Promise<void>): void {
    const answer = (result: 'ok' | 'failed', e?: unknown): void => {
      const message = e === undefined ? undefined : (e instanceof Error ? e.message : String(e)).slice(0, MAX_FAILURE_MESSAGE);
      this.request({ type: 'response', invocation, result, ...(message ? { message } : {}) }).catch(() => undefined);
    };
    let outcome: void | Promise<void>;
    try {
      outcome = run();
    } catch (e) {
      return answer('failed', e);
    }
    void Promise.resolve(outcome).then(
      () => answer('ok'),
      (e: unknown) => answer('failed', e),
    );
  }

  private onFrame(bytes: Uint8Array): void {
    const decoded = decodeFrame(bytes, ServerFrame);
    if (!decoded.ok) {
      for (const h of this.protocolErrors) h(new AmfApiError(decoded.error.code, `from the agent: ${decoded.error.message}`));
      return;
    }
    const f = decoded.value;
    switch (f.type) {
      case 'reply': {
        const settle = this.pending.get(f.id);
        this.pending.delete(f.id);
        settle?.(f.ok ? { ok: true, data: f.data } : { ok: false, code: f.code, message: f.message });
        return;
      }
      case 'error':
        for (const h of this.protocolErrors) h(new AmfApiError(f.code, f.message));
        return;
      case 'csi-set':
        return this.respond(f.invocation, () => this.csiSetHandler({ invocation: f.invocation, si: f.si, csi: f.csi, csiType: f.csiType, haState: f.haState, attributes: f.attributes, attributeList: f.attributeList }));
      case 'csi-remove':
        return this.respond(f.invocation, () => this.csiRemoveHandler({ invocation: f.invocation, si: f.si, csi: f.csi }));
      case 'healthcheck':
        return this.respond(f.invocation, () => this.healthcheckHandler(f.key));
      case 'terminate':
        return this.respond(f.invocation, () => this.terminateHandler());
      case 'pg-update':
        for (const h of this.pgHandlers) h({ csi: f.csi, members: f.members, changes: f.changes });
        return;
    }
  }
}
