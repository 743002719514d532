import { lstat, chmod, unlink } from 'node:fs/promises';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { assert } from '../../util/assert.js';
import { err, ok, type Result } from '../../util/result.js';
import type { Logger, Registry } from '../ports/observability.js';
import { AdmissionGate, type Admission } from '../admission.js';
import { PeerLabels } from '../peer-labels.js';
import type { ListenOptions, StreamAddress, StreamCloseInfo, StreamConnectError, StreamConnection, StreamListener, StreamNetwork } from '../ports/stream.js';
import { formatInet, parseAddress, type ParsedAddress } from './address.js';
import { FrameDecoder, frameHeader, MAX_FRAME_LENGTH, ReceiveBudget } from './framing.js';
import { AcceptQueue, Inbox } from './inbox.js';
import { counter } from './metrics.js';

export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
/** A local close() flushes what was sent; a peer that never reads gets this long before we destroy. */
const CLOSE_LINGER_MS = 5000;
/** Refusals (caps, deadlines, oversized frames) are logged at most this often per kind; all are counted. */
const REFUSAL_LOG_PERIOD_MS = 10_000;

export interface NodeStreamOptions {
  readonly logger: Logger;
  readonly metrics: Registry;
  /** Largest incoming frame accepted; default 16 MiB. */
  readonly maxFrameSize?: number;
  /**
   * Bytes of incomplete incoming frames over all connections together (ReceiveBudget); a frame
   * that does not fit closes its connection. Default 4 × maxFrameSize (64 MiB).
   */
  readonly receiveBudget?: number;
}

type Events = ReturnType<typeof streamEvents>;

function streamEvents(metrics: Registry) {
  return counter(metrics, 'amfd_stream_events_total', 'Stream connection failures and refusals (refusals by peer host)', ['kind', 'peer']);
}

/** What every connection of one network shares: counters, the receive budget, rate-limited warnings. */
class Shared {
  private readonly lastLog = new Map<string, number>();
  private readonly peers = new PeerLabels();

  constructor(
    readonly log: Logger,
    readonly events: Events,
    readonly budget: ReceiveBudget,
  ) {}

  /** Count a refusal of `remote`'s connection; warn about it unless one of its kind was logged within the period. */
  refuse(kind: string, remote: StreamAddress, fields: Record<string, unknown>, msg: string): void {
    this.events.inc({ kind, peer: this.peers.stream(remote) });
    const now = Date.now();
    const last = this.lastLog.get(kind);
    if (last !== undefined && now - last < REFUSAL_LOG_PERIOD_MS) return;
    this.lastLog.set(kind, now);
    this.log.warn({ remote, ...fields, kind }, `${msg} (further ones of this kind only counted for 10 s)`);
  }
}

/**
 * Length-prefixed frames over TCP ("a.b.c.d:port") or Unix stream sockets ("unix:/path") with
 * node:net. A Unix listener removes a stale socket file first and restricts the new one to 0600.
 */
export class NodeStreamNetwork implements StreamNetwork {
  private readonly log: Logger;
  private readonly maxFrameSize: number;
  private readonly events: Events;
  private readonly shared: Shared;

  constructor(options: NodeStreamOptions) {
    this.log = options.logger.child({ module: 'stream' });
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    assert(Number.isInteger(this.maxFrameSize) && this.maxFrameSize > 0 && this.maxFrameSize <= MAX_FRAME_LENGTH, `bad maxFrameSize ${this.maxFrameSize}`);
    this.events = streamEvents(options.metrics);
    this.shared = new Shared(this.log, this.events, new ReceiveBudget(options.receiveBudget ?? 4 * this.maxFrameSize));
  }

  /** Bytes of incomplete incoming frames held now, over every connection. */
  get receiveBuffered(): number {
    return this.shared.budget.reserved;
  }

