import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { DatagramNetwork, DatagramSocket } from '../runtime/ports/datagram.js';
import type { Logger, Registry } from '../runtime/ports/observability.js';
import type { Random } from '../runtime/ports/random.js';
import type { ListenOptions, StreamConnection, StreamListener, StreamNetwork } from '../runtime/ports/stream.js';
import { PeerLabels } from '../runtime/peer-labels.js';
import { err, ok, type Result } from '../util/result.js';
import type { SwimConfig } from './config.js';
import { SwimCore, type CoreStats, type MemberView, type SwimEvent } from './core.js';
import { Envelope } from './envelope.js';
import { IV_SIZE, Keyring, TAG_SIZE } from './keyring.js';
import { assembleBody, decodeBody, decodePushPull, encodePushPull, WIRE_LIMITS, type MemberSnapshot, type MemberState } from './messages.js';
import { createSwimMetrics, type DropReason, type SwimMetrics } from './metrics.js';

export interface SwimPorts {
  readonly clock: Clock;
  readonly random: Random;
  readonly datagram: DatagramNetwork;
  readonly stream: StreamNetwork;
  readonly logger: Logger;
  readonly metrics: Registry;
}

export interface MemberlistOptions {
  /** Unique member name (at most 128 characters). */
  readonly name: string;
  /** "host:port" to bind the UDP socket and the TCP listener on; port 0 picks one port for both. */
  readonly bind: string;
  /** Address announced to other members (default: the bound address). */
  readonly advertise?: string;
  readonly config: SwimConfig;
  /** AES-256-GCM keys (32 bytes each), the first one primary; none: plaintext gossip. */
  readonly keys?: readonly Uint8Array[];
  readonly meta?: Uint8Array;
}

export interface UserMessage {
  readonly from: string;
  readonly payload: Uint8Array;
}

/** Repeated attempts to get one port for both UDP and TCP when port 0 was asked for. */
const BIND_ATTEMPTS = 8;
/** At most one warning per drop reason per this period (the metric counts every drop). */
const DROP_LOG_PERIOD_MS = 10_000;
/**
 * Push-pull connections served at once (memberlist's maxPushPullRequests), and from one host:
 * each may hold a frame for streamTimeoutMs, so without a cap a flood of connections is unbounded
 * memory. Legitimate load is about one per member per push-pull interval, plus joins.
 */
export const MAX_SERVED_PUSH_PULLS = 128;
export const MAX_SERVED_PUSH_PULLS_PER_HOST = 16;
/**
 * The largest push-pull request served: a member's whole state, about 900 bytes per member at
 * worst (name, address, 512 bytes of metadata), so 1 MiB holds more than 1000 members.
 */
export const MAX_PUSH_PULL_FRAME = 1024 * 1024;

/**
 * The push-pull listener's limits. A push-pull has no handshake: its one request is all a client
 * sends, so the connection is never admitted, and closes at the deadline at the latest.
 */
function pushPullListenOptions(config: SwimConfig): ListenOptions {
  return {
    handshake: { maxFrameSize: MAX_PUSH_PULL_FRAME, timeoutMs: config.streamTimeoutMs, maxPending: MAX_SERVED_PUSH_PULLS, maxPendingPerHost: MAX_SERVED_PUSH_PULLS_PER_HOST },
  };
}

/**
 * The SWIM driver: runs a SwimCore over the runtime ports. Datagrams carry probes and gossip,
 * streams carry push-pull (join and periodic anti-entropy). Every input passes the envelope
 * (label, keyring) and the decoder first; anything bad is dropped and counted, never thrown.
 */
export class Memberlist {
  private readonly log: Logger;
  private readonly metrics: SwimMetrics;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private readonly eventListeners: Array<(e: SwimEvent) => void> = [];
  private readonly userListeners: Array<(m: UserMessage) => void> = [];
  private readonly openConnections = new Set<StreamConnection>();
  private readonly lastDropLog = new Map<DropReason, number>();
  private readonly peerLabels = new PeerLabels();

