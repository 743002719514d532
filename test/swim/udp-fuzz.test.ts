import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createMetricsRegistry } from '../../src/runtime/observability.js';
import { NodeClock, NodeDatagramNetwork, NodeStreamNetwork, createNodeRandom } from '../../src/runtime/node/index.js';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { swimConfig } from '../../src/swim/config.js';
import { Envelope } from '../../src/swim/envelope.js';
import { Keyring } from '../../src/swim/keyring.js';
import { Memberlist, type SwimPorts } from '../../src/swim/memberlist.js';
import { assembleBody, encodeMessage } from '../../src/swim/messages.js';

const KEY = new Uint8Array(32).fill(1);
const LABEL = 'fuzz';

function realPorts(name: string): SwimPorts {
  const logger = pino({ level: 'silent' });
  const metrics = createMetricsRegistry(name);
  return {
    clock: new NodeClock(),
    random: createNodeRandom(),
    datagram: new NodeDatagramNetwork({ logger, metrics }),
    stream: new NodeStreamNetwork({ logger, metrics }),
    logger,
    metrics,
  };
}

async function counter(ports: SwimPorts, name: string, labels: Record<string, string> = {}): Promise<number> {
  const v = await ports.metrics.getSingleMetric(name)?.get();
  return (v?.values ?? []).filter((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l)).reduce((s, x) => s + x.value, 0);
}

