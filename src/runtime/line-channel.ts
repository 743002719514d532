/**
 * A `\n`-framed message session over a channel that comes and goes (a VM's virtio-serial port:
 * on the host the socket exists while QEMU runs; in the guest the device reads end-of-file while
 * the host end is not connected). It opens, reopens with doubling backoff (reset by a successful connect, cut short
 * by kick()), splits incoming bytes into lines, and queues outgoing lines while the channel is
 * backpressured, up to a byte budget, so that queued lines can still be withdrawn (cancel).
 * Everything goes through the Clock and Channel ports.
 */
import { LineDecoder, type LineDrop } from '../util/lines.js';
import type { Result } from '../util/result.js';
import type { Channel, ChannelCloseInfo } from './ports/channel.js';
import type { Clock, TimerHandle } from './ports/clock.js';

export type LineChannelState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'stopped';

export interface LineChannelOptions {
  /** One attempt at the far end: connect to a socket, open a device (the error says why not). */
  readonly open: () => Promise<Result<Channel, string>>;
  readonly clock: Clock;
  readonly maxLineBytes: number;
  /** First retry delay after a failed connect or a lost connection. */
  readonly minBackoffMs: number;
  /** The delay doubles up to this. */
  readonly maxBackoffMs: number;
  /** Bytes of lines queued behind a backpressured channel before new ones are dropped. */
  readonly maxQueuedBytes: number;
  readonly onLine: (line: string) => void;
  /** Every chunk's size as it arrives, before it is split (a reader's byte budget). */
  readonly onBytes?: (bytes: number) => void;
  readonly onDrop?: (drop: LineDrop) => void;
  readonly onState?: (state: LineChannelState, detail?: string) => void;
}

export type SendOutcome = 'sent' | 'queued' | 'not-connected' | 'queue-full';

export class LineChannel<Tag = never> {
  private channel: Channel | undefined;
  private timer: TimerHandle | undefined;
  private backoff: number;
  private stateNow: LineChannelState = 'idle';
  private readonly decoder: LineDecoder;
  private queue: Array<{ line: string; bytes: number; tag: Tag | undefined }> = [];
  private queuedBytes = 0;
  private writable = true;
  /** Connections made and lost over the session's life. */
  connects = 0;

  constructor(private readonly o: LineChannelOptions) {
    this.backoff = o.minBackoffMs;
    this.decoder = new LineDecoder(o.maxLineBytes);
  }

  get state(): LineChannelState {
    return this.stateNow;
  }

  start(): void {
    if (this.stateNow === 'idle') void this.connect();
  }

  /** Try again now if waiting out a backoff (the far end is likely back). */
  kick(): void {
    if (this.stateNow !== 'backoff') return;
    this.timer?.cancel();
    this.backoff = this.o.minBackoffMs;
    void this.connect();
  }

  stop(): void {
    if (this.stateNow === 'stopped') return;
    this.setState('stopped');
    this.timer?.cancel();
    this.channel?.close();
    this.channel = undefined;
    this.queue = [];
    this.queuedBytes = 0;
  }

  /** Stop reading the current connection (the far end sees backpressure) until resume(); a new connection starts reading. */
  pause(): void {
    this.channel?.pause();
  }

  resume(): void {
    this.channel?.resume();
  }

  /** Close the current connection and connect again after the backoff (the far end seems stuck). */
  drop(): void {
    this.channel?.close();
  }

  /** Send one line (the text should carry its own framing newlines). */
  send(text: string, tag?: Tag): SendOutcome {
    const c = this.channel;
    if (!c || this.stateNow !== 'connected') return 'not-connected';
    const bytes = Buffer.byteLength(text);
    if (this.writable && this.queue.length === 0) {
      this.writable = c.write(text);
      return 'sent';
    }
    if (this.queuedBytes + bytes > this.o.maxQueuedBytes) return 'queue-full';
    this.queue.push({ line: text, bytes, tag });
    this.queuedBytes += bytes;
    return 'queued';
  }

  /** Withdraw queued (not yet written) lines whose tag matches; how many were withdrawn. */
  cancel(match: (tag: Tag) => boolean): number {
    const before = this.queue.length;
    this.queue = this.queue.filter((q) => q.tag === undefined || !match(q.tag));
    this.queuedBytes = this.queue.reduce((n, q) => n + q.bytes, 0);
    return before - this.queue.length;
  }

  private async connect(): Promise<void> {
    this.setState('connecting');
    const r = await this.o.open();
    if (this.stateNow === 'stopped') {
      if (r.ok) r.value.close();
      return;
    }
    if (!r.ok) return this.retry(r.error);
    const c = r.value;
    this.channel = c;
    this.connects++;
    this.backoff = this.o.minBackoffMs;
    this.writable = true;
    this.decoder.reset();
    c.onData((chunk) => {
      this.o.onBytes?.(chunk.byteLength);
      for (const x of this.decoder.push(chunk).items) {
        if ('line' in x) this.o.onLine(x.line);
        else this.o.onDrop?.(x.drop);
      }
    });
    c.onDrain(() => this.flush());
    c.onClose((info: ChannelCloseInfo) => {
      if (this.channel !== c) return;
      this.decoder.reset();
      this.channel = undefined;
      this.queue = [];
      this.queuedBytes = 0;
      if (this.stateNow !== 'stopped') this.retry(`closed (${info.reason}${info.detail ? `: ${info.detail}` : ''})`);
    });
    this.setState('connected');
  }

  private flush(): void {
    const c = this.channel;
    if (!c) return;
    this.writable = true;
    while (this.writable && this.queue.length > 0) {
      const q = this.queue.shift()!;
      this.queuedBytes -= q.bytes;
      this.writable = c.write(q.line);
    }
  }

  private retry(why: string): void {
    this.setState('backoff', why);
    const wait = this.backoff;
    this.backoff = Math.min(this.o.maxBackoffMs, this.backoff * 2);
    this.timer = this.o.clock.setTimer(wait, () => void this.connect());
  }

  private setState(s: LineChannelState, detail?: string): void {
    this.stateNow = s;
    this.o.onState?.(s, detail);
  }
}
