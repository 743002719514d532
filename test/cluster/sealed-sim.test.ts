/**
 * The whole composition with a keyring on the simulator: every channel sealed (gossip, leases,
 * forwarded writes, Raft) through crashes, a partition and a heal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';

const KEYS = [new Uint8Array(32).fill(7)];
const SI = 'web-ip';

const activeOn = (h: ClusterHarness): string[] => [...(h.world.actives().get(SI) ?? [])].sort();

async function refusals(h: ClusterHarness): Promise<number> {
  let n = 0;
  for (const name of h.names) {
    if (!h.sim.isUp(name)) continue;
    const m = await h.sim.ports(name).metrics.getSingleMetric('amf_cluster_unauthenticated_total')!.get();
    n += m.values.reduce((s, v) => s + v.value, 0);
  }
  return n;
}

test('a sealed 5-node cluster forms, writes through a follower, fails over a crash and a partition, heals; no SI ever ACTIVE twice', async () => {
  const h = new ClusterHarness({ seed: 41, nodes: 5, keys: KEYS });
  assert.ok(await h.sim.runUntil(() => h.formed(), 20_000), 'formation');
  // A plaintext datagram to a member's lease port is refused: the channels really are sealed.
  h.sim.addNode('eve', (p) => p);
  void h.sim.ports('eve').datagram.bind('eve:9').then((s) => s.send('n1:7100', new Uint8Array(40)));
  await h.sim.runFor(100);
  assert.equal(await refusals(h), 1);
  const refused = await h.sim.ports('n1').metrics.getSingleMetric('amf_cluster_unauthenticated_total')!.get();
  assert.deepEqual(refused.values.map((v) => [v.labels.channel, v.labels.peer]), [['lease', 'eve:9']], 'counted against the sender');
  // A follower's write travels to the leader over a sealed rpc stream.
  const follower = h.apps().find((a) => a.node.raft?.state() === 'follower')!;
  let wrote: boolean | undefined;
  void follower.node.setConfig(clusterConfig(h.names), h.leader()!.node.fsm.state.epoch).then((r) => (wrote = r.ok && r.result.ok));
  assert.ok(await h.sim.runUntil(() => wrote !== undefined, 10_000));
  assert.equal(wrote, true, 'forwarded configuration committed');
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), `cold start: ${h.convergence().join('; ')}`);

  const [x] = activeOn(h);
  assert.ok(x);
  h.sim.crash(x);
  assert.ok(await h.sim.runUntil(() => activeOn(h).some((n) => n !== x), 10_000), 'failover after a crash');
  h.sim.start(x);
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 30_000), `rejoined: ${h.convergence().join('; ')}`);

  const [y] = activeOn(h);
  assert.ok(y);
  const minority = [y, h.names.find((n) => n !== y)!];
  h.sim.partition([minority, h.names.filter((n) => !minority.includes(n))]);
  assert.ok(await h.sim.runUntil(() => activeOn(h).some((n) => !minority.includes(n)), 15_000), 'the majority took over');
  h.sim.heal();
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 30_000), `healed: ${h.convergence().join('; ')}`);
  assert.deepEqual(h.violations, []);
  // Only eve's datagram (gone if n1 restarted since: a restart starts a fresh registry).
  assert.ok((await refusals(h)) <= 1, 'members never refuse each other');
});