  private constructor(
    private readonly ports: SwimPorts,
    private readonly core: SwimCore,
    private readonly envelope: Envelope,
    readonly keyring: Keyring,
    private readonly socket: DatagramSocket,
    private readonly listener: StreamListener,
    private readonly config: SwimConfig,
  ) {
    this.log = ports.logger.child({ module: 'swim' });
    this.metrics = createSwimMetrics(ports.metrics, {
      stats: () => core.stats,
      memberCounts: () => core.countByState(),
      healthScore: () => core.healthScore,
      queuedBroadcasts: () => core.queuedBroadcasts,
    });
    socket.onMessage((data, from) => this.onPacket(data, from));
    listener.onConnection((conn) => this.onConnection(conn));
  }

  /** Bind, listen and start probing and gossiping (alone until join()). */
  static async start(ports: SwimPorts, o: MemberlistOptions): Promise<Result<Memberlist, string>> {
    const keyring = Keyring.create(ports.random, o.keys ?? []);
    if (!keyring.ok) return err(`swim: ${keyring.error}`);
    if (o.name.length === 0 || o.name.length > WIRE_LIMITS.maxName) return err(`swim: name must be 1..${WIRE_LIMITS.maxName} characters`);
    const metaMax = Math.min(o.config.metaMaxSize, WIRE_LIMITS.maxMeta);
    if (o.meta && o.meta.length > metaMax) return err(`swim: metadata of ${o.meta.length} bytes exceeds ${metaMax}`);
    const bound = await bindBoth(ports, o.bind, pushPullListenOptions(o.config));
    if (!bound.ok) return bound;
    const { socket, listener } = bound.value;
    if (!o.advertise && /^(0\.0\.0\.0|\[?::\]?):/.test(socket.address)) {
      await Promise.all([socket.close(), listener.close()]);
      return err(`swim: bound to the wildcard address ${socket.address}: give an advertise address other members can reach`);
    }
    const envelope = new Envelope(o.config.label, keyring.value);
    const core = new SwimCore({
      name: o.name,
      addr: o.advertise ?? socket.address,
      config: o.config,
      random: ports.random,
      now: ports.clock.now(),
      ...(o.meta ? { meta: o.meta } : {}),
      // Always reserve room for encryption, so installing the first key later cannot overflow packets.
      packetOverhead: envelope.overhead + (keyring.value.size > 0 ? 0 : IV_SIZE + TAG_SIZE),
    });
    const ml = new Memberlist(ports, core, envelope, keyring.value, socket, listener, o.config);
    ml.log.info({ addr: socket.address, advertise: o.advertise ?? socket.address, encrypted: keyring.value.size > 0 }, 'swim started');
    ml.flush();
    return ok(ml);
  }

  get name(): string {
    return this.core.name;
  }

  /** The address other members reach this one at (the advertise address, else the bound one). */
  get address(): string {
    return this.core.addr;
  }

  get healthScore(): number {
    return this.core.healthScore;
  }

  get incarnation(): number {
    return this.core.incarnation;
  }

  members(): MemberView[] {
    return this.core.allMembers();
  }

  member(name: string): MemberView | undefined {
    return this.core.member(name);
  }

  /** Members alive or suspect, this one included. */
  liveCount(): number {
    return this.core.liveCount();
  }

  onEvent(listener: (e: SwimEvent) => void): void {
    this.eventListeners.push(listener);
  }

  onUserMessage(listener: (m: UserMessage) => void): void {
    this.userListeners.push(listener);
  }

  /** Push-pull with every seed ("host:port"); resolves to the number that answered. */
  async join(seeds: readonly string[]): Promise<number> {
    this.core.addSeeds(seeds);
    const results = await Promise.all(seeds.map((s) => this.pushPull(s, true)));
    return results.filter(Boolean).length;
  }

  /** Best-effort user message to every live member (or those named in `to`), one datagram each. */
  sendUserMessage(payload: Uint8Array, to?: readonly string[]): Result<number, string> {
    const r = this.core.userMessage(payload, to);
    this.flush();
    return r;
  }

