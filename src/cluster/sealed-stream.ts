/**
 * A StreamNetwork whose connections are authenticated and sealed under the cluster keyring (the
 * rpc channel of forwarded writes, and Raft's transport). Each connection opens with a handshake:
 *
 *   client → server  HELLO    sealed(Nc)                 binds nothing: anyone may replay it, so
 *   server → client  WELCOME  sealed(Ns), bound to Nc     the server proves a key, live, to the client
 *   client → server  CONFIRM  sealed(""), bound to Nc+Ns  the client proves a key, live, to the server
 *
 * then every frame is sealed with associated data = direction, a per-direction frame counter, Nc
 * and Ns, so a frame cannot be replayed, dropped, reordered or moved to another connection or
 * direction without failing to open. Connections reach the application only once the handshake
 * is done (connect() resolves then; the listener hands them over then), so nothing unauthenticated
 * ever reaches raft/ or forward. A handshake that fails or takes longer than the timeout, or a frame
 * that does not open, closes the connection (`reason: 'error'`, a detail saying why), counted on
 * amf_cluster_unauthenticated_total and logged with the peer.
 */
import type { TimerHandle } from '../runtime/ports/clock.js';
import type { ListenOptions, StreamAddress, StreamCloseInfo, StreamConnectError, StreamConnection, StreamListener, StreamNetwork } from '../runtime/ports/stream.js';
import { assert, must } from '../util/assert.js';
import { err, ok, type Result } from '../util/result.js';
import { SEAL_OVERHEAD, type SealContext, type SealedChannelName } from './sealed-channel.js';

const HELLO = 1;
const WELCOME = 2;
const CONFIRM = 3;
const DATA = 4;
const NONCE_SIZE = 16;
const EMPTY = new Uint8Array(0);
const OPEN_HAS_NONCES = 'an open connection has both nonces';
const CLIENT_HAS_NONCE = 'a client draws its nonce when it is built';

export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 2000;
/** The largest handshake message (a sealed 16-byte nonce), with room to spare: all a stranger may send. */
export const HANDSHAKE_FRAME_LIMIT = 256;
/** Handshakes in progress at once on a listener, and from one host, when the caller sets no limits. */
const DEFAULT_PENDING = 64;
const DEFAULT_PENDING_PER_HOST = 8;

export interface SealedStreamOptions {
  /** A peer that has not completed the handshake by then is dropped. */
  readonly handshakeTimeoutMs?: number;
}

type Role = 'client' | 'server';
type HandshakeResult = Result<void, { readonly timeout: boolean; readonly detail: string }>;

/** Direction byte and big-endian frame counter: the per-frame part of a data frame's associated data. */
function frameContext(direction: number, counter: number): Uint8Array {
  const c = new Uint8Array(9);
  c[0] = direction;
  new DataView(c.buffer).setBigUint64(1, BigInt(counter));
  return c;
}

class SealedConnection implements StreamConnection {
  readonly maxFrameSize: number;
  private state: 'handshake' | 'open' | 'closed' = 'handshake';
  private nc: Uint8Array | undefined;
  private ns: Uint8Array | undefined;
  private sent = 0;
  private received = 0;
  private frameHandler: ((frame: Uint8Array) => void) | undefined;
  private readonly early: Uint8Array[] = [];
  private closeHandler: ((info: StreamCloseInfo) => void) | undefined;
  private closeInfo: StreamCloseInfo | undefined;
  private closeReported = false;
  /** Why we closed the inner connection, reported instead of its plain 'local'. */
  private failure: StreamCloseInfo | undefined;
  private readonly timer: TimerHandle;

  constructor(
    private readonly inner: StreamConnection,
    private readonly seal: SealContext,
    private readonly channel: SealedChannelName,
    private readonly role: Role,
    timeoutMs: number,
    private ready: ((r: HandshakeResult) => void) | undefined,
  ) {
    this.maxFrameSize = inner.maxFrameSize - SEAL_OVERHEAD;
    inner.onFrame((frame) => this.receive(frame));
    inner.onClose((info) => this.ended(info));
    this.timer = seal.clock.setTimer(timeoutMs, () => this.fail('handshake-timeout', `no handshake within ${timeoutMs} ms`, true));
    if (role === 'client') {
      this.nc = seal.random.bytes(NONCE_SIZE);
      inner.send(seal.seal(channel, HELLO, [], this.nc));
    }
  }

