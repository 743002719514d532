import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatagramSocket } from '../../src/runtime/ports/datagram.js';
import type { StreamCloseInfo, StreamConnection } from '../../src/runtime/ports/stream.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { Simulation, type LinkFaults } from '../../simulator/index.js';

/** Nodes whose apps are their bare ports. */
function cluster(seed: number, names: readonly string[], link: Partial<LinkFaults> = {}): Simulation {
  const sim = new Simulation({ seed, link });
  for (const n of names) sim.addNode(n, (p: NodePorts) => p);
  return sim;
}

async function sockets(sim: Simulation): Promise<{ a: DatagramSocket; b: DatagramSocket; got: Array<{ i: number; t: number }> }> {
  const a = await sim.ports('a').datagram.bind('a:1');
  const b = await sim.ports('b').datagram.bind('b:1');
  const got: Array<{ i: number; t: number }> = [];
  b.onMessage((d) => got.push({ i: new DataView(d.buffer, d.byteOffset).getUint32(0), t: sim.now }));
  return { a, b, got };
}

function numbered(i: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

/** Send n datagrams a → b, one per ms. */
async function blast(sim: Simulation, a: DatagramSocket, n: number): Promise<void> {
  for (let i = 0; i < n; i++) sim.at(i, () => void a.send('b:1', numbered(i)));
  await sim.runFor(n + 1000);
}

test('loss rate is about as configured, and the same for the same seed', async () => {
  const received: number[] = [];
  for (const seed of [1, 1, 2]) {
    const sim = cluster(seed, ['a', 'b'], { loss: 0.2 });
    const { a, got } = await sockets(sim);
    await blast(sim, a, 10_000);
    received.push(got.length);
  }
  const [r1, r1again, r2] = received as [number, number, number];
  assert.equal(r1, r1again, 'same seed, same losses');
  assert.notEqual(r1, r2, 'another seed, other losses');
  for (const r of [r1, r2]) assert.ok(r > 7700 && r < 8300, `~80% delivered, got ${r}`);
});

test('duplication rate is about as configured; no loss without loss', async () => {
  const sim = cluster(3, ['a', 'b'], { dup: 0.1 });
  const { a, got } = await sockets(sim);
  await blast(sim, a, 10_000);
  assert.equal(new Set(got.map((g) => g.i)).size, 10_000, 'every datagram arrives');
  assert.ok(got.length > 10_800 && got.length < 11_200, `~10% duplicated, got ${got.length - 10_000}`);
});

test('reordering: none with a fixed delay, frequent with reorder on', async () => {
  const inversions = async (reorder: number): Promise<number> => {
    const sim = cluster(4, ['a', 'b'], { jitterMs: 0, reorder, reorderDelayMs: 20 });
    const { a, got } = await sockets(sim);
    await blast(sim, a, 2000);
    assert.equal(got.length, 2000);
    return got.filter((g, k) => k > 0 && g.i < (got[k - 1]?.i ?? 0)).length;
  };
  assert.equal(await inversions(0), 0);
  const n = await inversions(0.3);
  assert.ok(n > 200, `expected many out-of-order arrivals, got ${n}`);
});

test('delay is latency plus exponential jitter (mean about latency + jitter)', async () => {
  const sim = cluster(5, ['a', 'b'], { latencyMs: 2, jitterMs: 3 });
  const { a, got } = await sockets(sim);
  await blast(sim, a, 5000);
  const delays = got.map((g) => g.t - g.i);
  const mean = delays.reduce((x, y) => x + y, 0) / delays.length;
  assert.ok(Math.min(...delays) >= 2, 'never below the fixed latency');
  assert.ok(mean > 4.7 && mean < 5.3, `mean delay ${mean}`);
});

test('partitions block both ways, one-way cuts block one way, heal restores', async () => {
  const sim = cluster(6, ['a', 'b', 'c']);
  const { a, b, got } = await sockets(sim);
  const atA: number[] = [];
  a.onMessage((d) => atA.push(d[3] ?? -1));
  sim.partition([['a'], ['b', 'c']]);
  a.send('b:1', numbered(1));
  b.send('a:1', numbered(2));
  await sim.runFor(100);
  assert.deepEqual([got.length, atA.length], [0, 0]);
  sim.heal();
  sim.cut('a', 'b');
  a.send('b:1', numbered(3));
  b.send('a:1', numbered(4));
  await sim.runFor(100);
  assert.deepEqual([got.length, atA], [0, [4]], 'a → b cut, b → a open');
  sim.heal();
  a.send('b:1', numbered(5));
  await sim.runFor(100);
  assert.deepEqual(got.map((g) => g.i), [5]);
});

test('nodes named in no group form a group of their own', async () => {
  const sim = cluster(7, ['a', 'b', 'c', 'd']);
  sim.partition([['a', 'b']]);
  assert.equal(sim.links.canReach('a', 'b'), true);
  assert.equal(sim.links.canReach('c', 'd'), true);
  assert.equal(sim.links.canReach('a', 'c'), false);
  assert.equal(sim.links.canReach('d', 'b'), false);
});

test('a clogged node gets nothing until the clog ends', async () => {
  const sim = cluster(8, ['a', 'b']);
  const { a, got } = await sockets(sim);
  sim.clog('b', 500);
  a.send('b:1', numbered(1));
  await sim.runFor(499);
  assert.equal(got.length, 0);
  await sim.runFor(100);
  assert.equal(got.length, 1);
  assert.ok((got[0]?.t ?? 0) >= 500);
});

/** A connected stream pair a → b:2. */
async function streamPair(sim: Simulation): Promise<{ client: StreamConnection; server: StreamConnection }> {
  const listener = await sim.ports('b').stream.listen('b:2');
  let server: StreamConnection | undefined;
  listener.onConnection((c) => (server = c));
  const pending = sim.ports('a').stream.connect('b:2', { timeoutMs: 1000 });
  await sim.runFor(50);
  const r = await pending;
  assert.ok(r.ok && server);
  return { client: r.value, server };
}

test('streams stay ordered under jitter and loss (loss becomes delay)', async () => {
  const sim = cluster(9, ['a', 'b'], { jitterMs: 5, loss: 0.2 });
  const { client, server } = await streamPair(sim);
  const got: number[] = [];
  server.onFrame((f) => got.push(new DataView(f.buffer, f.byteOffset).getUint32(0)));
  for (let i = 0; i < 500; i++) sim.at(i / 10, () => void client.send(numbered(i)));
  await sim.runFor(5000);
  assert.deepEqual(got, Array.from({ length: 500 }, (_, i) => i));
});

test('a partitioned stream stalls and resumes after a heal; a long partition closes it', async () => {
  const sim = cluster(10, ['a', 'b']);
  const { client, server } = await streamPair(sim);
  const got: number[] = [];
  const closes: StreamCloseInfo[] = [];
  server.onFrame((f) => got.push(f[3] ?? -1));
  client.onClose((i) => closes.push(i));
  sim.partition([['a'], ['b']]);
  client.send(numbered(1));
  await sim.runFor(3000);
  assert.deepEqual(got, [], 'nothing gets through a partition');
  sim.heal();
  await sim.runFor(1000);
  assert.deepEqual(got, [1], 'the stalled frame arrives after the heal');
  assert.equal(client.closed, false);

  sim.partition([['a'], ['b']]);
  client.send(numbered(2));
  await sim.runFor(15_000);
  assert.equal(closes.length, 1);
  assert.equal(closes[0]?.reason, 'error');
  assert.deepEqual(got, [1]);
});

test('a crashed peer resets its connections', async () => {
  const sim = cluster(11, ['a', 'b']);
  const { client } = await streamPair(sim);
  const closes: StreamCloseInfo[] = [];
  client.onClose((i) => closes.push(i));
  sim.crash('b');
  await sim.runFor(100);
  assert.deepEqual(closes.map((c) => c.reason), ['error']);
  const r = await (async () => {
    const p = sim.ports('a').stream.connect('b:2', { timeoutMs: 500 });
    await sim.runFor(1000);
    return p;
  })();
  assert.ok(!r.ok);
  assert.equal(r.error.kind, 'timeout', 'a down host does not answer');
});

test('maxDatagramSize is enforced and configurable', async () => {
  const sim = new Simulation({ seed: 12, maxDatagramSize: 1400 });
  sim.addNode('a', (p: NodePorts) => p);
  const s = await sim.ports('a').datagram.bind('a:0');
  assert.equal(s.maxDatagramSize, 1400);
  assert.ok(s.send('a:1', new Uint8Array(1400)).ok);
  assert.deepEqual(s.send('a:1', new Uint8Array(1401)), { ok: false, error: { kind: 'too-large', size: 1401, max: 1400 } });
  await assert.rejects(sim.ports('a').datagram.bind('b:1'), /not an address of node a/);
});

test('a throwing handler is reported in sim.handlerErrors and delivery goes on', async () => {
  const sim = cluster(13, ['a', 'b']);
  const { a, b } = await sockets(sim);
  let calls = 0;
  b.onMessage(() => {
    calls++;
    throw new Error('handler bug (expected by the test)');
  });
  a.send('b:1', numbered(1));
  a.send('b:1', numbered(2));
  const listener = await sim.ports('b').stream.listen('b:3');
  listener.onConnection(() => {
    throw new Error('accept bug (expected by the test)');
  });
  const pending = sim.ports('a').stream.connect('b:3', { timeoutMs: 1000 });
  await sim.runFor(100);
  const r = await pending;
  assert.equal(calls, 2);
  assert.ok(r.ok);
  assert.equal(r.value.closed, true, 'the connection whose handler threw is closed');
  assert.deepEqual(sim.handlerErrors.map((e) => e.where).sort(), ['connection handler on b:3', 'datagram handler on b:1', 'datagram handler on b:1']);
});