  setMeta(meta: Uint8Array): Result<void, string> {
    const r = this.core.setMeta(meta);
    this.flush();
    return r;
  }

  /** Gossip our leave and wait until it has gone out (or timeoutMs), then keep running until shutdown(). */
  async leave(timeoutMs: number): Promise<void> {
    this.core.leave(this.ports.clock.now());
    this.flush();
    const deadline = this.ports.clock.now() + timeoutMs;
    while (!this.core.leaveSent() && this.ports.clock.now() < deadline && !this.stopped) {
      await new Promise<void>((resolve) => this.ports.clock.setTimer(this.config.gossipIntervalMs, resolve));
    }
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    for (const c of this.openConnections) c.close();
    await Promise.all([this.socket.close(), this.listener.close()]);
    this.log.info('swim stopped');
  }

  // ---- I/O -----------------------------------------------------------------------------------

  private onPacket(data: Uint8Array, from: string): void {
    if (this.stopped) return;
    this.metrics.packetsReceived.inc();
    const body = this.envelope.unwrap(data);
    if (!body.ok) return this.drop(body.error.reason, from, body.error.detail);
    const msgs = decodeBody(body.value);
    if (!msgs.ok) return this.drop('decode', from, msgs.error);
    this.core.handle(from, msgs.value, this.ports.clock.now());
    this.flush();
  }

  private drop(reason: DropReason, peer: string, detail: string, via: 'datagram' | 'stream' = 'datagram'): void {
    this.metrics.dropped.inc({ reason, peer: via === 'datagram' ? this.peerLabels.datagram(peer) : this.peerLabels.stream(peer) });
    const now = this.ports.clock.now();
    const last = this.lastDropLog.get(reason);
    if (last === undefined || now - last >= DROP_LOG_PERIOD_MS) {
      this.lastDropLog.set(reason, now);
      this.log.warn({ peer, reason, detail }, 'swim: dropped input (further drops of this kind only counted for 10 s)');
    }
  }

  /** Carry out what the core asked for, then re-arm the timer for its next deadline. */
  private flush(): void {
    for (const o of this.core.drain()) {
      switch (o.kind) {
        case 'packet': {
          if (this.stopped) break;
          const bytes = this.envelope.wrap(assembleBody(o.messages));
          const r = this.socket.send(o.to, bytes);
          if (r.ok) {
            this.metrics.packetsSent.inc();
            this.metrics.bytesSent.inc(bytes.length);
          } else {
            this.metrics.sendErrors.inc({ kind: r.error.kind });
            this.log.debug({ to: o.to, error: r.error }, 'swim: send failed');
          }
          break;
        }
        case 'push-pull':
          this.pushPull(o.to, o.join).catch((e: unknown) => this.log.error({ err: e, peer: o.to }, 'swim: push-pull failed unexpectedly'));
          break;
        case 'event':
          for (const l of this.eventListeners) this.callListener(() => l(o.event));
          break;
        case 'user':
          for (const l of this.userListeners) this.callListener(() => l({ from: o.from, payload: o.payload }));
          break;
      }
    }
    this.arm();
  }