  async listen(address: StreamAddress, options: ListenOptions = {}): Promise<StreamListener> {
    const maxFrameSize = Math.min(options.maxFrameSize ?? this.maxFrameSize, this.maxFrameSize);
    assert(Number.isInteger(maxFrameSize) && maxFrameSize > 0, `bad listen maxFrameSize ${maxFrameSize}`);
    const parsed = parseAddress(address, true);
    if (parsed === undefined) throw new Error(`stream: cannot listen on ${JSON.stringify(address)}: expected "a.b.c.d:port" or "unix:/path"`);
    if (parsed.kind === 'unix') await removeStaleSocket(parsed.path);
    const server = createServer({ allowHalfOpen: false });
    const early = holdConnections(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        resolve();
      };
      if (parsed.kind === 'unix') server.listen(parsed.path, done);
      else server.listen(parsed.port, parsed.host, done);
    });
    let bound: StreamAddress;
    if (parsed.kind === 'unix') {
      // Only our own user may talk to the component API socket.
      await chmod(parsed.path, 0o600);
      bound = address;
    } else {
      const a = server.address();
      assert(a !== null && typeof a === 'object', 'tcp listener without an address');
      bound = formatInet(a.address, a.port);
    }
    const gate = new AdmissionGate(options, (ms, fn) => {
      const t = setTimeout(fn, ms);
      t.unref();
      return { cancel: () => clearTimeout(t) };
    });
    return new NodeStreamListener(server, early(), bound, parsed, (socket) => this.accept(socket, parsed, maxFrameSize, gate), this.log);
  }

  async connect(address: StreamAddress, options: { readonly timeoutMs: number }): Promise<Result<StreamConnection, StreamConnectError>> {
    const parsed = parseAddress(address, true);
    if (parsed === undefined) return err({ kind: 'unreachable', address, detail: 'unparsable address' });
    if (parsed.kind === 'inet' && parsed.port === 0) return err({ kind: 'unreachable', address, detail: 'port 0 cannot be connected to' });
    const socket = parsed.kind === 'unix' ? netConnect({ path: parsed.path }) : netConnect({ host: parsed.host, port: parsed.port });
    const r = await connected(socket, address, options.timeoutMs);
    if (!r.ok) {
      this.events.inc({ kind: `connect-${r.error.kind}` });
      return r;
    }
    return ok(new NodeStreamConnection(r.value, parsed, this.maxFrameSize, this.shared));
  }

  /** An accepted connection, through its listener's gate (undefined: refused, the socket destroyed). */
  private accept(socket: Socket, parsed: ParsedAddress, maxFrameSize: number, gate: AdmissionGate): NodeStreamConnection | undefined {
    const conn = new NodeStreamConnection(socket, parsed, maxFrameSize, this.shared);
    const a = gate.enter(conn.remoteAddress, () => conn.expire());
    if (typeof a === 'string') {
      this.shared.refuse(`refused-${a}`, conn.remoteAddress, {}, 'stream: connection refused at accept');
      socket.destroy();
      return undefined;
    }
    conn.gate(a);
    return conn;
  }
}

/**
 * Connections a server accepts before its listener object exists (while listen's callback and the
 * chmod after it run) are held here, not left without a handler; the listener takes them over.
 */
export function holdConnections(server: Server): () => Socket[] {
  const held: Socket[] = [];
  const hold = (s: Socket): void => void held.push(s);
  server.on('connection', hold);
  return () => {
    server.off('connection', hold);
    return held;
  };
}

/** The outcome of a socket's connect attempt, bounded by a timeout; a failed socket is destroyed. */
export function connected(socket: Socket, address: StreamAddress, timeoutMs: number): Promise<Result<Socket, StreamConnectError>> {
  return new Promise((resolve) => {
    const fail = (e: StreamConnectError): void => {
      clearTimeout(timer);
      socket.removeAllListeners('connect');
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(err(e));
    };
    const timer = setTimeout(() => fail({ kind: 'timeout', address, timeoutMs }), timeoutMs);
    timer.unref();
    socket.once('error', (e: NodeJS.ErrnoException) => {
      // ENOENT: no socket file, the Unix equivalent of nothing listening on a port.
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') fail({ kind: 'refused', address });
      else fail({ kind: 'unreachable', address, detail: e.code ?? e.message });
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(ok(socket));
    });
  });
}

/** Remove a socket file left by a previous listener; refuse to replace anything else. */
export async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (st === undefined) return;
  if (!st.isSocket()) throw new Error(`stream: ${path} exists and is not a socket; refusing to replace it`);
  await unlink(path);
}

class NodeStreamListener implements StreamListener {
  private readonly accepted: AcceptQueue<StreamConnection>;
  private isClosed = false;

  constructor(
    private readonly server: Server,
    early: readonly Socket[],
    readonly address: StreamAddress,
    private readonly parsed: ParsedAddress,
    wrap: (socket: Socket) => StreamConnection | undefined,
    log: Logger,
  ) {
    server.on('error', (e) => log.warn({ err: e, address }, 'stream listener error'));
    this.accepted = new AcceptQueue((e) => log.error({ err: e, address }, 'connection handler threw'));
    const accept = (socket: Socket): void => {
      const conn = wrap(socket);
      if (conn !== undefined) this.accepted.push(conn);
    };
    server.on('connection', accept);
    for (const socket of early) accept(socket);
  }

  onConnection(handler: (conn: StreamConnection) => void): void {
    this.accepted.setHandler(handler);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    // Stops accepting at once; accepted connections belong to their users and stay open.
    this.server.close();
    if (this.parsed.kind === 'unix') await unlink(this.parsed.path).catch(() => undefined);
  }
}

class NodeStreamConnection implements StreamConnection {
  readonly localAddress: StreamAddress;
  readonly remoteAddress: StreamAddress;
  private readonly decoder: FrameDecoder;
  private drainHandler: (() => void) | undefined;
  private closeHandler: ((info: StreamCloseInfo) => void) | undefined;
  /** Frames received before onFrame was set. */
  private readonly inbox: Inbox;
  /** The first reason the connection ended for; later ones are consequences. */
  private reason: StreamCloseInfo | undefined;
  private ended: StreamCloseInfo | undefined;
  private closeReported = false;
  private readonly log: Logger;
  /** Its listener's admission (handshake limits); none on outgoing connections. */
  private admission: Admission | undefined;

