import { posix } from 'node:path';
import { AdmissionGate, type Admission } from '../src/runtime/admission.js';
import type {
  ListenOptions,
  StreamAddress,
  StreamCloseInfo,
  StreamConnectError,
  StreamConnection,
  StreamListener,
  StreamNetwork,
} from '../src/runtime/ports/stream.js';
import { err, ok, type Result } from '../src/util/result.js';
import { parseAddress } from './network.js';
import { SYSTEM, type Domain } from './scheduler.js';
import { fingerprint } from './trace.js';
import { PortAllocator, type World } from './world.js';

export interface StreamOptions {
  /** Largest frame a receiver accepts; a bigger one closes the connection. */
  readonly maxFrameSize: number;
  /** Unacknowledged bytes above which send() returns false (backpressure). */
  readonly highWaterMark: number;
  /** Bytes a receiver buffers for a reader that has not set onFrame yet, before it stops acknowledging. */
  readonly receiveBuffer: number;
  /** Link throughput per direction, bytes per virtual ms. */
  readonly bytesPerMs: number;
  /** Retransmission timeout: a lost segment arrives this much later. */
  readonly rtoMs: number;
  /** Pending data that cannot get through for this long aborts the connection (like TCP's retries). */
  readonly stallTimeoutMs: number;
  /** Interval between SYN retries while the peer is unreachable. */
  readonly synRetryMs: number;
}

const UNIX = 'unix:';

/** A Unix socket's key in the listener table: the machine and the normalized path. */
function unixKey(node: string, path: string): string {
  return `${node}|${UNIX}${posix.resolve('/', path)}`;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  maxFrameSize: 16 * 1024 * 1024,
  highWaterMark: 64 * 1024,
  receiveBuffer: 256 * 1024,
  bytesPerMs: 125_000,
  rtoMs: 200,
  stallTimeoutMs: 10_000,
  synRetryMs: 1000,
};

/**
 * Simulated TCP with length-prefixed frames: reliable and ordered while the link is up; loss
 * becomes retransmission delay; a cut link stalls pending frames, which flow again after a heal or
 * abort the connection after stallTimeoutMs; a crashed host's peers see a reset.
 */
export class StreamFabric {
  private readonly listeners = new Map<string, SimListener>();
  private readonly endpoints = new Set<Endpoint>();
  private readonly usedPorts = new Set<string>();
  private readonly ports = new PortAllocator();
  private readonly maxFrameSizes = new Map<string, number>();

  constructor(
    readonly world: World,
    readonly options: StreamOptions = DEFAULT_STREAM_OPTIONS,
  ) {}

  /** A node whose receivers accept frames up to `bytes` (others use options.maxFrameSize). */
  setMaxFrameSize(node: string, bytes: number): void {
    this.maxFrameSizes.set(node, bytes);
  }

  maxFrameSizeOf(node: string): number {
    return this.maxFrameSizes.get(node) ?? this.options.maxFrameSize;
  }

  /**
   * The StreamNetwork port of one node incarnation (or of a process of the machine: `domain` is
   * then the machine's). `"<node>:<port>"` is TCP; `"unix:/path"` a Unix socket of this machine.
   */
  network(node: string, domain: Domain): StreamNetwork {
    return {
      listen: (address, opts = {}) => (address.startsWith(UNIX) ? this.listenUnix(node, domain, address, opts) : this.listen(node, domain, address, opts)),
      connect: (address, opts) => (address.startsWith(UNIX) ? this.connectUnix(node, domain, address) : this.connect(node, domain, address, opts.timeoutMs)),
    };
  }

  /**
   * A node's daemon (or its whole machine) crashed: the listeners and connections of what died
   * vanish, their peers get a reset. A Unix socket's file stays behind (stale), as on Linux.
   */
  closeNode(node: string): void {
    for (const l of [...this.listeners.values()]) if (l.node === node && !l.domain.alive) l.closeNow();
    for (const e of [...this.endpoints]) {
      if (e.node !== node || e.domain.alive) continue;
      e.destroy();
      const peer = e.peer;
      if (peer && !peer.closed && this.world.links.canReach(node, peer.node)) {
        const d = this.world.links.delay(node, peer.node, false);
        this.world.scheduler.schedule(d, SYSTEM, () => peer.abort('connection reset by peer'));
      }
    }
  }

