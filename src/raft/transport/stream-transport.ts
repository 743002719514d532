import { Counter, type Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../../runtime/ports/clock.js';
import type { Logger } from '../../runtime/ports/observability.js';
import { PeerLabels } from '../../runtime/peer-labels.js';
import type { ListenOptions, StreamConnection, StreamListener, StreamNetwork } from '../../runtime/ports/stream.js';
import { validateMessage } from '../core/validate.js';
import type { Message, NodeId } from '../core/types.js';
import { packr } from '../storage/codec.js';
import type { Transport } from './transport.js';

export interface StreamTransportOptions {
  /** This node's id, announced in the hello frame that opens every outgoing connection. */
  readonly id: NodeId;
  /** Connect timeout per attempt. */
  readonly connectTimeoutMs: number;
  /** First reconnect delay after a failure; doubles per failure up to maxBackoffMs. */
  readonly minBackoffMs: number;
  /** Cap on the reconnect delay; keep it below the election timeout so a healed peer is soon heard. */
  readonly maxBackoffMs: number;
  /** Messages held per peer while connecting or while the connection is backed up; older ones are dropped. */
  readonly maxQueued: number;
}

/** One outgoing connection per peer address; replies arrive on the peer's own connection to us. */
class Peer {
  conn: StreamConnection | undefined;
  connecting = false;
  backedUp = false;
  failures = 0;
  retry: TimerHandle | undefined;
  readonly queue: Uint8Array[] = [];
  /** The id last seen in a message to this address, for reachability reports. */
  id: NodeId | undefined;
  closed = false;

  constructor(readonly address: string) {}
}

const MAX_HELLO_FIELD = 256;

/**
 * Until its hello, a connection is a stranger's: it may send one small frame (a hello is at most
 * ~530 bytes), within a deadline, and only so many strangers at once (per host and in all). Then
 * at most this many connections stay open (a cluster needs one per peer, a few more on reconnects).
 * Without them one peer could make the leader buffer 16 MiB per connection with no end (issue 25:
 * 20 half-sent frames took it from 98 to 394 MB).
 */
export const RAFT_LISTEN_OPTIONS: ListenOptions = {
  handshake: { maxFrameSize: 4096, timeoutMs: 5000, maxPending: 64, maxPendingPerHost: 16 },
  maxConnections: 256,
};

/** The first frame on a connection: who is calling and where it listens (hashicorp's RPCHeader). */
function parseHello(v: unknown): { id: NodeId; address: string } | undefined {
  const h = (v as { hello?: { id?: unknown; address?: unknown } } | null)?.hello;
  if (!h || typeof h.id !== 'string' || typeof h.address !== 'string') return undefined;
  if (h.id === '' || h.id.length > MAX_HELLO_FIELD || h.address.length > MAX_HELLO_FIELD) return undefined;
  return { id: h.id, address: h.address };
}

/**
 * Raft messages over the StreamNetwork port: one msgpackr frame per message, after a hello frame
 * naming the caller. Every decoded frame is checked (the hello by shape, messages by the core's
 * validateMessage and by `from` matching the hello); a frame that fails closes its connection and
 * is counted (the sender reconnects), and never reaches the core.
 */
export class StreamTransport implements Transport {
  private handler: (m: Message) => void = () => {};
  private statusHandler: (id: NodeId, reachable: boolean) => void = () => {};
  private addressHandler: (id: NodeId, address: string) => void = () => {};
  private readonly peers = new Map<string, Peer>();
  private readonly inbound = new Set<StreamConnection>();
  private closing = false;
  private readonly log: Logger;
  private readonly badFrames: Counter<'reason' | 'peer'>;
  private readonly peerLabels = new PeerLabels();
  private readonly dropped: Counter;
  private readonly sent: Counter;

  private constructor(
    private readonly listener: StreamListener,
    private readonly net: StreamNetwork,
    private readonly clock: Clock,
    logger: Logger,
    metrics: Registry,
    private readonly options: StreamTransportOptions,
  ) {
    this.log = logger.child({ module: 'raft-transport' });
    this.badFrames = new Counter({ name: 'raft_transport_bad_frames_total', help: 'Frames that failed to decode or validate (connection closed), by peer host', labelNames: ['reason', 'peer'], registers: [metrics] });
    this.dropped = new Counter({ name: 'raft_transport_dropped_total', help: 'Outgoing messages dropped (peer unreachable or backed up)', registers: [metrics] });
    this.sent = new Counter({ name: 'raft_transport_sent_total', help: 'Outgoing messages written to a connection', registers: [metrics] });
    listener.onConnection((conn) => this.accept(conn));
  }

  static async listen(net: StreamNetwork, address: string, clock: Clock, logger: Logger, metrics: Registry, options: StreamTransportOptions): Promise<StreamTransport> {
    const listener = await net.listen(address, RAFT_LISTEN_OPTIONS);
    return new StreamTransport(listener, net, clock, logger, metrics, options);
  }

  get localAddress(): string {
    return this.listener.address;
  }

  onMessage(handler: (m: Message) => void): void {
    this.handler = handler;
  }

  onPeerStatus(handler: (id: NodeId, reachable: boolean) => void): void {
    this.statusHandler = handler;
  }

  onPeerAddress(handler: (id: NodeId, address: string) => void): void {
    this.addressHandler = handler;
  }

  send(address: string, m: Message): void {
    if (this.closing) return;
    let peer = this.peers.get(address);
    if (!peer) {
      peer = new Peer(address);
      this.peers.set(address, peer);
    }
    peer.id = m.to;
    const frame = packr.pack(m);
    if (peer.conn && !peer.conn.closed && !peer.backedUp) {
      this.write(peer, frame);
      return;
    }
    peer.queue.push(frame);
    if (peer.queue.length > this.options.maxQueued) {
      peer.queue.shift();
      this.dropped.inc();
    }
    if (!peer.conn && !peer.connecting && !peer.retry) void this.connect(peer);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const peer of this.peers.values()) {
      peer.closed = true;
      peer.retry?.cancel();
      peer.conn?.close();
    }
    for (const conn of this.inbound) conn.close();
    await this.listener.close();
  }

  private write(peer: Peer, frame: Uint8Array): void {
    this.sent.inc();
    if (!peer.conn!.send(frame)) peer.backedUp = true;
  }

  private async connect(peer: Peer): Promise<void> {
    peer.connecting = true;
    const r = await this.net.connect(peer.address, { timeoutMs: this.options.connectTimeoutMs });
    peer.connecting = false;
    if (peer.closed) {
      if (r.ok) r.value.close();
      return;
    }
    if (!r.ok) {
      this.failed(peer, r.error.kind);
      return;
    }
    const conn = r.value;
    conn.send(packr.pack({ hello: { id: this.options.id, address: this.localAddress } }));
    peer.conn = conn;
    peer.backedUp = false;
    if (peer.failures > 0 && peer.id) this.statusHandler(peer.id, true);
    peer.failures = 0;
    // Peers never send on our outgoing connection; anything arriving there is hostile.
    conn.onFrame(() => {
      this.badFrames.inc({ reason: 'unexpected', peer: this.peerLabels.stream(conn.remoteAddress) });
      conn.close();
    });
    conn.onDrain(() => {
      peer.backedUp = false;
      this.flushQueue(peer);
    });
    conn.onClose((info) => {
      if (peer.conn === conn) peer.conn = undefined;
      if (peer.closed) return;
      this.log.debug({ peer: peer.address, reason: info.reason, detail: info.detail }, 'raft connection closed');
      // Reconnect lazily, on the next message to this peer (Raft sends heartbeats often enough).
      if (peer.queue.length > 0) this.failed(peer, info.reason);
    });
    this.flushQueue(peer);
  }

  private flushQueue(peer: Peer): void {
    while (peer.queue.length > 0 && peer.conn && !peer.conn.closed && !peer.backedUp) this.write(peer, peer.queue.shift()!);
  }

  private failed(peer: Peer, why: string): void {
    peer.failures++;
    if (peer.failures === 1 && peer.id) this.statusHandler(peer.id, false);
    this.dropped.inc(peer.queue.length);
    peer.queue.length = 0;
    const delay = Math.min(this.options.maxBackoffMs, this.options.minBackoffMs * 2 ** Math.min(peer.failures - 1, 16));
    this.log.debug({ peer: peer.address, why, failures: peer.failures, retryMs: delay }, 'raft peer unreachable');
    peer.retry = this.clock.setTimer(delay, () => {
      peer.retry = undefined;
      // Reconnect only when there is something to say; otherwise the next send() does it.
      if (!peer.closed && !peer.conn && !peer.connecting && peer.queue.length > 0) void this.connect(peer);
    });
  }

  private accept(conn: StreamConnection): void {
    if (this.closing) {
      conn.close();
      return;
    }
    this.inbound.add(conn);
    conn.onClose(() => this.inbound.delete(conn));
    let caller: NodeId | undefined;
    conn.onFrame((frame) => {
      if (conn.closed) return;
      let decoded: unknown;
      try {
        decoded = packr.unpack(frame);
      } catch (e) {
        this.reject(conn, 'decode', String(e));
        return;
      }
      if (caller === undefined) {
        const hello = parseHello(decoded);
        if (!hello) {
          this.reject(conn, 'hello', 'the first frame must be {hello: {id, address}}');
          return;
        }
        caller = hello.id;
        conn.admit();
        if (hello.address !== '') this.addressHandler(hello.id, hello.address);
        return;
      }
      const m = validateMessage(decoded);
      if (!m.ok) {
        this.reject(conn, 'invalid', m.error);
        return;
      }
      if (m.value.from !== caller) {
        this.reject(conn, 'spoofed', `message from ${m.value.from} on the connection of ${caller}`);
        return;
      }
      this.handler(m.value);
    });
  }

  private reject(conn: StreamConnection, reason: string, detail: string): void {
    this.badFrames.inc({ reason, peer: this.peerLabels.stream(conn.remoteAddress) });
    this.log.warn({ peer: conn.remoteAddress, reason, detail }, 'raft transport: bad frame, closing connection');
    conn.close();
  }
}
