import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Simulation } from '../../simulator/index.js';
import { SealContext, SEAL_OVERHEAD, nonLoopback } from '../../src/cluster/sealed-channel.js';
import { sealedDatagramNetwork } from '../../src/cluster/sealed-datagram.js';
import { sealedStreamNetwork } from '../../src/cluster/sealed-stream.js';
import type { DatagramSocket } from '../../src/runtime/ports/datagram.js';
import type { StreamCloseInfo, StreamConnection, StreamNetwork } from '../../src/runtime/ports/stream.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { Keyring } from '../../src/swim/index.js';
import { Envelope } from '../../src/swim/envelope.js';

const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(32).fill(2);
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function sim(seed: number, ...names: string[]): Simulation {
  const s = new Simulation({ seed });
  for (const n of names) s.addNode(n, (p: NodePorts) => p);
  return s;
}

function sealOf(p: NodePorts, keys: readonly Uint8Array[]): SealContext {
  const ring = Keyring.create(p.random.fork('ring'), keys);
  assert.ok(ring.ok);
  return new SealContext(ring.value, p.random.fork('nonce'), p.clock, p.logger, p.metrics);
}

async function refused(p: NodePorts): Promise<Record<string, number>> {
  const m = await p.metrics.getSingleMetric('amf_cluster_unauthenticated_total')!.get();
  const out: Record<string, number> = {};
  for (const v of m.values) out[`${v.labels.channel}/${v.labels.reason}`] = (out[`${v.labels.channel}/${v.labels.reason}`] ?? 0) + v.value;
  return out;
}

/** A bound socket and what it received. */
async function receiver(bind: Promise<DatagramSocket>): Promise<{ sock: DatagramSocket; got: Array<[string, string]>; raw: Uint8Array[] }> {
  const sock = await bind;
  const got: Array<[string, string]> = [];
  const raw: Uint8Array[] = [];
  sock.onMessage((d, from) => {
    got.push([text(d), from]);
    raw.push(d.slice());
  });
  return { sock, got, raw };
}

// Datagrams --------------------------------------------------------------------------------------

test('datagrams: round trip sealed, ciphertext on the wire, the size limit shrinks by the overhead', async () => {
  const s = sim(1, 'a', 'b', 'eve');
  const [a, b, eve] = [s.ports('a'), s.ports('b'), s.ports('eve')];
  const ra = await receiver(sealedDatagramNetwork(a.datagram, sealOf(a, [K1]), 'lease').bind('a:9000'));
  const rb = await receiver(sealedDatagramNetwork(b.datagram, sealOf(b, [K1]), 'lease').bind('b:9000'));
  const wire = await receiver(eve.datagram.bind('eve:9000'));
  assert.equal(rb.sock.maxDatagramSize, (await b.datagram.bind('b:9001')).maxDatagramSize - SEAL_OVERHEAD);
  assert.ok(rb.sock.send('a:9000', bytes('renew secret-1')).ok);
  assert.ok(ra.sock.send('b:9000', bytes('grant secret-2')).ok);
  assert.ok(rb.sock.send('eve:9000', bytes('renew secret-3')).ok);
  const big = rb.sock.send('a:9000', new Uint8Array(rb.sock.maxDatagramSize + 1));
  assert.equal(!big.ok && big.error.kind, 'too-large');
  await s.runFor(100);
  assert.deepEqual(ra.got, [['renew secret-1', 'b:9000']]);
  assert.deepEqual(rb.got, [['grant secret-2', 'a:9000']]);
  assert.equal(wire.raw.length, 1);
  assert.ok(!Buffer.from(wire.raw[0]!).includes('secret'), 'plaintext on the wire');
  assert.equal(wire.raw[0]!.length, 'renew secret-3'.length + SEAL_OVERHEAD);
});

