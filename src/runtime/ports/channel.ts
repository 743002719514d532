import type { Result } from '../../util/result.js';

/**
 * A plain byte stream with no framing of ours: the host end of a virtio-serial channel (a unix
 * stream socket that QEMU listens on, as libvirt's `<channel type='unix'>`), the channel device
 * inside a guest (`/dev/virtio-ports/<name>`), or a local application socket. The protocols on
 * top (guest heartbeat, server-group messaging) frame their own messages.
 */
export interface Channel {
  /**
   * Queue bytes. False when more than the high-water mark is buffered: the bytes are still
   * queued, and the caller should wait for onDrain. Writing to a closed channel is a no-op (false).
   */
  write(data: Uint8Array | string): boolean;
  onData(handler: (chunk: Uint8Array) => void): void;
  onDrain(handler: () => void): void;
  /** Called exactly once when the channel ends: closed here, by the peer, or an I/O error. */
  onClose(handler: (info: ChannelCloseInfo) => void): void;
  /** Stop reading until resume(): the peer sees backpressure (a flooding guest is held back). */
  pause(): void;
  resume(): void;
  readonly closed: boolean;
  close(): void;
}

export interface ChannelCloseInfo {
  readonly reason: 'local' | 'peer' | 'error';
  readonly detail?: string;
}

export interface ChannelListener {
  readonly path: string;
  onConnection(handler: (channel: Channel) => void): void;
  close(): Promise<void>;
}

export interface ChannelNetwork {
  /** Connect to a unix stream socket; the error says why not (nothing listens, no socket file, …). */
  connect(path: string, options: { readonly timeoutMs: number }): Promise<Result<Channel, string>>;
  /** Listen on a unix stream socket (a stale socket file is replaced; any other file is refused). */
  listen(path: string, options?: { readonly mode?: number }): Promise<Result<ChannelListener, string>>;
  /**
   * Open a character device for reading and writing (a virtio-serial port). While the host end is
   * not connected (the device reads end-of-file) the open fails with a reason; an open channel
   * closes with reason `peer` when the host end goes away.
   */
  openDevice(path: string): Promise<Result<Channel, string>>;
}
