import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../simulator/index.js';
import { RaftSimNode, raftAddress } from '../../simulator/raft/node.js';
import { encodeKv, type KvOutput } from '../../src/raft/testing/kv.js';
import type { NodePorts } from '../../src/runtime/tokens.js';

function cluster(seed: number, n = 3) {
  const sim = new Simulation({ seed });
  const names = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const servers = names.map((id) => ({ id, address: raftAddress(id) }));
  for (const name of names) sim.addNode(name, (ports: NodePorts) => new RaftSimNode(ports, servers));
  const app = (name: string) => sim.app<RaftSimNode>(name);
  const leader = () => names.find((nm) => app(nm)?.raft?.state() === 'leader');
  return { sim, names, app, leader };
}

test('a 3-node cluster elects one leader and applies a command with the FSM result', async () => {
  const { sim, app, leader } = cluster(1);
  assert.ok(await sim.runUntil(() => leader() !== undefined, 5000), 'no leader elected');
  const l = app(leader()!)!.raft!;
  const p = l.apply(encodeKv({ f: 'write', key: 'x', value: '1' }), 1000);
  await sim.runUntil(() => false, 100);
  const r = await p;
  assert.ok(r.ok, JSON.stringify(r));
  const q = l.apply(encodeKv({ f: 'read', key: 'x' }), 1000);
  await sim.runFor(100);
  const rr = await q;
  assert.ok(rr.ok);
  assert.deepEqual(rr.value as KvOutput, { value: '1' });
});
