import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressOf, SwimCluster } from '../../simulator/swim/cluster.js';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { swimConfig } from '../../src/swim/config.js';
import { Envelope } from '../../src/swim/envelope.js';
import { Keyring } from '../../src/swim/keyring.js';
import { assembleBody, encodeMessage, type SwimMessage } from '../../src/swim/messages.js';

const NODES = ['n1', 'n2', 'n3'];
const KEY = new Uint8Array(32).fill(7);
const MAX_U32 = 0xffff_ffff;

function cluster(keys?: Uint8Array[]): SwimCluster {
  const config = swimConfig('lan-fast');
  assert.ok(config.ok);
  const c = new SwimCluster({ seed: 11, config: config.value, ...(keys ? { keys } : {}) });
  NODES.forEach((n, i) => c.add(n, i === 0 ? [] : ['n1']));
  c.sim.addNode('mallory', () => ({}));
  return c;
}

/** Mallory's packets: plain (she holds no key) and with the cluster's empty label. */
async function forge(c: SwimCluster, to: string, messages: SwimMessage[]): Promise<void> {
  const k = Keyring.create(Xoshiro128.fromSeed(1), []);
  assert.ok(k.ok);
  const socket = await c.sim.ports('mallory').datagram.bind('mallory:0');
  const r = socket.send(addressOf(to), new Envelope('', k.value).wrap(assembleBody(messages.map(encodeMessage))));
  assert.ok(r.ok);
}

function views(c: SwimCluster): string[] {
  return NODES.flatMap((o) => NODES.map((n) => `${o} sees ${n} ${c.list(o)?.member(n)?.state ?? 'missing'}`));
}

const allAlive = NODES.flatMap((o) => NODES.map((n) => `${o} sees ${n} alive`));

test('a forged dead at the maximum incarnation does not evict the member: it refutes, and stays in every list', async () => {
  const c = cluster();
  await c.sim.runFor(3000);
  assert.deepEqual(views(c), allAlive);
  await forge(c, 'n1', [{ type: 'dead', incarnation: MAX_U32, node: 'n2', from: 'n1' }]);
  await forge(c, 'n3', [{ type: 'suspect', incarnation: MAX_U32, node: 'n2', from: 'n3' }]);
  // Long enough for gossip to the dead to end, push-pull rounds, and any forgetting to happen.
  await c.sim.runFor(60_000);
  assert.deepEqual(views(c), allAlive);
  for (const n of NODES) {
    const inc = c.list('n1')?.member(n)?.incarnation ?? -1;
    assert.ok(inc >= 0 && inc <= MAX_U32, `${n}'s incarnation ${inc} stays a u32`);
  }
  assert.deepEqual(c.failures(), []);
});

test('forged accusations and alives far ahead of what the member reached are ignored and counted', async () => {
  const c = cluster();
  await c.sim.runFor(3000);
  const before = c.list('n1')?.stats().implausible ?? 0;
  await forge(c, 'n1', [
    { type: 'dead', incarnation: 1_000_000_000, node: 'n2', from: 'n3' },
    { type: 'alive', incarnation: 2_000_000_000, node: 'n3', addr: addressOf('n3'), meta: new Uint8Array(0) },
    // Just behind 0 in serial arithmetic: older than what n1 knows, so ignored without a count.
    { type: 'alive', incarnation: MAX_U32, node: 'n3', addr: addressOf('n3'), meta: Uint8Array.of(1) },
  ]);
  await c.sim.runFor(100);
  assert.equal(c.list('n1')?.member('n2')?.state, 'alive');
  assert.ok((c.list('n1')?.member('n3')?.incarnation ?? MAX_U32) < 1000);
  assert.equal((c.list('n1')?.stats().implausible ?? 0) - before, 2);
});

test('against a sealed cluster the forged dead is refused before decode and counted', async () => {
  const c = cluster([KEY]);
  await c.sim.runFor(3000);
  assert.deepEqual(views(c), allAlive);
  await forge(c, 'n1', [{ type: 'dead', incarnation: MAX_U32, node: 'n2', from: 'n1' }]);
  await c.sim.runFor(100);
  const dropped = await c.sim.ports('n1').metrics.getSingleMetric('swim_packets_dropped_total')?.get();
  assert.equal(dropped?.values.find((v) => v.labels.reason === 'plaintext')?.value, 1);
  assert.match(String(dropped?.values.find((v) => v.labels.reason === 'plaintext')?.labels.peer), /^mallory:/, 'counted against its sender');
  assert.equal(c.list('n1')?.member('n2')?.incarnation, c.list('n2')?.incarnation);
  assert.deepEqual(views(c), allAlive);
});