test('datagrams: a wrong key, a tampered byte, plaintext and a gossip packet are dropped and counted', async () => {
  const s = sim(2, 'a', 'b', 'eve');
  const [a, b, eve] = [s.ports('a'), s.ports('b'), s.ports('eve')];
  const ra = await receiver(sealedDatagramNetwork(a.datagram, sealOf(a, [K1]), 'lease').bind('a:9000'));
  const wrong = await sealedDatagramNetwork(b.datagram, sealOf(b, [K2]), 'lease').bind('b:9000');
  const good = await sealedDatagramNetwork(eve.datagram, sealOf(eve, [K1]), 'lease').bind('eve:9001');
  const wire = await receiver(eve.datagram.bind('eve:9000'));
  const raw = await eve.datagram.bind('eve:9002');
  wrong.send('a:9000', bytes('wrong key'));
  good.send('eve:9000', bytes('to be tampered'));
  await s.runFor(50);
  const sealed = wire.raw[0]!;
  for (let i = 0; i < sealed.length; i += 7) {
    const t = sealed.slice();
    t[i]! ^= 0x40;
    raw.send('a:9000', t);
  }
  raw.send('a:9000', bytes('plaintext renew'));
  // The same keyring sealing a SWIM packet: another channel's associated data, so it never opens here.
  const gossipRing = Keyring.create(eve.random.fork('g'), [K1]);
  assert.ok(gossipRing.ok);
  const gossip = new Envelope('', gossipRing.value);
  raw.send('a:9000', gossip.wrap(bytes('gossip')));
  // And a lease datagram is no gossip packet either.
  assert.equal(gossip.unwrap(sealed).ok, false);
  await s.runFor(100);
  assert.deepEqual(ra.got, [], 'nothing delivered');
  const tampered = Math.ceil(sealed.length / 7);
  assert.deepEqual(await refused(a), { 'lease/datagram': 1 + tampered + 2 });
  // The untampered original still opens (the tampering, not the sender, was refused).
  raw.send('a:9000', sealed);
  await s.runFor(50);
  assert.deepEqual(ra.got.map((g) => g[0]), ['to be tampered']);
});

test('datagrams: rotation — a ring holding the old primary still opens it; a ring without it does not', async () => {
  const s = sim(3, 'a', 'b', 'c');
  const [a, b, c] = [s.ports('a'), s.ports('b'), s.ports('c')];
  // a: install done (K1 primary, K2 installed); b: use done (K2 primary, K1 still installed); c: remove done (K2 only).
  const ra = await receiver(sealedDatagramNetwork(a.datagram, sealOf(a, [K1, K2]), 'lease').bind('a:1'));
  const rb = await receiver(sealedDatagramNetwork(b.datagram, sealOf(b, [K2, K1]), 'lease').bind('b:1'));
  const rc = await receiver(sealedDatagramNetwork(c.datagram, sealOf(c, [K2]), 'lease').bind('c:1'));
  ra.sock.send('b:1', bytes('a→b'));
  ra.sock.send('c:1', bytes('a→c'));
  rb.sock.send('a:1', bytes('b→a'));
  rb.sock.send('c:1', bytes('b→c'));
  rc.sock.send('a:1', bytes('c→a'));
  await s.runFor(100);
  assert.deepEqual(ra.got.map((g) => g[0]).sort(), ['b→a', 'c→a']);
  assert.deepEqual(rb.got.map((g) => g[0]), ['a→b']);
  assert.deepEqual(rc.got.map((g) => g[0]), ['b→c'], 'c removed K1: a (still sealing with K1) is refused');
  assert.deepEqual(await refused(c), { 'lease/datagram': 1 });
});

test('without keys both decorators are the identity', () => {
  const s = sim(4, 'a');
  const a = s.ports('a');
  const none = sealOf(a, []);
  assert.equal(sealedDatagramNetwork(a.datagram, none, 'lease'), a.datagram);
  assert.equal(sealedStreamNetwork(a.stream, none, 'rpc'), a.stream);
  assert.deepEqual(nonLoopback(['127.0.0.1:1', 'localhost:2', '[::1]:3', '0.0.0.0:4', '10.1.2.3:5', 'n1:6']), ['0.0.0.0:4', '10.1.2.3:5', 'n1:6']);
});

// Streams ----------------------------------------------------------------------------------------

/**
 * A StreamNetwork between the sealed layer and the wire that lets a test see and rewrite the
 * sealed frames each outgoing connection writes (the attacker's position on the path).
 */
