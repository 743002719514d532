import { lstat, chmod, unlink } from 'node:fs/promises';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { assert } from '../../util/assert.js';
import { err, ok, type Result } from '../../util/result.js';
import type { Logger, Registry } from '../ports/observability.js';
import type { ListenOptions, StreamAddress, StreamCloseInfo, StreamConnectError, StreamConnection, StreamListener, StreamNetwork } from '../ports/stream.js';
import { formatInet, parseAddress, type ParsedAddress } from './address.js';
import { FrameDecoder, frameHeader, MAX_FRAME_LENGTH } from './framing.js';
import { Inbox } from './inbox.js';
import { counter } from './metrics.js';

export const DEFAULT_MAX_FRAME_SIZE = 16 * 1024 * 1024;
/** A local close() flushes what was sent; a peer that never reads gets this long before we destroy. */
const CLOSE_LINGER_MS = 5000;

export interface NodeStreamOptions {
  readonly logger: Logger;
  readonly metrics: Registry;
  /** Largest incoming frame accepted; default 16 MiB. */
  readonly maxFrameSize?: number;
}

type Events = ReturnType<typeof streamEvents>;

function streamEvents(metrics: Registry) {
  return counter(metrics, 'amfd_stream_events_total', 'Stream connection failures and refusals', ['kind']);
}

/**
 * Length-prefixed frames over TCP ("a.b.c.d:port") or Unix stream sockets ("unix:/path") with
 * node:net. A Unix listener removes a stale socket file first and restricts the new one to 0600.
 */
export class NodeStreamNetwork implements StreamNetwork {
  private readonly log: Logger;
  private readonly maxFrameSize: number;
  private readonly events: Events;

  constructor(options: NodeStreamOptions) {
    this.log = options.logger.child({ module: 'stream' });
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    assert(Number.isInteger(this.maxFrameSize) && this.maxFrameSize > 0 && this.maxFrameSize <= MAX_FRAME_LENGTH, `bad maxFrameSize ${this.maxFrameSize}`);
    this.events = streamEvents(options.metrics);
  }

  async listen(address: StreamAddress, options: ListenOptions = {}): Promise<StreamListener> {
    const maxFrameSize = Math.min(options.maxFrameSize ?? this.maxFrameSize, this.maxFrameSize);
    assert(Number.isInteger(maxFrameSize) && maxFrameSize > 0, `bad listen maxFrameSize ${maxFrameSize}`);
    const parsed = parseAddress(address, true);
    if (parsed === undefined) throw new Error(`stream: cannot listen on ${JSON.stringify(address)}: expected "a.b.c.d:port" or "unix:/path"`);
    if (parsed.kind === 'unix') await removeStaleSocket(parsed.path);
    const server = createServer({ allowHalfOpen: false });
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
    return new NodeStreamListener(server, bound, parsed, (socket) => this.wrap(socket, parsed, maxFrameSize), this.log);
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
    return ok(this.wrap(r.value, parsed, this.maxFrameSize));
  }

  private wrap(socket: Socket, parsed: ParsedAddress, maxFrameSize: number): NodeStreamConnection {
    return new NodeStreamConnection(socket, parsed, maxFrameSize, this.log, this.events);
  }
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
  private handler: ((conn: StreamConnection) => void) | undefined;
  private readonly pending: StreamConnection[] = [];
  private isClosed = false;

  constructor(
    private readonly server: Server,
    readonly address: StreamAddress,
    private readonly parsed: ParsedAddress,
    wrap: (socket: Socket) => StreamConnection,
    log: Logger,
  ) {
    server.on('error', (e) => log.warn({ err: e, address }, 'stream listener error'));
    server.on('connection', (socket) => {
      const conn = wrap(socket);
      if (this.handler === undefined) {
        this.pending.push(conn);
        return;
      }
      try {
        this.handler(conn);
      } catch (e) {
        log.error({ err: e, address }, 'connection handler threw');
        conn.close();
      }
    });
  }

  onConnection(handler: (conn: StreamConnection) => void): void {
    this.handler = handler;
    for (const c of this.pending.splice(0)) handler(c);
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

  constructor(
    private readonly socket: Socket,
    parsed: ParsedAddress,
    readonly maxFrameSize: number,
    log: Logger,
    private readonly events: Events,
  ) {
    this.decoder = new FrameDecoder(maxFrameSize);
    if (parsed.kind === 'unix') {
      this.localAddress = `unix:${parsed.path}`;
      this.remoteAddress = this.localAddress;
    } else {
      socket.setNoDelay(true);
      this.localAddress = formatInet(socket.localAddress ?? '?', socket.localPort ?? 0);
      this.remoteAddress = formatInet(socket.remoteAddress ?? '?', socket.remotePort ?? 0);
    }
    this.log = log.child({ local: this.localAddress, remote: this.remoteAddress });
    this.inbox = new Inbox(socket, (e) => {
      this.events.inc({ kind: 'handler-error' });
      this.log.error({ err: e }, 'frame handler threw');
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.drainHandler?.());
    socket.on('end', () => this.noteReason({ reason: 'peer' }));
    socket.on('error', (e: NodeJS.ErrnoException) => this.noteReason({ reason: 'error', detail: e.code ?? e.message }));
    socket.on('close', () => {
      this.ended = this.reason ?? { reason: 'peer' };
      this.reportClose();
    });
  }

  get closed(): boolean {
    return this.reason !== undefined || this.ended !== undefined;
  }

  private noteReason(info: StreamCloseInfo): void {
    this.reason ??= info;
  }

  private receive(chunk: Buffer): void {
    if (this.reason?.reason === 'local' || this.reason?.reason === 'frame-too-large') return;
    const r = this.decoder.push(chunk);
    for (const f of r.frames) this.inbox.push(f);
    if (r.tooLarge !== undefined) {
      this.events.inc({ kind: 'frame-too-large' });
      this.log.warn({ length: r.tooLarge, max: this.maxFrameSize }, 'peer sent a frame above maxFrameSize; closing');
      this.noteReason({ reason: 'frame-too-large', detail: `frame of ${r.tooLarge} bytes > ${this.maxFrameSize}` });
      this.socket.destroy();
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