async function waitFor(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await cond()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting for ${what}`);
}

function envelope(label: string, keys: Uint8Array[]): Envelope {
  const k = Keyring.create(Xoshiro128.fromSeed(5), keys);
  assert.ok(k.ok);
  return new Envelope(label, k.value);
}

test('random, truncated, replayed, mislabelled and wrongly keyed UDP packets are dropped and counted; the member keeps working', async () => {
  // lan timing: a loaded CI host must not turn this into a timing test.
  const cfg = swimConfig('lan', { label: LABEL });
  assert.ok(cfg.ok);
  const pa = realPorts('a');
  const pb = realPorts('b');
  const a = await Memberlist.start(pa, { name: 'a', bind: '127.0.0.1:0', config: cfg.value, keys: [KEY] });
  const b = await Memberlist.start(pb, { name: 'b', bind: '127.0.0.1:0', config: cfg.value, keys: [KEY] });
  assert.ok(a.ok && b.ok);
  const attacker = createSocket('udp4');
  try {
    assert.equal(await b.value.join([a.value.address]), 1);
    const [host, port] = [a.value.address.split(':')[0] as string, Number(a.value.address.split(':')[1])];
    const send = (bytes: Uint8Array) => new Promise<void>((resolve) => attacker.send(bytes, port, host, () => resolve()));
    const rnd = Xoshiro128.fromSeed(99);
    const good = envelope(LABEL, [KEY]);
    const ping = good.wrap(assembleBody([encodeMessage({ type: 'ping', seq: 7, target: 'a', source: 'mallory' })]));
    const before = await counter(pa, 'swim_packets_received_total');
    const batches: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) batches.push(rnd.bytes(rnd.int(0, 1500)));
    for (let i = 0; i < 300; i++) batches.push(rnd.bytes(rnd.int(1, 200)).map((x, j) => (j === 0 ? 1 : x))); // right version byte
    for (let i = 0; i < ping.length; i++) batches.push(ping.subarray(0, i)); // every truncation
    for (let i = 0; i < 50; i++) batches.push(ping); // replays: valid, answered, harmless
    for (let i = 0; i < 50; i++) {
      const flipped = ping.slice();
      const at = rnd.int(0, flipped.length);
      flipped[at] = (flipped[at] ?? 0) ^ (1 << rnd.int(0, 8));
      batches.push(flipped);
    }
    batches.push(envelope(LABEL, [new Uint8Array(32).fill(9)]).wrap(assembleBody([encodeMessage({ type: 'ack', seq: 1 })])));
    batches.push(envelope('other', [KEY]).wrap(assembleBody([encodeMessage({ type: 'ack', seq: 1 })])));
    batches.push(envelope(LABEL, []).wrap(assembleBody([encodeMessage({ type: 'ack', seq: 1 })])));
    batches.push(good.wrap(rnd.bytes(64))); // authentic but not msgpack
    batches.push(good.wrap(Uint8Array.of(0x91, 0x93, 0x63, 0x01, 0x02))); // msgpack, unknown message type
    // Paced, so the kernel's socket buffer never overflows (b's own traffic arrives meanwhile).
    for (let i = 0; i < batches.length; i += 50) {
      for (const p of batches.slice(i, i + 50)) await send(p);
      await sleep(20);
    }
    const reasons = ['decrypt', 'label', 'plaintext', 'decode', 'truncated', 'version'];
    await waitFor(async () => {
      for (const reason of reasons) if ((await counter(pa, 'swim_packets_dropped_total', { reason })) === 0) return false;
      return (await counter(pa, 'swim_packets_received_total')) - before >= batches.length;
    }, 'drops of every kind to be counted');
    const dropped = await counter(pa, 'swim_packets_dropped_total');
    // Everything but the 50 replays and the (rare) bit flips that leave a packet valid is dropped.
    assert.ok(dropped >= batches.length - 50 - 50, `dropped ${dropped} of ${batches.length}`);
    // Still a working member: both keep each other in the membership and probing goes on.
    const probes = await counter(pb, 'swim_probes_total');
    await waitFor(async () => (await counter(pb, 'swim_probes_total')) > probes + 1, 'b to keep probing a');
    const live = (s: string | undefined) => s === 'alive' || s === 'suspect';
    assert.ok(live(a.value.member('b')?.state));
    assert.ok(live(b.value.member('a')?.state));
  } finally {
    attacker.close();
    await a.value.shutdown();
    await b.value.shutdown();
  }
});

test('garbage push-pull frames over TCP are dropped and counted', async () => {
  const cfg = swimConfig('lan-fast', { label: LABEL });
  assert.ok(cfg.ok);
  const pa = realPorts('a');
  const a = await Memberlist.start(pa, { name: 'a', bind: '127.0.0.1:0', config: cfg.value, keys: [KEY] });
  assert.ok(a.ok);
  const pm = realPorts('m');
  try {
    const rnd = Xoshiro128.fromSeed(3);
    for (let i = 0; i < 20; i++) {
      const c = await pm.stream.connect(a.value.address, { timeoutMs: 2000 });
      assert.ok(c.ok);
      c.value.send(i % 2 === 0 ? rnd.bytes(rnd.int(1, 3000)) : envelope(LABEL, [KEY]).wrap(rnd.bytes(100)));
      await new Promise<void>((resolve) => c.value.onClose(() => resolve()));
    }
    assert.equal(await counter(pa, 'swim_packets_dropped_total'), 20);
  } finally {
    await a.value.shutdown();
  }
});

test('binding the wildcard address without an advertise address is refused with a clear message', async () => {
  const cfg = swimConfig('lan-fast');
  assert.ok(cfg.ok);
  const r = await Memberlist.start(realPorts('w'), { name: 'w', bind: '0.0.0.0:0', config: cfg.value });
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.error, /advertise/);
});

test('authentic packets naming a member address with port 0 are refused, not sent to (Node dgram would throw)', async () => {
  const cfg = swimConfig('lan', { label: LABEL });
  assert.ok(cfg.ok);
  const pa = realPorts('a');
  const a = await Memberlist.start(pa, { name: 'a', bind: '127.0.0.1:0', config: cfg.value, keys: [KEY] });
  assert.ok(a.ok);
  const attacker = createSocket('udp4');
  try {
    const [host, port] = [a.value.address.split(':')[0] as string, Number(a.value.address.split(':')[1])];
    const good = envelope(LABEL, [KEY]);
    const packets = [
      // Relayed at once: a ping to 127.0.0.1:0 would throw out of the socket's message handler.
      encodeMessage({ type: 'indirect-ping', seq: 1, target: 'ghost', targetAddr: '127.0.0.1:0', nack: true, source: 'm' }),
      // Would become a member that the next probe round sends to.
      encodeMessage({ type: 'alive', incarnation: 1, node: 'ghost', addr: '127.0.0.1:0', meta: new Uint8Array(0) }),
    ].map((m) => good.wrap(assembleBody([m])));
    for (const p of packets) await new Promise<void>((resolve) => attacker.send(p, port, host, () => resolve()));
    await waitFor(async () => (await counter(pa, 'swim_packets_dropped_total', { reason: 'decode' })) === 2, 'both packets to be dropped');
    assert.equal(a.value.member('ghost'), undefined);
  } finally {
    attacker.close();
    await a.value.shutdown();
  }
});