class Tap implements StreamNetwork {
  /** Frames written by every connection this tap opened, in order, as they went on the wire. */
  readonly wire: Uint8Array[][] = [];
  readonly raw: StreamConnection[] = [];
  /** Rewrites outgoing frame number n of a connection (all frames, handshake included): the frames to write instead. */
  rewrite: ((frame: Uint8Array, n: number, conn: number) => Uint8Array[]) | undefined;

  constructor(private readonly inner: StreamNetwork) {}

  listen: StreamNetwork['listen'] = (address, o) => this.inner.listen(address, o);

  connect: StreamNetwork['connect'] = async (address, o) => {
    const c = await this.inner.connect(address, o);
    if (!c.ok) return c;
    const conn = c.value;
    const id = this.raw.length;
    const log: Uint8Array[] = [];
    this.wire.push(log);
    this.raw.push(conn);
    let n = 0;
    const tapped: StreamConnection = {
      localAddress: conn.localAddress,
      remoteAddress: conn.remoteAddress,
      maxFrameSize: conn.maxFrameSize,
      get closed() {
        return conn.closed;
      },
      send: (frame) => {
        const out = this.rewrite ? this.rewrite(frame, n, id) : [frame];
        n++;
        let r = true;
        for (const f of out) {
          log.push(f.slice());
          r = conn.send(f) && r;
        }
        return r;
      },
      onFrame: (h) => conn.onFrame(h),
      onDrain: (h) => conn.onDrain(h),
      onClose: (h) => conn.onClose(h),
      close: () => conn.close(),
      admit: () => conn.admit(),
    };
    return { ok: true, value: tapped };
  };
}

interface Server {
  readonly conns: StreamConnection[];
  readonly got: string[];
  readonly closes: StreamCloseInfo[];
}

async function server(net: StreamNetwork, address: string, echo = false): Promise<Server> {
  const l = await net.listen(address);
  const srv: Server = { conns: [], got: [], closes: [] };
  l.onConnection((c) => {
    srv.conns.push(c);
    c.onFrame((f) => {
      srv.got.push(text(f));
      if (echo) c.send(bytes(`echo ${text(f)}`));
    });
    c.onClose((i) => srv.closes.push(i));
  });
  return srv;
}

async function dial(s: Simulation, net: StreamNetwork, address: string, timeoutMs = 1000): Promise<Awaited<ReturnType<StreamNetwork['connect']>>> {
  let r: Awaited<ReturnType<StreamNetwork['connect']>> | undefined;
  void net.connect(address, { timeoutMs }).then((x) => (r = x));
  await s.runUntil(() => r !== undefined, timeoutMs + 5000);
  assert.ok(r, 'connect never settled');
  return r;
}

test('streams: round trip both ways in order, the frame limit shrinks by the overhead, nothing in clear on the wire', async () => {
  const s = sim(5, 'a', 'b');
  const [a, b] = [s.ports('a'), s.ports('b')];
  const srv = await server(sealedStreamNetwork(a.stream, sealOf(a, [K1]), 'raft'), 'a:7000', true);
  const tap = new Tap(b.stream);
  const c = await dial(s, sealedStreamNetwork(tap, sealOf(b, [K1]), 'raft'), 'a:7000');
  assert.ok(c.ok);
  const conn = c.value;
  const got: string[] = [];
  conn.onFrame((f) => got.push(text(f)));
  assert.equal(conn.maxFrameSize, tap.raw[0]!.maxFrameSize - SEAL_OVERHEAD);
  for (let i = 0; i < 50; i++) conn.send(bytes(`frame secret ${i}`));
  await s.runFor(200);
  assert.deepEqual(srv.got, Array.from({ length: 50 }, (_, i) => `frame secret ${i}`));
  assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => `echo frame secret ${i}`));
  assert.ok(tap.wire[0]!.every((f) => !Buffer.from(f).includes('secret')));
  assert.deepEqual(await refused(a), {});
  conn.close();
  await s.runFor(50);
  assert.deepEqual(srv.closes.map((i) => i.reason), ['peer']);
});