  private callListener(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.error({ err: e }, 'swim: event listener threw');
    }
  }

  private arm(): void {
    if (this.stopped) return;
    const at = this.core.nextDeadline();
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.ports.clock.setTimer(Math.max(0, at - this.ports.clock.now()), () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      if (this.stopped) return;
      this.core.tick(this.ports.clock.now());
      this.flush();
    });
  }

  /** One push-pull exchange as the client: send our state, merge the reply. */
  private async pushPull(addr: string, join: boolean): Promise<boolean> {
    const done = (result: 'ok' | 'fail', detail?: string): boolean => {
      this.metrics.pushPull.inc({ result });
      if (detail) this.log.debug({ peer: addr, join, detail }, 'swim: push-pull failed');
      return result === 'ok';
    };
    if (this.stopped) return false;
    const conn = await this.ports.stream.connect(addr, { timeoutMs: this.config.streamTimeoutMs });
    if (!conn.ok) return done('fail', conn.error.kind);
    const c = conn.value;
    this.openConnections.add(c);
    const reply = new Promise<Uint8Array | undefined>((resolve) => {
      const timer = this.ports.clock.setTimer(this.config.streamTimeoutMs, () => resolve(undefined));
      c.onFrame((f) => {
        timer.cancel();
        resolve(f);
      });
      c.onClose(() => {
        timer.cancel();
        resolve(undefined);
      });
    });
    const frame = this.envelope.wrap(encodePushPull({ join, members: this.core.localState() }));
    if (frame.length > c.maxFrameSize) {
      c.close();
      this.openConnections.delete(c);
      return done('fail', `state of ${frame.length} bytes exceeds the frame limit ${c.maxFrameSize}`);
    }
    c.send(frame);
    const answer = await reply;
    c.close();
    this.openConnections.delete(c);
    if (!answer) return done('fail', 'no reply');
    if (this.stopped) return false;
    const remote = this.openPushPull(answer, addr);
    if (!remote) return done('fail', 'bad reply');
    this.core.merge(remote, this.ports.clock.now(), true);
    this.flush();
    return done('ok');
  }

  /**
   * The server side: answer with our state (taken before merging theirs), merge, let the client
   * close. The listener's limits (pushPullListenOptions) close it at streamTimeoutMs at the latest.
   */
  private onConnection(c: StreamConnection): void {
    if (this.stopped) return c.close();
    this.openConnections.add(c);
    c.onClose((info) => {
      this.openConnections.delete(c);
      if (info.reason === 'frame-too-large') this.drop('oversize', c.remoteAddress, `push-pull: ${info.detail ?? 'frame too large'}`, 'stream');
    });
    let answered = false;
    c.onFrame((f) => {
      if (answered || this.stopped) return;
      answered = true;
      const remote = this.openPushPull(f, c.remoteAddress);
      if (!remote) return c.close();
      const reply = this.envelope.wrap(encodePushPull({ join: false, members: this.core.localState() }));
      if (reply.length > c.maxFrameSize) {
        this.log.warn({ peer: c.remoteAddress, size: reply.length }, 'swim: push-pull state exceeds the frame limit');
        return c.close();
      }
      c.send(reply);
      this.metrics.pushPull.inc({ result: 'served' });
      this.core.merge(remote, this.ports.clock.now());
      this.flush();
    });
  }

  private openPushPull(frame: Uint8Array, peer: string): readonly MemberSnapshot[] | undefined {
    const body = this.envelope.unwrap(frame);
    if (!body.ok) {
      this.drop(body.error.reason, peer, `push-pull: ${body.error.detail}`, 'stream');
      return undefined;
    }
    const pp = decodePushPull(body.value);
    if (!pp.ok) {
      this.drop('decode', peer, pp.error, 'stream');
      return undefined;
    }
    return pp.value.members;
  }

  /** A copy of the protocol counters (also exported as metrics). */
  stats(): CoreStats {
    return { ...this.core.stats };
  }

  /** Known members by state, this one included. */
  countByState(): Record<MemberState, number> {
    return this.core.countByState();
  }
}

/** Bind UDP, then TCP on the same port; with port 0, retry when TCP finds that port taken. */
async function bindBoth(
  ports: SwimPorts,
  bind: string,
  listen: ListenOptions,
): Promise<Result<{ socket: DatagramSocket; listener: StreamListener }, string>> {
  const wantsAny = bind.endsWith(':0');
  let last = '';
  for (let attempt = 0; attempt < (wantsAny ? BIND_ATTEMPTS : 1); attempt++) {
    let socket: DatagramSocket;
    try {
      socket = await ports.datagram.bind(bind);
    } catch (e) {
      return err(`swim: cannot bind UDP ${bind}: ${(e as Error).message}`);
    }
    try {
      const listener = await ports.stream.listen(socket.address, listen);
      return ok({ socket, listener });
    } catch (e) {
      last = (e as Error).message;
      await socket.close();
    }
  }
  return err(`swim: cannot listen on TCP at the UDP port (${bind}): ${last}`);
}
