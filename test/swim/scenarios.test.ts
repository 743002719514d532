import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SwimCluster } from '../../simulator/swim/cluster.js';
import { swimConfig } from '../../src/swim/config.js';
import { scenarioConverge, scenarioDetect, scenarioFalsePositives, scenarioPartition, type ScenarioOptions } from '../../simulator/swim/scenarios.js';

// CI-sized versions of `amf-sim swim --scenario all` (which runs 1 000 / 100 / 100 / 20 nodes).
const lines: string[] = [];
const base: Omit<ScenarioOptions, 'nodes'> = { seed: 1, profile: 'lan-fast', print: (l) => lines.push(l) };

test('(a) 150 nodes join through one seed and converge', async () => {
  const r = await scenarioConverge({ ...base, nodes: 150 });
  assert.deepEqual(r.violations, []);
  assert.ok((r.figures.converge_s ?? NaN) > 0);
});

test('(b) 40 nodes: every survivor declares the crashed node dead, nobody else dies', async () => {
  const r = await scenarioDetect({ ...base, nodes: 40 });
  assert.deepEqual(r.violations, []);
  assert.ok((r.figures.detect_p50_s ?? NaN) > 0);
});

test('(c) 40 nodes under loss and stalls: Lifeguard makes far fewer false dead declarations', async () => {
  const r = await scenarioFalsePositives({ ...base, nodes: 40, durationMs: 30_000 });
  assert.deepEqual(r.violations, []);
  assert.ok((r.figures.fp_off ?? 0) >= 10, `off must show the problem Lifeguard solves (fp_off=${r.figures.fp_off})`);
  assert.ok((r.figures.fp_on ?? Infinity) * 2 <= (r.figures.fp_off ?? 0));
});

test('(d) a partition outlasting gossip-to-the-dead heals back into one membership', async () => {
  const r = await scenarioPartition({ ...base, nodes: 12 });
  assert.deepEqual(r.violations, []);
});

test('scenarios print tables', () => {
  assert.ok(lines.some((l) => l.startsWith('(a) converge')));
  assert.ok(lines.some((l) => l.includes('lifeguard')));
});

test('a callback that throws inside the simulation is a scenario failure, not a silent log line', async () => {
  const config = swimConfig('lan-fast');
  assert.ok(config.ok);
  const c = new SwimCluster({ seed: 3, config: config.value });
  c.add('a');
  c.add('b', ['a']);
  await c.sim.runFor(1000);
  assert.deepEqual(c.failures(), []);
  const trap = await c.sim.ports('a').datagram.bind('a:9');
  trap.onMessage(() => {
    throw new Error('boom');
  });
  const from = await c.sim.ports('b').datagram.bind('b:9');
  assert.ok(from.send('a:9', Uint8Array.of(1)).ok);
  await c.sim.runFor(100);
  assert.equal(c.failures().length, 1);
  assert.match(c.failures()[0] ?? '', /^a: datagram handler on a:9 threw: Error: boom/);
});