  constructor(
    private readonly socket: Socket,
    parsed: ParsedAddress,
    readonly maxFrameSize: number,
    private readonly shared: Shared,
  ) {
    this.decoder = new FrameDecoder(maxFrameSize, shared.budget);
    if (parsed.kind === 'unix') {
      this.localAddress = `unix:${parsed.path}`;
      this.remoteAddress = this.localAddress;
    } else {
      socket.setNoDelay(true);
      this.localAddress = formatInet(socket.localAddress ?? '?', socket.localPort ?? 0);
      this.remoteAddress = formatInet(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    }
    this.log = shared.log.child({ local: this.localAddress, remote: this.remoteAddress });
    this.inbox = new Inbox(socket, (e) => {
      shared.events.inc({ kind: 'handler-error' });
      this.log.error({ err: e }, 'frame handler threw');
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.drainHandler?.());
    socket.on('end', () => this.noteReason({ reason: 'peer' }));
    socket.on('error', (e: NodeJS.ErrnoException) => this.noteReason({ reason: 'error', detail: e.code ?? e.message }));
    socket.on('close', () => {
      this.ended = this.reason ?? { reason: 'peer' };
      this.admission?.leave();
      this.decoder.dispose();
      this.reportClose();
    });
  }

  /** Put the connection under its listener's handshake limits until admit(). */
  gate(a: Admission): void {
    this.admission = a;
    this.decoder.maxFrameSize = a.frameLimit(this.maxFrameSize);
  }

  admit(): void {
    const a = this.admission;
    if (a === undefined || a.admitted || this.closed) return;
    a.admit();
    this.decoder.maxFrameSize = this.maxFrameSize;
  }

  /** Its handshake deadline passed without admit(). */
  expire(): void {
    if (this.closed) return;
    this.shared.refuse('handshake-timeout', this.remoteAddress, {}, 'stream: connection not admitted within its handshake deadline; closing');
    this.noteReason({ reason: 'error', detail: 'not admitted within the handshake deadline' });
    this.socket.destroy();
  }

  get closed(): boolean {
    return this.reason !== undefined || this.ended !== undefined;
  }

  private noteReason(info: StreamCloseInfo): void {
    this.reason ??= info;
  }

  private receive(chunk: Buffer): void {
    this.decoder.feed(chunk);
    // One frame at a time: handling one may admit the connection, which raises the limit for the next.
    for (;;) {
      if (this.reason !== undefined && this.reason.reason !== 'peer') return;
      const r = this.decoder.next();
      if (r === undefined) return;
      if (r.kind === 'frame') {
        this.inbox.push(r.frame);
        continue;
      }
      const max = this.decoder.maxFrameSize;
      if (r.kind === 'too-large') {
        const kind = max < this.maxFrameSize ? 'handshake-frame-too-large' : 'frame-too-large';
        this.shared.refuse(kind, this.remoteAddress, { length: r.length, max }, 'peer sent a frame above the limit; closing');
        this.noteReason({ reason: 'frame-too-large', detail: `frame of ${r.length} bytes > ${max}` });
      } else {
        const b = this.shared.budget;
        this.shared.refuse('receive-budget', this.remoteAddress, { length: r.length, reserved: b.reserved, capacity: b.capacity }, 'no room left in the receive budget for a frame; closing');
        this.noteReason({ reason: 'error', detail: `frame of ${r.length} bytes: receive budget of ${b.capacity} bytes exhausted` });
      }
      this.socket.destroy();
      return;
    }
  }

  send(frame: Uint8Array): boolean {
    if (this.closed) return false;
    // One write of header and body: a copy, so the caller may reuse its buffer at once.
    return this.socket.write(Buffer.concat([frameHeader(frame.byteLength), frame]));
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.inbox.setHandler(handler);
  }

  onDrain(handler: () => void): void {
    this.drainHandler = handler;
  }

  onClose(handler: (info: StreamCloseInfo) => void): void {
    this.closeHandler = handler;
    if (this.ended !== undefined) queueMicrotask(() => this.reportClose());
  }

  private reportClose(): void {
    const info = this.ended;
    const h = this.closeHandler;
    if (info === undefined || h === undefined || this.closeReported) return;
    this.closeReported = true;
    h(info);
  }

  close(): void {
    if (this.closed) return;
    this.noteReason({ reason: 'local' });
    // Flush what was sent, then FIN; destroy once written, or after a linger if the peer never reads.
    const linger = setTimeout(() => this.socket.destroy(), CLOSE_LINGER_MS);
    linger.unref();
    this.socket.end(() => {
      clearTimeout(linger);
      this.socket.destroy();
    });
  }
}
