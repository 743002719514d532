import { chmod, unlink } from 'node:fs/promises';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { err, ok, type Result } from '../../util/result.js';
import type { Channel, ChannelCloseInfo, ChannelListener, ChannelNetwork } from '../ports/channel.js';
import type { Logger } from '../ports/observability.js';
import { openChannelDevice } from './channel-device.js';
import { AcceptQueue, Inbox } from './inbox.js';
import { connected, holdConnections, removeStaleSocket } from './stream.js';

const CLOSE_LINGER_MS = 2000;

/** Unix stream sockets and character devices with node:net and node:fs. */
export class NodeChannelNetwork implements ChannelNetwork {
  private readonly log: Logger;

  constructor(logger: Logger) {
    this.log = logger.child({ module: 'channel' });
  }

  async connect(path: string, options: { readonly timeoutMs: number }): Promise<Result<Channel, string>> {
    const r = await connected(netConnect({ path }), `unix:${path}`, options.timeoutMs);
    if (!r.ok) {
      const e = r.error;
      return err(`${path}: ${e.kind === 'refused' ? 'nothing listens' : e.kind === 'timeout' ? `no answer in ${e.timeoutMs} ms` : e.detail}`);
    }
    const socket = r.value;
    return ok(new NodeChannel(socket, socket, () => socket.destroy(), this.log));
  }

  async listen(path: string, options: { readonly mode?: number } = {}): Promise<Result<ChannelListener, string>> {
    try {
      await removeStaleSocket(path);
      const server = createServer({ allowHalfOpen: false });
      const early = holdConnections(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      await chmod(path, options.mode ?? 0o600);
      return ok(new NodeChannelListener(server, early(), path, this.log));
    } catch (e) {
      return err(`cannot listen on ${path}: ${(e as Error).message}`);
    }
  }

  /** A virtio-serial port, polled non-blocking (channel-device.ts says why). */
  openDevice(path: string): Promise<Result<Channel, string>> {
    return openChannelDevice(path, this.log);
  }
}

class NodeChannelListener implements ChannelListener {
  private readonly accepted: AcceptQueue<Channel>;
  private isClosed = false;

  constructor(
    private readonly server: Server,
    early: readonly Socket[],
    readonly path: string,
    log: Logger,
  ) {
    server.on('error', (e) => log.warn({ err: e, path }, 'channel listener error'));
    this.accepted = new AcceptQueue((e) => log.error({ err: e, path }, 'channel connection handler threw'));
    const accept = (socket: Socket): void => this.accepted.push(new NodeChannel(socket, socket, () => socket.destroy(), log));
    server.on('connection', accept);
    for (const socket of early) accept(socket);
  }

  onConnection(handler: (c: Channel) => void): void {
    this.accepted.setHandler(handler);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.server.close();
    await unlink(this.path).catch(() => undefined);
  }
}

class NodeChannel implements Channel {
  private drainHandler: (() => void) | undefined;
  private closeHandler: ((info: ChannelCloseInfo) => void) | undefined;
  private readonly inbox: Inbox;
  private reason: ChannelCloseInfo | undefined;
  private ended = false;
  private reported = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly destroy: () => void,
    log: Logger,
  ) {
    this.inbox = new Inbox(input, (e) => log.error({ err: e }, 'channel data handler threw'));
    input.on('data', (chunk: Buffer) => {
      if (!this.closed) this.inbox.push(chunk);
    });
    output.on('drain', () => this.drainHandler?.());
    input.on('end', () => this.end({ reason: 'peer' }));
    const onError = (e: NodeJS.ErrnoException): void => this.end({ reason: 'error', detail: e.code ?? e.message });
    input.on('error', onError);
    if ((output as unknown) !== input) output.on('error', onError);
    input.on('close', () => this.end({ reason: 'peer' }));
  }

  get closed(): boolean {
    return this.reason !== undefined;
  }

  write(data: Uint8Array | string): boolean {
    if (this.closed) return false;
    return this.output.write(data);
  }

  onData(handler: (chunk: Uint8Array) => void): void {
    this.inbox.setHandler(handler);
  }

  onDrain(handler: () => void): void {
    this.drainHandler = handler;
  }

  onClose(handler: (info: ChannelCloseInfo) => void): void {
    this.closeHandler = handler;
    if (this.ended) queueMicrotask(() => this.report());
  }

  pause(): void {
    this.input.pause();
  }

  resume(): void {
    this.input.resume();
  }

  close(): void {
    if (this.closed) return;
    this.reason = { reason: 'local' };
    this.ended = true;
    // Flush what was written, then let go; a peer that never reads gets CLOSE_LINGER_MS.
    const linger = setTimeout(() => this.destroy(), CLOSE_LINGER_MS);
    linger.unref();
    this.output.end(() => {
      clearTimeout(linger);
      this.destroy();
    });
    this.report();
  }

  private end(info: ChannelCloseInfo): void {
    if (this.ended) return;
    this.reason ??= info;
    this.ended = true;
    this.destroy();
    this.report();
  }

  private report(): void {
    if (this.reported || !this.closeHandler || !this.reason) return;
    this.reported = true;
    this.closeHandler(this.reason);
  }
}
