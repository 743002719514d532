/**
 * Protection-group tracking is cluster-wide (issue 23): a component tracking a CSI sees every
 * component of the cluster that holds it, from the replicated state, not only those of its node.
 * Real agents on every simulated node; the SA-aware components use the real client library and
 * track the protection group of every CSI they take (simulator/cluster/sa-component.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import type { RealAgentExecutor } from '../../simulator/cluster/real-agent.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';

const dn = (sg: string, su: string): string => `safComp=s,safSu=${su},safSg=${sg}`;

test('pg-track is cluster-wide: every tracker sees the members on every node, and follows a swap', async () => {
  const h = new ClusterHarness({ seed: 8, nodes: 3, agent: 'real' });
  assert.ok(await h.sim.runUntil(() => h.formed(), 20_000));
  assert.ok(await h.setConfig(clusterConfig(h.names, false, 'real')));
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), h.convergence().join('; '));
  await h.sim.runFor(3000);
  const agentOf = (node: string) => (h.app(node)!.executor as RealAgentExecutor).agent;
  const last = (node: string, su: string, csi: string) => h.world.pgLast.get(`${node} ${su}/s ${csi}`)?.members;

  // N-Way-Active cache: cache-a-s is active in the three cache SUs, one per node.
  const cache = ['cache1', 'cache2', 'cache3'].map((su) => ({ comp: dn('cache', su), haState: 'active' }));
  for (const node of h.names) {
    const su = [...h.world.comps(node).keys()].find((k) => k.startsWith('cache') && k.endsWith('/s'))!.split('/')[0]!;
    assert.ok(await h.sim.runUntil(() => JSON.stringify(last(node, su, 'cache-a-s')) === JSON.stringify(cache), 5000), `${node}: ${JSON.stringify(last(node, su, 'cache-a-s'))}`);
    assert.deepEqual(agentOf(node).protectionGroup('cache-a-s'), cache, `${node}'s agent answers pg-track current with the whole group`);
  }

  // 2N web: the web-ip CSI's active and standby are on two different nodes; every node agrees.
  const holders = (): { comp: string; haState: string }[] => {
    const a = h.leader()!.node.fsm.assignments()['web-ip'] ?? {};
    return Object.entries(a)
      .map(([su, ha]) => ({ comp: dn('web', su), haState: ha }))
      .sort((x, y) => (x.comp < y.comp ? -1 : 1));
  };
  const before = holders();
  assert.deepEqual(before.map((m) => m.haState).sort(), ['active', 'standby']);
  for (const node of h.names) assert.deepEqual(agentOf(node).protectionGroup('web-ip-csi'), before, node);
  const standbySu = before.find((m) => m.haState === 'standby')!.comp.split(',')[1]!.slice('safSu='.length);
  const standbyNode = h.names.find((n) => h.world.comps(n).has(`${standbySu}/s`))!;
  assert.deepEqual(last(standbyNode, standbySu, 'web-ip-csi'), before, 'the standby sees the active on the other node');

  // A swap: the trackers follow the new HA states, wherever the members run.
  assert.equal(await h.admin('si-swap', { type: 'si', name: 'web-ip' }), undefined);
  await h.sim.runFor(3000);
  const after = holders();
  assert.notDeepEqual(after, before);
  for (const node of h.names) assert.deepEqual(agentOf(node).protectionGroup('web-ip-csi'), after, node);
  assert.ok(await h.sim.runUntil(() => JSON.stringify(last(standbyNode, standbySu, 'web-ip-csi')) === JSON.stringify(after), 5000), JSON.stringify(last(standbyNode, standbySu, 'web-ip-csi')));
  assert.deepEqual(h.violations, []);
});
