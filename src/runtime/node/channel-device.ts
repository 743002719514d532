import { close as fsClose, constants, open as fsOpen, read as fsRead, write as fsWrite } from 'node:fs';
import { err, ok, type Result } from '../../util/result.js';
import type { Channel, ChannelCloseInfo } from '../ports/channel.js';
import type { Logger } from '../ports/observability.js';

/** How often an idle device is read (no data pending). */
const POLL_MS = 20;
/** A write the device refused (its buffer is full) is retried this much later. */
const WRITE_RETRY_MS = 50;
const HIGH_WATER = 64 * 1024;
const CLOSE_LINGER_MS = 2000;
const CHUNK = 4096;

type ReadOutcome = { readonly kind: 'data'; readonly chunk: Uint8Array } | { readonly kind: 'empty' } | { readonly kind: 'eof' } | { readonly kind: 'error'; readonly detail: string };

function readOnce(fd: number): Promise<ReadOutcome> {
  const buf = Buffer.allocUnsafe(CHUNK);
  return new Promise((resolve) => {
    fsRead(fd, buf, 0, CHUNK, null, (e, n) => {
      if (e) resolve(e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK' ? { kind: 'empty' } : { kind: 'error', detail: e.code ?? e.message });
      else if (n === 0) resolve({ kind: 'eof' });
      else resolve({ kind: 'data', chunk: buf.subarray(0, n) });
    });
  });
}

/**
 * Open a character device (a virtio-serial port) as a Channel. The kernel's virtio_console tells
 * the host end's state only through reads: 0 (end-of-file) while the host end is not connected,
 * EAGAIN on a non-blocking fd while it is connected with nothing to say; and a blocking write
 * waits for the host end. So the device is opened non-blocking and read once before anything is
 * promised: end-of-file then is an error (the host end is not there; try again later) instead of
 * a channel that closes at once, and nothing written can hang in the kernel. After that it is
 * polled; end-of-file later closes the channel with reason `peer`.
 */
export function openChannelDevice(path: string, log: Logger): Promise<Result<Channel, string>> {
  return new Promise((resolve) => {
    fsOpen(path, constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY, (e, fd) => {
      if (e) {
        resolve(err(`cannot open ${path}: ${e.code ?? e.message}`));
        return;
      }
      void readOnce(fd).then((r) => {
        if (r.kind === 'data' || r.kind === 'empty') resolve(ok(new DeviceChannel(fd, path, r.kind === 'data' ? [r.chunk] : [], log)));
        else {
          fsClose(fd, () => undefined);
          resolve(err(r.kind === 'eof' ? `${path}: the host end is not connected` : `cannot read ${path}: ${r.detail}`));
        }
      });
    });
  });
}

class DeviceChannel implements Channel {
  private dataHandler: ((c: Uint8Array) => void) | undefined;
  private closeHandler: ((i: ChannelCloseInfo) => void) | undefined;
  private drainHandler: (() => void) | undefined;
  private reason: ChannelCloseInfo | undefined;
  private reported = false;
  private paused = false;
  private reading = false;
  private writing = false;
  private fdClosed = false;
  private closing = false;
  private readonly out: Buffer[] = [];
  private queued = 0;

  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly early: Uint8Array[],
    private readonly log: Logger,
  ) {
    this.poll();
  }

  get closed(): boolean {
    return this.reason !== undefined;
  }

  write(data: Uint8Array | string): boolean {
    if (this.closed || this.closing) return false;
    const b = Buffer.from(data);
    this.out.push(b);
    this.queued += b.byteLength;
    this.flush();
    return this.queued <= HIGH_WATER;
  }

  onData(handler: (c: Uint8Array) => void): void {
    this.dataHandler = handler;
    for (const c of this.early.splice(0)) this.deliver(c);
  }

  onDrain(handler: () => void): void {
    this.drainHandler = handler;
  }

  onClose(handler: (i: ChannelCloseInfo) => void): void {
    this.closeHandler = handler;
    if (this.closed) queueMicrotask(() => this.report());
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.poll();
  }

  /** Flush what was written (a guest's last `exit` must get out), then let go; at most CLOSE_LINGER_MS. */
  close(): void {
    if (this.closed || this.closing) return;
    this.closing = true;
    this.paused = true;
    if (this.out.length === 0) return this.end({ reason: 'local' });
    setTimeout(() => this.end({ reason: 'local' }), CLOSE_LINGER_MS).unref();
  }

  private deliver(chunk: Uint8Array): void {
    try {
      this.dataHandler?.(chunk);
    } catch (e) {
      this.log.error({ err: e, path: this.path }, 'channel data handler threw');
    }
  }

  private poll(): void {
    if (this.reading || this.paused || this.closed) return;
    this.reading = true;
    void readOnce(this.fd).then((r) => {
      this.reading = false;
      if (this.closed) return this.closeFdIfIdle();
      if (r.kind === 'data') {
        if (this.dataHandler === undefined) this.early.push(r.chunk);
        else this.deliver(r.chunk);
        setImmediate(() => this.poll());
      } else if (r.kind === 'empty') setTimeout(() => this.poll(), POLL_MS).unref();
      else if (r.kind === 'eof') this.end({ reason: 'peer', detail: 'the host end disconnected' });
      else this.end({ reason: 'error', detail: r.detail });
    });
  }

  private flush(): void {
    if (this.writing || this.closed) return;
    const b = this.out[0];
    if (b === undefined) return;
    this.writing = true;
    fsWrite(this.fd, b, 0, b.byteLength, null, (e, n) => {
      this.writing = false;
      if (this.closed) return this.closeFdIfIdle();
      if (e) {
        if (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK') setTimeout(() => this.flush(), WRITE_RETRY_MS).unref();
        else this.end({ reason: 'error', detail: e.code ?? e.message });
        return;
      }
      this.queued -= n;
      if (n === b.byteLength) this.out.shift();
      else this.out[0] = b.subarray(n);
      if (this.out.length > 0) this.flush();
      else if (this.closing) this.end({ reason: 'local' });
      else this.drainHandler?.();
    });
  }

  private end(info: ChannelCloseInfo): void {
    if (this.closed) return;
    this.reason = info;
    this.closeFdIfIdle();
    this.report();
  }

  /** Close the fd once no read or write uses it, so that a reused fd number is never touched. */
  private closeFdIfIdle(): void {
    if (this.reading || this.writing || this.fdClosed) return;
    this.fdClosed = true;
    fsClose(this.fd, (e) => {
      if (e) this.log.warn({ err: e, path: this.path }, 'closing the channel device failed');
    });
  }

  private report(): void {
    if (this.reported || !this.closeHandler || !this.reason) return;
    this.reported = true;
    this.closeHandler(this.reason);
  }
}