  get localAddress(): StreamAddress {
    return this.inner.localAddress;
  }

  get remoteAddress(): StreamAddress {
    return this.inner.remoteAddress;
  }

  get closed(): boolean {
    return this.state === 'closed' || this.inner.closed;
  }

  send(frame: Uint8Array): boolean {
    if (this.state !== 'open') return false;
    const dir = this.role === 'client' ? 0 : 1;
    return this.inner.send(this.seal.seal(this.channel, DATA, [frameContext(dir, this.sent++), must(this.nc, OPEN_HAS_NONCES), must(this.ns, OPEN_HAS_NONCES)], frame));
  }

  onFrame(handler: (frame: Uint8Array) => void): void {
    this.frameHandler = handler;
    for (const f of this.early.splice(0)) handler(f);
  }

  onDrain(handler: () => void): void {
    this.inner.onDrain(handler);
  }

  onClose(handler: (info: StreamCloseInfo) => void): void {
    this.closeHandler = handler;
    // Closed before a handler was set: still tell it, exactly once (as the inner ports do).
    if (this.closeInfo) this.seal.clock.setTimer(0, () => this.reportClose());
  }

  close(): void {
    if (this.state !== 'closed') this.inner.close();
  }

  /** Nothing to do: a sealed connection reaches its user only once its handshake proved the peer. */
  admit(): void {}

  private receive(frame: Uint8Array): void {
    if (this.state === 'closed') return;
    if (this.state === 'open') return this.receiveData(frame);
    if (this.role === 'client') {
      const ns = this.seal.open(this.channel, WELCOME, [must(this.nc, CLIENT_HAS_NONCE)], frame);
      if (!ns.ok || ns.value.length !== NONCE_SIZE) return this.fail('handshake', `server's welcome: ${ns.ok ? 'bad nonce' : ns.error}`, true);
      this.ns = ns.value;
      this.inner.send(this.seal.seal(this.channel, CONFIRM, [must(this.nc, CLIENT_HAS_NONCE), this.ns], EMPTY));
      return this.established();
    }
    if (this.nc === undefined) {
      const nc = this.seal.open(this.channel, HELLO, [], frame);
      if (!nc.ok || nc.value.length !== NONCE_SIZE) return this.fail('handshake', `client's hello: ${nc.ok ? 'bad nonce' : nc.error}`, true);
      this.nc = nc.value;
      this.ns = this.seal.random.bytes(NONCE_SIZE);
      this.inner.send(this.seal.seal(this.channel, WELCOME, [this.nc], this.ns));
      return;
    }
    const confirm = this.seal.open(this.channel, CONFIRM, [this.nc, must(this.ns, 'a server with the client nonce sent its own')], frame);
    if (!confirm.ok || confirm.value.length !== 0) return this.fail('handshake', `client's confirmation: ${confirm.ok ? 'not empty' : confirm.error}`, true);
    this.established();
  }

  private receiveData(frame: Uint8Array): void {
    const dir = this.role === 'client' ? 1 : 0;
    const plain = this.seal.open(this.channel, DATA, [frameContext(dir, this.received), must(this.nc, OPEN_HAS_NONCES), must(this.ns, OPEN_HAS_NONCES)], frame);
    if (!plain.ok) return this.fail('frame', `frame ${this.received}: ${plain.error}`, false);
    this.received++;
    if (this.frameHandler) this.frameHandler(plain.value);
    else this.early.push(plain.value);
  }

  private established(): void {
    this.state = 'open';
    this.timer.cancel();
    this.inner.admit();
    this.settle(ok(undefined));
  }

  private settle(r: HandshakeResult): void {
    const ready = this.ready;
    this.ready = undefined;
    ready?.(r);
  }

  private fail(reason: string, detail: string, handshake: boolean): void {
    if (this.state === 'closed') return;
    const what = `sealed ${this.channel} ${handshake ? 'handshake' : 'connection'} with ${this.inner.remoteAddress}: ${detail}`;
    this.seal.refuse(this.channel, reason, this.inner.remoteAddress, detail);
    this.failure = { reason: 'error', detail: what };
    // Nothing more is read or sent; ended() reports the close once the inner connection is gone.
    this.state = 'closed';
    this.settle(err({ timeout: reason === 'handshake-timeout', detail: what }));
    this.inner.close();
  }

