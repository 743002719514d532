/**
 * Issue 25 (2): Raft membership must not follow gossip alone. A host without a key (the cluster
 * runs in clear) joins SWIM as members that are named nowhere in the configuration, announcing
 * Raft addresses of its own; before the fix the leader made them voters within 2 s, so two of them
 * made 5 voters out of 3 real nodes and one real failure lost the quorum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';
import { RAFT_PORT } from '../../simulator/raft/node.js';
import { SWIM_PORT } from '../../simulator/swim/cluster.js';
import { encodeMeta } from '../../src/cluster/wire.js';
import { Memberlist, PROFILES } from '../../src/swim/index.js';

function voters(h: ClusterHarness): string[] {
  return (h.leader()?.node.raft?.getConfiguration() ?? []).filter((s) => s.suffrage !== 'nonvoter').map((s) => s.id).sort();
}

async function formedWithConfig(keys?: Uint8Array[]): Promise<ClusterHarness> {
  const h = new ClusterHarness({ seed: 31, nodes: 3, ...(keys ? { keys } : {}) });
  for (const g of ['ghost1', 'ghost2']) h.sim.addNode(g, () => ({}));
  assert.ok(await h.sim.runUntil(() => h.formed(), 30_000), 'formed');
  assert.ok(await h.setConfig(clusterConfig(h.names)), 'config committed');
  await h.sim.runFor(2000);
  assert.deepEqual(voters(h), ['n1', 'n2', 'n3']);
  return h;
}

/** A stranger that speaks SWIM well (it answers probes), claiming to be an amfd with a Raft address. */
async function stranger(h: ClusterHarness, name: string): Promise<number | undefined> {
  const ports = h.sim.ports(name);
  const meta = encodeMeta({ raft: `${name}:${RAFT_PORT}`, rpc: `${name}:7100`, formed: true });
  let started: Awaited<ReturnType<typeof Memberlist.start>> | undefined;
  void Memberlist.start(ports, { name, bind: `${name}:${SWIM_PORT}`, config: PROFILES['lan-fast'], meta }).then((r) => (started = r));
  await h.sim.runUntil(() => started !== undefined, 1000);
  assert.ok(started?.ok);
  let joined: number | undefined;
  void started.value.join([`n1:${SWIM_PORT}`]).then((n) => (joined = n));
  await h.sim.runUntil(() => joined !== undefined, 5000);
  return joined;
}

test('members from gossip that the configuration does not name never become voters; one real failure keeps the quorum', async () => {
  const h = await formedWithConfig();
  assert.equal(await stranger(h, 'ghost1'), 1);
  assert.equal(await stranger(h, 'ghost2'), 1);
  await h.sim.runFor(10_000);
  assert.ok(h.leader()?.node.members?.member('ghost1')?.state === 'alive', 'the strangers are SWIM members');
  assert.deepEqual(voters(h), ['n1', 'n2', 'n3'], 'voters: the configured nodes only');
  assert.ok(!(h.leader()?.node.raft?.getConfiguration() ?? []).some((s) => s.id.startsWith('ghost')), 'not even non-voters: the configuration allows no joins');
  // One real node fails: the two others are a quorum of the three voters, and a write commits.
  const victim = h.names.find((n) => n !== h.leader()?.node.name)!;
  h.sim.crash(victim);
  assert.ok(await h.setConfig(clusterConfig(h.names, true), 20_000), 'a write commits with one of three real nodes down');
  assert.deepEqual(h.violations, []);
});

test('an operator admits a member as a voter or a non-voter (an admit entry, from any node), and takes it back; allow_joins makes strangers non-voters', async () => {
  const h = await formedWithConfig();
  assert.equal(await stranger(h, 'ghost1'), 1);
  await h.sim.runFor(3000);
  const follower = h.apps().find((a) => a.node.raft?.state() !== 'leader')!.node;
  const seats = () => (h.leader()?.node.raft?.getConfiguration() ?? []).map((s) => `${s.id}:${s.suffrage ?? 'voter'}`).sort();
  const admit = async (seat: 'voter' | 'nonvoter' | 'none'): Promise<void> => {
    let r: Awaited<ReturnType<typeof follower.admit>> | undefined;
    void follower.admit('ghost1', seat).then((x) => (r = x));
    assert.ok(await h.sim.runUntil(() => r !== undefined, 5000));
    assert.ok(r?.ok && r.result.ok, JSON.stringify(r));
  };
  await admit('voter');
  assert.ok(await h.sim.runUntil(() => seats().includes('ghost1:voter'), 5000), seats().join(' '));
  assert.equal(h.leader()?.node.fsm.state.admitted['ghost1'], 'voter');
  await admit('nonvoter');
  assert.ok(await h.sim.runUntil(() => seats().includes('ghost1:nonvoter'), 5000), seats().join(' '));
  assert.deepEqual(voters(h), ['n1', 'n2', 'n3']);
  await admit('none');
  assert.ok(await h.sim.runUntil(() => !seats().some((s) => s.startsWith('ghost1')), 5000), seats().join(' '));
  const epoch = h.leader()!.node.fsm.state.epoch;
  const open = clusterConfig(h.names).replace(/^/, 'cluster {\n\tallow_joins = true\n}\n');
  let set: Awaited<ReturnType<typeof follower.setConfig>> | undefined;
  void follower.setConfig(open, epoch).then((x) => (set = x));
  assert.ok(await h.sim.runUntil(() => set !== undefined, 5000));
  assert.ok(set?.ok && set.result.ok, JSON.stringify(set));
  assert.ok(await h.sim.runUntil(() => seats().includes('ghost1:nonvoter'), 5000), seats().join(' '));
  await h.sim.runFor(3000);
  assert.deepEqual(voters(h), ['n1', 'n2', 'n3'], 'a joiner is never promoted');
  assert.deepEqual(h.violations, []);
});

test('against a sealed cluster the strangers do not even join SWIM: their gossip and push-pull are refused before decode, counted', async () => {
  const h = await formedWithConfig([new Uint8Array(32).fill(4)]);
  assert.equal(await stranger(h, 'ghost1'), 0, 'the join push-pull is refused');
  await h.sim.runFor(5000);
  for (const n of h.names) assert.equal(h.app(n)?.node.members?.member('ghost1'), undefined);
  assert.deepEqual(voters(h), ['n1', 'n2', 'n3']);
  const drops = await h.sim.ports('n1').metrics.getSingleMetric('swim_packets_dropped_total')?.get();
  assert.ok((drops?.values.find((v) => v.labels.reason === 'plaintext')?.value ?? 0) >= 1, JSON.stringify(drops?.values));
  assert.equal(drops?.values.find((v) => v.labels.reason === 'decode')?.value ?? 0, 0);
  // Counted against the stranger (its push-pull by host, its datagrams by address), never a member.
  assert.deepEqual([...new Set(drops?.values.map((v) => String(v.labels.peer).replace(/:\d+$/, '')))], ['ghost1'], JSON.stringify(drops?.values));
});
