/**
 * The node lifecycle policy (src/cluster/lifecycle.ts) in the simulated cluster, as amfd runs it:
 * the first configuration waits for the bootstrap servers and commits once though every node
 * proposes it; a graceful stop locks the node and hands its SIs over before it leaves (no lease
 * wait), and the restart unlocks it; a crash, or an operator's lock, is not undone by a restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';

const names = ['n1', 'n2', 'n3', 'n4', 'n5'];

async function formed(seed: number): Promise<ClusterHarness> {
  const h = new ClusterHarness({ seed, nodes: names.length, firstConfig: clusterConfig(names) });
  assert.ok(await h.sim.runUntil(() => (h.leader()?.node.fsm.state.epoch ?? 0) >= 1, 30_000), 'the first configuration commits');
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 30_000), `converged: ${h.convergence().join('; ')}`);
  return h;
}

const adminOf = (h: ClusterHarness, node: string): string | undefined => h.leader()?.node.fsm.state.amf.nodes[node]?.admin;

test('the first configuration: every node proposes it, it commits once, after the bootstrap servers are up', async () => {
  // Without the wait seed 2 commits it before any node is up (seed 1 by chance after three).
  for (const seed of [1, 2]) {
    const h = await formed(seed);
    await h.sim.runFor(5000);
    for (const a of h.apps()) assert.equal(a.node.fsm.state.epoch, 1, `seed ${seed}: ${a.node.name} at epoch 1`);
    const log = h.leader()!.node.changes(0);
    const committed = log.findIndex((c) => c.entity === 'config' && c.field === 'epoch' && c.new === '1');
    assert.ok(committed >= 0, 'epoch 1 in the change log');
    const upBefore = log.slice(0, committed).filter((c) => c.field === 'incarnation' && c.old === null).length;
    assert.ok(upBefore >= 3, `seed ${seed}: ${upBefore} nodes up before the first configuration (bootstrap_expect 3)`);
    assert.deepEqual(h.violations, []);
  }
});

test('a graceful stop hands the node\'s SIs over before it leaves; its restart unlocks it', async () => {
  const h = await formed(2);
  const fsm = (): NonNullable<ReturnType<ClusterHarness['leader']>>['node']['fsm'] => h.leader()!.node.fsm;
  const activeSu = Object.entries(fsm().assignments()['web-app'] ?? {}).find(([, ha]) => ha === 'active')?.[0];
  const victim = fsm().state.amf.sus[activeSu!]!.node!;
  const held = Object.entries(fsm().assignments()).filter(([, sus]) => Object.entries(sus).some(([su, ha]) => ha === 'active' && fsm().state.amf.sus[su]?.node === victim)).map(([si]) => si);
  assert.ok(held.length > 0, `${victim} holds actives`);

  let left = false;
  void h.app(victim)!.lifecycle.leave().then(() => (left = true));
  assert.ok(await h.sim.runUntil(() => left, 20_000), 'the hand-over ends');
  // Handed over while the node is still up: no lease wait, no failover.
  assert.equal(fsm().state.nodes[victim]?.up, true, `${victim} is still up in the FSM`);
  assert.equal(adminOf(h, victim), 'locked');
  const sus = fsm().state.amf.sus;
  for (const [name, su] of Object.entries(sus)) if (su.node === victim) assert.deepEqual(su.assignments, {}, `${name} on ${victim} holds nothing`);
  for (const si of held) assert.ok(Object.entries(fsm().assignments()[si] ?? {}).some(([su, ha]) => ha === 'active' && sus[su]?.node !== victim), `${si} is active elsewhere`);

  assert.ok(await h.gracefulStop(victim), 'the stop finishes');
  await h.sim.runFor(3000);
  assert.equal(adminOf(h, victim), 'locked', 'still locked while it is away');
  h.sim.start(victim);
  assert.ok(await h.sim.runUntil(() => adminOf(h, victim) === 'unlocked', 20_000), `${victim} unlocked after its restart`);
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 30_000), `converged: ${h.convergence().join('; ')}`);
  assert.deepEqual(h.violations, []);
});

test('a restart does not undo a crash or an operator\'s lock', async () => {
  const h = await formed(3);
  assert.equal(await h.admin('lock', { type: 'node', name: 'n2' }), undefined, 'the operator locks n2');
  h.sim.crash('n2');
  await h.sim.runFor(2000);
  h.sim.start('n2');
  assert.ok(await h.sim.runUntil(() => h.leader()?.node.fsm.state.nodes['n2']?.up === true && h.app('n2')?.node.runtime.inc === h.leader()?.node.fsm.state.nodes['n2']?.inc, 20_000), 'n2 is back');
  await h.sim.runFor(5000);
  assert.equal(adminOf(h, 'n2'), 'locked', 'a crash wrote no unlock marker');
  // A graceful stop of a node that is locked already leaves it as the operator set it.
  assert.ok(await h.gracefulStop('n2'));
  h.sim.start('n2');
  await h.sim.runFor(10_000);
  assert.equal(adminOf(h, 'n2'), 'locked', 'the operator\'s lock survives the graceful restart');
  assert.deepEqual(h.violations, []);
});