  private ended(info: StreamCloseInfo): void {
    // The inner connection refused something before the handshake was done (a frame far bigger
    // than any handshake message): counted like any other refusal, before anything was decoded.
    if (this.state === 'handshake' && info.reason === 'frame-too-large') this.seal.refuse(this.channel, 'handshake-frame-too-large', this.inner.remoteAddress, info.detail ?? '');
    this.state = 'closed';
    this.timer.cancel();
    this.closeInfo = this.failure ?? info;
    this.settle(err({ timeout: false, detail: `closed during the handshake (${info.reason}${info.detail ? `: ${info.detail}` : ''}): does the peer hold a key of the ring?` }));
    this.reportClose();
  }

  private reportClose(): void {
    const h = this.closeHandler;
    if (!h || !this.closeInfo || this.closeReported) return;
    this.closeReported = true;
    h(this.closeInfo);
  }
}

class SealedListener implements StreamListener {
  private handler: ((conn: StreamConnection) => void) | undefined;
  private readonly waiting: StreamConnection[] = [];
  private readonly handshaking = new Set<SealedConnection>();

  constructor(
    private readonly inner: StreamListener,
    seal: SealContext,
    channel: SealedChannelName,
    timeoutMs: number,
  ) {
    inner.onConnection((raw) => {
      const conn: SealedConnection = new SealedConnection(raw, seal, channel, 'server', timeoutMs, (r) => {
        this.handshaking.delete(conn);
        if (r.ok) this.deliver(conn);
      });
      this.handshaking.add(conn);
    });
  }

  get address(): StreamAddress {
    return this.inner.address;
  }

  onConnection(handler: (conn: StreamConnection) => void): void {
    this.handler = handler;
    for (const c of this.waiting.splice(0)) handler(c);
  }

  close(): Promise<void> {
    for (const c of this.handshaking) c.close();
    return this.inner.close();
  }

  private deliver(conn: StreamConnection): void {
    if (this.handler) this.handler(conn);
    else this.waiting.push(conn);
  }
}

/**
 * `inner` with authenticated, sealed connections on `channel`; `inner` itself when the keyring is
 * empty (traffic in clear). connect()'s timeout covers the handshake too.
 */
export function sealedStreamNetwork(inner: StreamNetwork, seal: SealContext, channel: SealedChannelName, options: SealedStreamOptions = {}): StreamNetwork {
  if (!seal.enabled) return inner;
  const handshakeMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  assert(handshakeMs > 0, 'sealed stream: handshake timeout must be positive');
  return {
    async listen(address: StreamAddress, o: ListenOptions = {}): Promise<StreamListener> {
      // Until its handshake is done a connection carries nothing but handshake messages.
      const deadline = Math.min(handshakeMs, o.handshake?.timeoutMs ?? handshakeMs);
      const handshake = {
        maxFrameSize: HANDSHAKE_FRAME_LIMIT,
        // A backstop: the sealed connection's own timer (which counts the refusal) fires first.
        timeoutMs: deadline + 1000,
        maxPending: o.handshake?.maxPending ?? DEFAULT_PENDING,
        maxPendingPerHost: o.handshake?.maxPendingPerHost ?? DEFAULT_PENDING_PER_HOST,
      };
      const l = await inner.listen(address, { ...o, handshake, ...(o.maxFrameSize === undefined ? {} : { maxFrameSize: o.maxFrameSize + SEAL_OVERHEAD }) });
      return new SealedListener(l, seal, channel, deadline);
    },
    async connect(address: StreamAddress, o: { readonly timeoutMs: number }): Promise<Result<StreamConnection, StreamConnectError>> {
      const started = seal.clock.now();
      const c = await inner.connect(address, o);
      if (!c.ok) return c;
      const budget = Math.min(handshakeMs, Math.max(1, o.timeoutMs - (seal.clock.now() - started)));
      return new Promise((resolve) => {
        const conn: SealedConnection = new SealedConnection(c.value, seal, channel, 'client', budget, (r) => {
          if (r.ok) resolve(ok(conn));
          else resolve(err(r.error.timeout ? { kind: 'timeout', address, timeoutMs: o.timeoutMs } : { kind: 'unreachable', address, detail: r.error.detail }));
        });
      });
    },
  };
}