test('streams: a client with the wrong key never reaches the application; the connect fails and the server counts it', async () => {
  const s = sim(6, 'a', 'b');
  const [a, b] = [s.ports('a'), s.ports('b')];
  const srv = await server(sealedStreamNetwork(a.stream, sealOf(a, [K1]), 'rpc'), 'a:7100');
  const c = await dial(s, sealedStreamNetwork(b.stream, sealOf(b, [K2]), 'rpc'), 'a:7100');
  assert.equal(c.ok, false);
  assert.equal(!c.ok && c.error.kind, 'unreachable');
  assert.equal(srv.conns.length, 0);
  assert.deepEqual(await refused(a), { 'rpc/handshake': 1 });
  // A plaintext client (no keyring) is refused the same way.
  const plain = await dial(s, b.stream, 'a:7100');
  assert.ok(plain.ok);
  plain.value.send(bytes('{"type":"admin"}'));
  await s.runFor(100);
  assert.ok(plain.value.closed);
  assert.equal(srv.conns.length, 0);
  assert.deepEqual(await refused(a), { 'rpc/handshake': 2 });
});

test('streams: a tampered, replayed, reordered or transplanted frame closes the connection with a detail; earlier frames were delivered', async () => {
  const cases: Array<[string, (f: Uint8Array, n: number, conn: number, tap: Tap) => Uint8Array[]]> = [
    // Frames 0 and 1 are HELLO and CONFIRM; data frames start at 2.
    ['tampered', (f, n) => (n === 4 ? [Uint8Array.from(f, (x, i) => (i === 20 ? x ^ 1 : x))] : [f])],
    ['replayed', (f, n) => (n === 4 ? [f, f] : [f])],
    ['reordered', (() => {
      let held: Uint8Array | undefined;
      return (f: Uint8Array, n: number) => {
        if (n === 4) {
          held = f;
          return [];
        }
        return n === 5 ? [f, held!] : [f];
      };
    })()],
    ['transplanted', (f, n, conn, tap) => (conn === 1 && n === 4 ? [tap.wire[0]![4]!] : [f])],
  ];
  let seed = 10;
  for (const [name, rewrite] of cases) {
    const s = sim(seed++, 'a', 'b');
    const [a, b] = [s.ports('a'), s.ports('b')];
    const srv = await server(sealedStreamNetwork(a.stream, sealOf(a, [K1]), 'raft'), 'a:7000');
    const tap = new Tap(b.stream);
    // Only the connection under test is attacked: 0, or 1 for the transplant from 0 into 1.
    const target = name === 'transplanted' ? 1 : 0;
    tap.rewrite = (f, n, conn) => (conn === target ? rewrite(f, n, conn, tap) : [f]);
    const net = sealedStreamNetwork(tap, sealOf(b, [K1]), 'raft');
    // Two connections: the transplant moves connection 0's frame 4 into connection 1.
    for (let k = 0; k < 2; k++) {
      const c = await dial(s, net, 'a:7000');
      assert.ok(c.ok, name);
      for (let i = 0; i < 6; i++) c.value.send(bytes(`c${k} f${i}`));
      await s.runFor(100);
    }
    // The replayed frame itself was delivered once (its copy is refused); otherwise frame 2 is the bad one.
    const good = name === 'replayed' ? 3 : 2;
    const attacked = srv.got.filter((g) => g.startsWith(`c${target}`));
    assert.deepEqual(attacked, Array.from({ length: good }, (_, i) => `c${target} f${i}`), `${name}: ${srv.got.join(',')}`);
    const broken = srv.closes.find((i) => i.reason === 'error');
    assert.ok(broken, `${name}: no error close`);
    assert.match(broken.detail ?? '', new RegExp(`sealed raft connection with .*frame ${good}: does not authenticate`));
    const counts = await refused(a);
    assert.equal(counts['raft/frame'], 1, `${name}: ${JSON.stringify(counts)}`);
  }
});

