/**
 * Replays of recorded lease datagrams. Sealing stops forgery but not replay (a sealed datagram is
 * as valid later as it was when recorded), so the lease protocol itself must make replays harmless.
 * The simulated cluster here runs without keys: a replay is the same bytes either way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHarness, RPC_PORT } from '../../simulator/cluster/harness.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';
import { CLUSTER_DEFAULTS } from '../../src/cluster/options.js';
import { encode } from '../../src/cluster/codec.js';
import { decodeWire, encodeWire, type WireMsg } from '../../src/cluster/wire.js';
import type { DatagramSocket } from '../../src/runtime/ports/datagram.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';

async function ready(seed: number): Promise<{ h: ClusterHarness; eve: DatagramSocket }> {
  const h = new ClusterHarness({ seed, nodes: 3 });
  assert.ok(await h.sim.runUntil(() => h.formed(), 20_000), 'formation');
  assert.ok(await h.setConfig(clusterConfig(h.names)), 'configuration committed');
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), `cold start: ${h.convergence().join('; ')}`);
  h.sim.addNode('eve', (p: NodePorts) => p);
  const eve = await h.sim.ports('eve').datagram.bind('eve:9');
  return { h, eve };
}

/** A node that hosts an active SI and is not the leader (leadership moves away from it if need be). */
async function victim(h: ClusterHarness): Promise<string> {
  const x = [...h.world.actives().values()].flatMap((s) => [...s])[0];
  assert.ok(x, 'an active SI');
  if (h.leader()!.node.name === x) {
    void h.leader()!.node.raft!.leadershipTransfer(2000, h.names.find((n) => n !== x)!);
    assert.ok(await h.sim.runUntil(() => h.leader() !== undefined && h.leader()!.node.name !== x, 5000), 'leadership moved');
  }
  return x;
}

function replay(eve: DatagramSocket, to: string, m: WireMsg, times = 5): void {
  for (let i = 0; i < times; i++) assert.ok(eve.send(`${to}:${RPC_PORT}`, encodeWire(m)).ok);
}

async function metric(h: ClusterHarness, node: string, name: string): Promise<number> {
  const m = await h.sim.ports(node).metrics.getSingleMetric(name)!.get();
  return m.values.reduce((n, v) => n + v.value, 0);
}

test("a renewal of a node's previous incarnation, replayed after it restarted, does not take the current one down", async () => {
  const { h, eve } = await ready(31);
  const x = await victim(h);
  const runtime = () => h.app(x)!.node.runtime;
  const old = runtime().inc;
  h.sim.restart(x, { keepProcesses: true });
  assert.ok(await h.sim.runUntil(() => h.app(x)?.node.runtime.phase === 'active' && h.leader()?.node.fsm.state.nodes[x]?.inc === runtime().inc, 20_000), 'the new incarnation joined');
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), `converged: ${h.convergence().join('; ')}`);
  const current = runtime().inc;
  assert.notEqual(current, old);
  const leader = h.leader()!.node;
  const seen = leader.changes(0).at(-1)?.seq ?? 0;
  // What an eavesdropper recorded of the old incarnation: its first renewal, and its answer to a
  // challenge of this very leader (challenges are `term.counter`: one of these is the real one).
  const renew = { t: 'renew', node: x, inc: old, seq: 1, reports: [], executedThrough: 0 } as const;
  replay(eve, leader.name, renew);
  for (let k = 1; k <= 20; k++) replay(eve, leader.name, { ...renew, seq: 1 + k, challenge: `${leader.raft!.currentTerm}.${k}` }, 1);
  await h.sim.runFor(3000);
  // Without the challenge the leader took the replay for a restart: the current incarnation went down at once.
  const membership = h.leader()!.node.changes(seen).filter((c) => c.entity === `node/${x}`);
  assert.deepEqual(membership, [], 'no membership change of x');
  const n = h.leader()!.node.fsm.state.nodes[x]!;
  assert.deepEqual({ inc: n.inc, up: n.up }, { inc: current, up: true }, 'the current incarnation is still the one up');
  assert.equal(h.app(x)!.node.runtime.phase, 'active');
  assert.deepEqual(h.violations, []);
});

test("an old renewal of the current incarnation, replayed, is ignored (it would make a dead node look alive)", async () => {
  const { h, eve } = await ready(32);
  const x = await victim(h);
  // Let the leader hear x's renewals first (a leader that never heard one takes the first replay as news).
  await h.sim.runFor(500);
  const leader = h.leader()!.node.name;
  const inc = h.app(x)!.node.runtime.inc;
  const before = await metric(h, leader, 'amf_cluster_renewals_stale_total');
  replay(eve, leader, { t: 'renew', node: x, inc, seq: 1, reports: [], executedThrough: 0 });
  await h.sim.runFor(200);
  assert.equal((await metric(h, leader, 'amf_cluster_renewals_stale_total')) - before, 5);
});

test('a recorded grant replayed to a cut-off node does not extend its lease: it stops on time, the others take over', async () => {
  const { h, eve } = await ready(33);
  const x = await victim(h);
  const rt = h.app(x)!.node.runtime;
  const peek = rt as unknown as { seq: number };
  const others = h.names.filter((n) => n !== x);
  // Eve stays on x's side of the cut and replays the grant of x's latest renewal, over and over.
  const grant = (): WireMsg => ({ t: 'grant', inc: rt.inc, seq: peek.seq, reportSeq: h.leader()!.node.fsm.state.nodes[x]!.reportSeq });
  const recorded = grant();
  const cutAt = h.sim.now;
  h.sim.links.partition([[x, 'eve'], others], [...h.names, 'eve']);
  let lostAt: number | undefined;
  for (let t = 0; t < 4000 && lostAt === undefined; t += 50) {
    replay(eve, x, recorded, 1);
    await h.sim.runFor(50);
    if (!rt.holdsLease()) lostAt = h.sim.now;
  }
  assert.ok(lostAt !== undefined, 'the cut-off node lost its lease despite the replays');
  assert.ok(lostAt - cutAt <= CLUSTER_DEFAULTS.leaseMs, `lease held ${lostAt - cutAt} ms after the cut`);
  assert.ok(await h.sim.runUntil(() => [...h.world.actives().values()].every((s) => s.size === 1 && !s.has(x)), 10_000), 'the majority took over');
  assert.deepEqual(h.violations, []);
});

test('the challenge travels in deny (wait) and renew; a malformed one is refused', () => {
  const renew = { t: 'renew', node: 'n1', inc: 'a', seq: 2, reports: [], executedThrough: 0, challenge: '3.7' } as const;
  const deny = { t: 'deny', inc: 'a', seq: 1, reason: 'wait', challenge: '3.7' } as const;
  assert.deepEqual(decodeWire(encodeWire(renew)), { ok: true, value: renew });
  assert.deepEqual(decodeWire(encodeWire(deny)), { ok: true, value: deny });
  assert.equal(decodeWire(encode({ v: 1, ...renew, challenge: 7 })).ok, false);
  assert.equal(decodeWire(encode({ v: 1, ...deny, challenge: 'x'.repeat(65) })).ok, false);
});