  forget(e: Endpoint): void {
    this.endpoints.delete(e);
    this.usedPorts.delete(e.localAddress);
  }

  unlisten(l: SimListener): void {
    if (this.listeners.get(l.key) === l) this.listeners.delete(l.key);
    this.usedPorts.delete(l.key);
    this.world.trace.record('stream.unlisten', l.address);
  }

  private listen(node: string, domain: Domain, address: StreamAddress, opts: ListenOptions): Promise<StreamListener> {
    const hp = parseAddress(address);
    if (!hp) return Promise.reject(new Error(`stream listen: bad address '${address}'`));
    if (hp.host !== node) return Promise.reject(new Error(`stream listen: '${address}' is not an address of node ${node}`));
    if (!domain.alive) return Promise.reject(new Error(`stream listen: node ${node} is down`));
    const port = hp.port !== 0 ? hp.port : this.ports.allocate(node, (p) => this.usedPorts.has(`${node}:${p}`));
    const bound = `${node}:${port}`;
    if (this.usedPorts.has(bound)) return Promise.reject(new Error(`stream listen: ${bound} is in use (EADDRINUSE)`));
    const l = new SimListener(this, node, domain, bound, bound, opts);
    this.listeners.set(bound, l);
    this.usedPorts.add(bound);
    this.world.trace.record('stream.listen', bound);
    return Promise.resolve(l);
  }

  /**
   * Listen on a Unix socket of the node's machine: its file is created in the machine's file
   * system (its directory must exist, nothing may be there) and removed by close(), not by a crash.
   */
  private listenUnix(node: string, domain: Domain, address: StreamAddress, opts: ListenOptions): Promise<StreamListener> {
    const path = address.slice(UNIX.length);
    const files = this.world.files(node);
    if (!path.startsWith('/') || !files) return Promise.reject(new Error(`stream listen: bad address '${address}'`));
    if (!domain.alive) return Promise.reject(new Error(`stream listen: node ${node} is down`));
    const bound = files.bindSocket(path);
    if (!bound.ok) return Promise.reject(new Error(`stream listen: ${bound.error}`));
    const key = unixKey(node, path);
    const l = new SimListener(this, node, domain, address, key, opts, () => files.remove(path));
    this.listeners.set(key, l);
    this.world.trace.record('stream.listen', node, address);
    return Promise.resolve(l);
  }

  /**
   * Connect to a Unix socket of the same machine: no link, no faults, loopback delay. Refused when
   * no socket file is there or nobody listens on it (a stale file of a crashed daemon).
   */
  private connectUnix(node: string, domain: Domain, address: StreamAddress): Promise<Result<StreamConnection, StreamConnectError>> {
    const path = address.slice(UNIX.length);
    const files = this.world.files(node);
    if (!path.startsWith('/') || !files) return Promise.resolve(err({ kind: 'unreachable', address, detail: 'bad address' }));
    const { scheduler, links, trace } = this.world;
    trace.record('stream.connect', node, address);
    return new Promise((resolve) => {
      scheduler.schedule(links.delay(node, node, false), domain, () => {
        const listener = this.listeners.get(unixKey(node, path));
        if (!listener || !files.isSocket(path)) {
          trace.record('stream.refused', node, address);
          resolve(err({ kind: 'refused', address }));
          return;
        }
        const client = new Endpoint(this, node, domain, address, address);
        const server = new Endpoint(this, node, listener.domain, address, address, listener.options.maxFrameSize);
        client.peer = server;
        server.peer = client;
        this.endpoints.add(client);
        this.endpoints.add(server);
        trace.record('stream.accept', node, address);
        listener.accept(server);
        resolve(ok(client));
      });
    });
  }

