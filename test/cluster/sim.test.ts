import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runClusterSeeds } from '../../simulator/cluster/command.js';
import { parseFaults } from '../../simulator/faults.js';
import { CLUSTER_SEED_DEFAULTS, runClusterSeed } from '../../simulator/cluster/scenario.js';

const faults = parseFaults('partition,loss,crash,pause');
assert.ok(faults.ok);

// The CI-sized subset of `amf-sim cluster --seeds 1..100 --nodes 5 --faults partition,loss,crash,pause`.
test('amf-sim cluster seeds 1..8: no SI ever ACTIVE twice, convergence after heal, no committed config lost', async () => {
  const lines: string[] = [];
  const code = await runClusterSeeds({ seeds: [1, 2, 3, 4, 5, 6, 7, 8], nodes: 5, duration: CLUSTER_SEED_DEFAULTS.durationMs, faults: faults.value, leasePolicy: 'stop', verbose: false }, (l) => lines.push(l));
  const last = lines[lines.length - 1]!;
  assert.equal(code, 0, lines.join('\n'));
  assert.match(last, /^cluster seeds=8 violations=0 /);
  const downs = Number(/node_downs=(\d+)/.exec(last)?.[1]);
  assert.ok(downs >= 8, `the faults exercised too little failover: ${last}`);
});

test('the checker catches double actives: policy freeze keeps a cut-off node active', async () => {
  const r = await runClusterSeed({ seed: 3, nodes: 5, faults: faults.value, durationMs: CLUSTER_SEED_DEFAULTS.durationMs, convergeMs: CLUSTER_SEED_DEFAULTS.convergeMs, settings: { leasePolicy: 'freeze' } });
  assert.ok(r.violations.some((v) => /is ACTIVE on/.test(v)), JSON.stringify(r.violations.slice(0, 3)));
});

test('a seed replays exactly: same trace hash twice', async () => {
  const run = () => runClusterSeed({ seed: 5, nodes: 5, faults: faults.value, durationMs: 12_000, convergeMs: 20_000 });
  const a = await run();
  const b = await run();
  assert.equal(a.traceHash, b.traceHash);
  assert.deepEqual(a.violations, []);
  // The engine's invariants were checked after every step on every replica.
  assert.ok(a.amfStepsChecked >= 50, `${a.amfStepsChecked} steps checked`);
});