test('streams: a recorded handshake and session replayed on a new connection is refused (the server nonce differs)', async () => {
  const s = sim(20, 'a', 'b', 'eve');
  const [a, b, eve] = [s.ports('a'), s.ports('b'), s.ports('eve')];
  const srv = await server(sealedStreamNetwork(a.stream, sealOf(a, [K1]), 'rpc'), 'a:7100');
  const tap = new Tap(b.stream);
  const c = await dial(s, sealedStreamNetwork(tap, sealOf(b, [K1]), 'rpc'), 'a:7100');
  assert.ok(c.ok);
  c.value.send(bytes('admin lock web'));
  await s.runFor(100);
  assert.deepEqual(srv.got, ['admin lock web']);
  const recorded = tap.wire[0]!;
  const r = await dial(s, eve.stream, 'a:7100');
  assert.ok(r.ok);
  const closes: StreamCloseInfo[] = [];
  r.value.onClose((i) => closes.push(i));
  for (const f of recorded) r.value.send(f);
  await s.runFor(200);
  assert.deepEqual(srv.got, ['admin lock web'], 'the replayed write was not delivered again');
  assert.equal(srv.conns.length, 1);
  assert.deepEqual(await refused(a), { 'rpc/handshake': 1 });
  assert.equal(closes.length, 1);
});

test('streams: handshake timeout on both sides (a silent client, a silent server)', async () => {
  const s = sim(21, 'a', 'b');
  const [a, b] = [s.ports('a'), s.ports('b')];
  const sa = sealOf(a, [K1]);
  const srv = await server(sealedStreamNetwork(a.stream, sa, 'rpc', { handshakeTimeoutMs: 500 }), 'a:7100');
  const silent = await dial(s, b.stream, 'a:7100');
  assert.ok(silent.ok);
  const closes: StreamCloseInfo[] = [];
  silent.value.onClose((i) => closes.push(i));
  await s.runFor(400);
  assert.equal(closes.length, 0);
  await s.runFor(200);
  assert.equal(closes.length, 1, 'the server dropped the silent client');
  assert.deepEqual(await refused(a), { 'rpc/handshake-timeout': 1 });
  assert.equal(srv.conns.length, 0);
  // A plain listener that never answers the hello: connect() gives up within its timeout.
  const mute = await b.stream.listen('b:7200');
  mute.onConnection(() => undefined);
  const t0 = s.now;
  const c = await dial(s, sealedStreamNetwork(a.stream, sa, 'rpc', { handshakeTimeoutMs: 5000 }), 'b:7200', 800);
  assert.equal(!c.ok && c.error.kind, 'timeout');
  assert.ok(s.now - t0 <= 900, `gave up after ${s.now - t0} ms`);
});

test('streams: rotation — connections work while the peers disagree on the primary, as long as both keys are installed', async () => {
  const s = sim(22, 'a', 'b');
  const [a, b] = [s.ports('a'), s.ports('b')];
  const srv = await server(sealedStreamNetwork(a.stream, sealOf(a, [K1, K2]), 'raft'), 'a:7000', true);
  const c = await dial(s, sealedStreamNetwork(b.stream, sealOf(b, [K2, K1]), 'raft'), 'a:7000');
  assert.ok(c.ok);
  const got: string[] = [];
  c.value.onFrame((f) => got.push(text(f)));
  c.value.send(bytes('x'));
  await s.runFor(100);
  assert.deepEqual([srv.got, got], [['x'], ['echo x']]);
});

test('streams: backpressure passes through (send returns false above the high-water mark, onDrain follows)', async () => {
  const s = sim(23, 'a', 'b');
  const [a, b] = [s.ports('a'), s.ports('b')];
  const srv = await server(sealedStreamNetwork(a.stream, sealOf(a, [K1]), 'raft'), 'a:7000');
  const c = await dial(s, sealedStreamNetwork(b.stream, sealOf(b, [K1]), 'raft'), 'a:7000');
  assert.ok(c.ok);
  let drained = 0;
  c.value.onDrain(() => drained++);
  let accepted = 0;
  while (c.value.send(new Uint8Array(1024)) && accepted < 10_000) accepted++;
  assert.ok(accepted < 10_000, 'never backed up');
  await s.runFor(500);
  assert.ok(drained >= 1);
  assert.equal(srv.got.length, accepted + 1);
});