  private connect(
    node: string,
    domain: Domain,
    address: StreamAddress,
    timeoutMs: number,
  ): Promise<Result<StreamConnection, StreamConnectError>> {
    const hp = parseAddress(address);
    if (!hp || hp.port === 0) return Promise.resolve(err({ kind: 'unreachable', address, detail: 'bad address' }));
    const { scheduler, links, trace } = this.world;
    const local = `${node}:${this.ports.allocate(node, (p) => this.usedPorts.has(`${node}:${p}`))}`;
    this.usedPorts.add(local);
    const host = hp.host;
    const deadline = scheduler.now + timeoutMs;
    trace.record('stream.connect', local, address);
    return new Promise((resolve) => {
      let settled = false;
      const settle = (r: Result<StreamConnection, StreamConnectError>): void => {
        if (settled) return;
        settled = true;
        if (!r.ok) this.usedPorts.delete(local);
        if (domain.alive) resolve(r);
      };
      scheduler.schedule(timeoutMs, domain, () => {
        if (settled) return;
        trace.record('stream.connect-timeout', local, address);
        settle(err({ kind: 'timeout', address, timeoutMs }));
      });
      const syn = (): void => {
        if (settled || scheduler.now >= deadline) return;
        const hostDomain = this.world.appDomain(host);
        if (!hostDomain || !links.canReach(node, host) || !links.canReach(host, node)) {
          // SYN or SYN-ACK lost: try again, like TCP's SYN retries.
          scheduler.schedule(this.options.synRetryMs, SYSTEM, syn);
          return;
        }
        const there = links.delay(node, host, false);
        scheduler.schedule(there, hostDomain, () => {
          if (settled) return;
          const back = links.delay(host, node, false);
          const listener = this.listeners.get(address);
          if (!listener) {
            scheduler.schedule(back, domain, () => {
              trace.record('stream.refused', local, address);
              settle(err({ kind: 'refused', address }));
            });
            return;
          }
          const client = new Endpoint(this, node, domain, local, address);
          const server = new Endpoint(this, host, hostDomain, address, local, listener.options.maxFrameSize);
          client.peer = server;
          server.peer = client;
          this.endpoints.add(client);
          this.endpoints.add(server);
          trace.record('stream.accept', address, local);
          listener.accept(server);
          scheduler.schedule(back, domain, () => {
            if (settled) client.close();
            else settle(ok(client));
          });
        });
      };
      syn();
    });
  }
}

class SimListener implements StreamListener {
  private handler: ((conn: StreamConnection) => void) | undefined;
  private backlog: Endpoint[] = [];
  private closed = false;
  private readonly gate: AdmissionGate;

  constructor(
    private readonly fabric: StreamFabric,
    readonly node: string,
    readonly domain: Domain,
    readonly address: StreamAddress,
    /** Its key in the fabric's listener table (the address, or node and path for a Unix socket). */
    readonly key: string,
    /** maxFrameSize: accepted connections take frames up to this size (else the node's limit). */
    readonly options: ListenOptions,
    /** What close() does besides (a Unix socket's file is removed). */
    private readonly onClose: () => void = () => undefined,
  ) {
    this.gate = new AdmissionGate(options, (ms, fn) => {
      const ev = fabric.world.scheduler.schedule(ms, domain, fn);
      return { cancel: () => (ev.cancelled = true) };
    });
  }

  onConnection(handler: (conn: StreamConnection) => void): void {
    this.handler = handler;
    const queued = this.backlog;
    this.backlog = [];
    for (const c of queued) this.dispatch(handler, c);
  }

  accept(conn: Endpoint): void {
    const a = this.gate.enter(conn.remoteAddress, () => conn.drop('not admitted within the handshake deadline', 'error'));
    if (typeof a === 'string') {
      this.fabric.world.trace.record('stream.refused-at-accept', this.address, conn.remoteAddress, a);
      conn.close();
      return;
    }
    conn.gate(a);
    if (this.handler) this.dispatch(this.handler, conn);
    else this.backlog.push(conn);
  }

  /** As the Node implementation: a throwing handler is reported and its connection closed. */
  private dispatch(handler: (conn: StreamConnection) => void, conn: Endpoint): void {
    try {
      handler(conn);
    } catch (e) {
      this.fabric.world.handlerError(this.node, `connection handler on ${this.address}`, e);
      conn.close();
    }
  }

  close(): Promise<void> {
    if (!this.closed) this.onClose();
    this.closeNow();
    return Promise.resolve();
  }

  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.fabric.unlisten(this);
  }
}

/** A frame on its way, or the FIN that follows the last one. */
type Segment = Uint8Array | 'fin';

