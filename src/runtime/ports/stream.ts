import type { Result } from '../../util/result.js';

/** "host:port" for TCP (or a simulated node name and port), or "unix:/path/to.sock". */
export type StreamAddress = string;

export type StreamConnectError =
  | { readonly kind: 'refused'; readonly address: StreamAddress }
  | { readonly kind: 'timeout'; readonly address: StreamAddress; readonly timeoutMs: number }
  | { readonly kind: 'unreachable'; readonly address: StreamAddress; readonly detail: string };

export interface StreamCloseInfo {
  /** Why the connection ended: a local close(), the peer closing, an I/O error, or a frame too large. */
  readonly reason: 'local' | 'peer' | 'error' | 'frame-too-large';
  readonly detail?: string;
}

/**
 * A reliable, ordered, message-framed connection (length-prefixed frames over TCP). Frames that
 * arrive before onFrame is set are queued and delivered once it is set.
 */
export interface StreamConnection {
  readonly localAddress: StreamAddress;
  readonly remoteAddress: StreamAddress;
  /**
   * The largest frame this side accepts; a bigger incoming frame closes the connection with reason
   * 'frame-too-large'. Both ends of a cluster link are configured alike, so it bounds sends too.
   * Until admit(), a connection accepted by a listener with `handshake` limits takes frames only up
   * to `handshake.maxFrameSize`.
   */
  readonly maxFrameSize: number;
  /**
   * The peer proved who it is (its handshake is done): lift the handshake limits of its listener
   * (frame size, deadline, the pending-connection slot). A no-op on other connections.
   */
  admit(): void;
  /**
   * Queue one frame. Returns false when the send buffer is above its high-water mark: the frame is
   * still queued, and the caller should wait for onDrain before sending more (backpressure).
   * Sending on a closed connection is a no-op returning false.
   */
  send(frame: Uint8Array): boolean;
  onFrame(handler: (frame: Uint8Array) => void): void;
  onDrain(handler: () => void): void;
  /** Called exactly once when the connection ends, for whatever reason. */
  onClose(handler: (info: StreamCloseInfo) => void): void;
  readonly closed: boolean;
  close(): void;
}

export interface StreamListener {
  readonly address: StreamAddress;
  onConnection(handler: (conn: StreamConnection) => void): void;
  close(): Promise<void>;
}

/**
 * What a connection may do before it is admitted (StreamConnection.admit), so that nobody who has
 * not proved who they are can hold memory or slots for long: every listener between nodes sets it.
 */
export interface HandshakeLimits {
  /** Largest incoming frame before admission (a hello is small; a 16 MiB header is refused unread). */
  readonly maxFrameSize: number;
  /** Not admitted by then: closed (reason 'error', detail saying so). */
  readonly timeoutMs: number;
  /** Connections not yet admitted at once on the listener; one more is closed at accept. */
  readonly maxPending: number;
  /** The same per remote host (a Unix socket's peers are one host). */
  readonly maxPendingPerHost: number;
}

export interface ListenOptions {
  /**
   * The largest frame accepted on this listener's connections, when it should be smaller than the
   * network's own limit (a local API with small messages need not buffer a 16 MiB frame to refuse it).
   */
  readonly maxFrameSize?: number;
  /** Limits on connections until they are admitted (none: every connection is admitted at accept). */
  readonly handshake?: HandshakeLimits;
  /** Connections open at once, admitted or not; one more is closed at accept. Default: no cap. */
  readonly maxConnections?: number;
}

export interface StreamNetwork {
  listen(address: StreamAddress, options?: ListenOptions): Promise<StreamListener>;
  connect(address: StreamAddress, options: { readonly timeoutMs: number }): Promise<Result<StreamConnection, StreamConnectError>>;
}