/** One end of a simulated connection. Outgoing state (ordering, stalls, backpressure) lives here. */
class Endpoint implements StreamConnection {
  peer: Endpoint | undefined;
  closed = false;
  private frameHandler: ((frame: Uint8Array) => void) | undefined;
  private drainHandler: (() => void) | undefined;
  private closeHandler: ((info: StreamCloseInfo) => void) | undefined;
  private closeInfo: StreamCloseInfo | undefined;
  private inbox: Uint8Array[] = [];
  private inboxBytes = 0;
  /** Bytes received but not yet acknowledged because the reader is not reading (window closed). */
  private unacked: number[] = [];
  /** Frames waiting for a cut link to heal, in order. */
  private stalled: Segment[] = [];
  private stallSince = 0;
  private lastArrival = 0;
  private wireFreeAt = 0;
  private inFlight = 0;
  private needDrain = false;
  private finSent = false;
  /** Its listener's admission (handshake limits); none on outgoing connections. */
  private admission: Admission | undefined;

  constructor(
    private readonly fabric: StreamFabric,
    readonly node: string,
    readonly domain: Domain,
    readonly localAddress: StreamAddress,
    readonly remoteAddress: StreamAddress,
    /** A listener's own limit (ListenOptions.maxFrameSize), never above the node's. */
    private readonly frameLimit?: number,
  ) {}

  get maxFrameSize(): number {
    const node = this.fabric.maxFrameSizeOf(this.node);
    return this.frameLimit === undefined ? node : Math.min(this.frameLimit, node);
  }

  gate(a: Admission): void {
    this.admission = a;
  }

  admit(): void {
    if (!this.closed) this.admission?.admit();
  }

  send(frame: Uint8Array): boolean {
    if (this.closed || this.finSent) return false;
    this.inFlight += frame.length;
    this.enqueue(frame.slice());
    if (this.inFlight > this.fabric.options.highWaterMark) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
    const queued = this.inbox;
    const unacked = this.unacked;
    this.inbox = [];
    this.unacked = [];
    this.inboxBytes = 0;
    for (const f of queued) this.dispatch(handler, f);
    for (const bytes of unacked) this.peer?.acked(bytes);
  }

  onDrain(handler: () => void): void {
    this.drainHandler = handler;
  }

  onClose(handler: (info: StreamCloseInfo) => void): void {
    this.closeHandler = handler;
    // Closed before a handler was set: still tell it, exactly once.
    if (this.closeInfo) this.fabric.world.scheduler.schedule(0, this.domain, () => this.notifyClose());
  }

  close(): void {
    if (this.closed) return;
    this.enqueue('fin');
    this.finSent = true;
    this.finish({ reason: 'local' });
  }

  /** The connection died under us (timeout, reset, frame too large). */
  abort(detail: string, reason: StreamCloseInfo['reason'] = 'error'): void {
    if (this.closed) return;
    this.finish(detail ? { reason, detail } : { reason });
  }

  /** This side gives up on the connection (as a destroyed socket): the peer sees it closed. */
  drop(detail: string, reason: StreamCloseInfo['reason']): void {
    if (this.closed) return;
    this.abort(detail, reason);
    const peer = this.peer;
    if (peer) {
      const back = this.fabric.world.links.delay(this.node, peer.node, false);
      this.fabric.world.scheduler.schedule(back, SYSTEM, () => peer.remoteGone());
    }
  }

  /** The host crashed: no callbacks, nothing more sent. */
  destroy(): void {
    this.closed = true;
    this.admission?.leave();
    this.closeHandler = undefined;
    this.stalled = [];
    this.fabric.forget(this);
  }

  private finish(info: StreamCloseInfo): void {
    this.closed = true;
    this.closeInfo = info;
    this.admission?.leave();
    this.fabric.world.trace.record('stream.close', this.localAddress, this.remoteAddress, info.reason);
    if (this.stalled.length === 0) this.fabric.forget(this);
    this.fabric.world.scheduler.schedule(0, this.domain, () => this.notifyClose());
  }

  private notifyClose(): void {
    const h = this.closeHandler;
    const info = this.closeInfo;
    if (!h || !info) return;
    this.closeHandler = undefined;
    h(info);
  }

  private enqueue(seg: Segment): void {
    const peer = this.peer;
    if (!peer) return;
    const { links } = this.fabric.world;
    if (this.stalled.length > 0 || !links.canReach(this.node, peer.node)) {
      if (this.stalled.length === 0) {
        this.stallSince = this.fabric.world.scheduler.now;
        this.fabric.world.scheduler.schedule(this.fabric.options.rtoMs, SYSTEM, () => this.retransmit());
      }
      this.stalled.push(seg);
      return;
    }
    this.transmit(seg);
  }

  private retransmit(): void {
    const peer = this.peer;
    if (!peer || this.stalled.length === 0) return;
    const { links, scheduler } = this.fabric.world;
    if (links.canReach(this.node, peer.node)) {
      const segs = this.stalled;
      this.stalled = [];
      for (const s of segs) this.transmit(s);
      if (this.closed) this.fabric.forget(this);
      return;
    }
    if (scheduler.now - this.stallSince >= this.fabric.options.stallTimeoutMs) {
      this.stalled = [];
      this.fabric.world.trace.record('stream.stall-timeout', this.localAddress, this.remoteAddress);
      this.abort('connection timed out');
      this.fabric.forget(this);
      return;
    }
    scheduler.schedule(this.fabric.options.rtoMs, SYSTEM, () => this.retransmit());
  }

  private transmit(seg: Segment): void {
    const peer = this.peer as Endpoint;
    const { links, scheduler, trace } = this.fabric.world;
    const opts = this.fabric.options;
    const size = seg === 'fin' ? 0 : seg.length;
    this.wireFreeAt = Math.max(this.wireFreeAt, scheduler.now) + size / opts.bytesPerMs;
    const delay = links.streamDelay(this.node, peer.node, opts.rtoMs);
    const arrival = Math.max(this.wireFreeAt + delay, this.lastArrival);
    this.lastArrival = arrival;
    // A dead peer still "receives" (in the system domain) so that the sender gets its reset.
    const domain = peer.domain.alive ? peer.domain : SYSTEM;
    scheduler.at(arrival, domain, () => {
      if (seg === 'fin') peer.receiveFin();
      else {
        trace.record('stream.frame', this.localAddress, this.remoteAddress, fingerprint(seg));
        peer.receive(seg);
      }
    });
  }

  /** The peer consumed (or buffered) bytes we sent: once all are, a blocked writer may go on. */
  acked(bytes: number): void {
    this.inFlight -= bytes;
    if (this.inFlight === 0 && this.needDrain && !this.closed) {
      this.needDrain = false;
      this.fabric.world.scheduler.schedule(0, this.domain, () => this.drainHandler?.());
    }
  }

  private receive(frame: Uint8Array): void {
    if (this.closed) {
      this.peer?.acked(frame.length);
      // Data for a connection that died (crash, timeout): the sender gets a reset.
      if (this.closeInfo?.reason !== 'local' && this.closeInfo?.reason !== 'peer') this.peer?.abort('connection reset by peer');
      return;
    }
    const limit = this.admission?.frameLimit(this.maxFrameSize) ?? this.maxFrameSize;
    if (frame.length > limit) {
      this.drop(`frame of ${frame.length} bytes exceeds ${limit}`, 'frame-too-large');
      return;
    }
    const handler = this.frameHandler;
    if (handler) {
      this.peer?.acked(frame.length);
      this.dispatch(handler, frame);
      return;
    }
    // Nobody reads yet: the kernel buffers up to receiveBuffer, then the window closes.
    this.inbox.push(frame);
    this.inboxBytes += frame.length;
    if (this.inboxBytes <= this.fabric.options.receiveBuffer) this.peer?.acked(frame.length);
    else this.unacked.push(frame.length);
  }

  private dispatch(handler: (frame: Uint8Array) => void, frame: Uint8Array): void {
    try {
      handler(frame);
    } catch (e) {
      this.fabric.world.handlerError(this.node, `frame handler on ${this.localAddress}`, e);
    }
  }

  private receiveFin(): void {
    if (this.closed) return;
    this.finSent = true;
    this.finish({ reason: 'peer' });
  }

  /** The peer closed on us (e.g. our frame was too large for it). */
  remoteGone(): void {
    if (!this.closed) {
      this.finSent = true;
      this.finish({ reason: 'peer' });
    }
  }
}
