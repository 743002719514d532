import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runClusterSeeds } from '../../simulator/cluster/command.js';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { CLUSTER_SEED_DEFAULTS, clusterConfig, runClusterSeed } from '../../simulator/cluster/scenario.js';
import { parseFaults } from '../../simulator/faults.js';
import { SimFileSystem } from '../../simulator/files.js';

const faults = parseFaults('partition,loss,crash,pause');
assert.ok(faults.ok);

// `amf-sim cluster --agent real --seeds 1..6`: the daemon's AgentExecutor/NodeAgent on every node.
test('amf-sim cluster --agent real seeds 1..6: no SI ever ACTIVE twice, convergence after heal, the agents saw the kills', async () => {
  const lines: string[] = [];
  const code = await runClusterSeeds({ seeds: [1, 2, 3, 4, 5, 6], nodes: 5, duration: CLUSTER_SEED_DEFAULTS.durationMs, faults: faults.value, leasePolicy: 'stop', agent: 'real', verbose: false }, (l) => lines.push(l));
  const last = lines[lines.length - 1]!;
  assert.equal(code, 0, lines.join('\n'));
  assert.match(last, /^cluster seeds=6 violations=0 /);
  const field = (name: string): number => Number(new RegExp(`${name}=(\\d+)`).exec(last)?.[1]);
  assert.ok(field('comp_kills') >= 6 && field('daemon_crashes') >= 1, `too few component faults: ${last}`);
  // Passive monitoring: the agents themselves reported the killed processes.
  assert.ok(field('agent_error_reports') >= field('comp_kills') / 2, `the agents reported too few process deaths: ${last}`);
  assert.ok(field('node_downs') >= 6, `the faults exercised too little failover: ${last}`);
});

test('real agent: the checker catches double actives (policy freeze keeps a cut-off node active)', async () => {
  const r = await runClusterSeed({ seed: 3, nodes: 5, faults: faults.value, durationMs: CLUSTER_SEED_DEFAULTS.durationMs, convergeMs: CLUSTER_SEED_DEFAULTS.convergeMs, settings: { leasePolicy: 'freeze' }, agent: 'real' });
  assert.ok(r.violations.some((v) => /is ACTIVE on/.test(v)), JSON.stringify(r.violations.slice(0, 3)));
});

test('real agent: a seed replays exactly', async () => {
  const run = () => runClusterSeed({ seed: 5, nodes: 5, faults: faults.value, durationMs: 12_000, convergeMs: 20_000, agent: 'real' });
  const a = await run();
  const b = await run();
  assert.equal(a.traceHash, b.traceHash);
  assert.deepEqual(a.violations, []);
});

test('a machine keeps its files across a daemon crash; a machine crash empties its tmpfs only', async () => {
  const h = new ClusterHarness({ seed: 1, nodes: 3, agent: 'real' });
  await h.sim.runFor(100);
  const fs = h.sim.files('n1');
  assert.ok(fs.writeText('/var/lib/app/state', 'kept').ok);
  assert.ok(fs.writeText('/run/app.pid', '1234').ok);
  h.sim.crash('n1', { keepProcesses: true });
  h.sim.start('n1');
  await h.sim.runFor(100);
  assert.deepEqual(fs.readText('/run/app.pid', 100), { ok: true, value: '1234' });
  h.sim.crash('n1');
  h.sim.start('n1');
  await h.sim.runFor(100);
  assert.equal(fs.readText('/run/app.pid', 100).ok, false);
  assert.deepEqual(fs.readText('/var/lib/app/state', 100), { ok: true, value: 'kept' });
});

test('SimFileSystem: files, directories, modes, bounded reads', () => {
  const fs = new SimFileSystem();
  assert.ok(fs.mkdirp('/a/b', 0o700).ok);
  const st = fs.stat('/a/b');
  assert.equal(st.ok && st.value.isDirectory, true);
  assert.ok(fs.writeText('/a/b/run.sh', 'echo hi', 0o755).ok);
  assert.equal(fs.isExecutable('/a/b/run.sh'), true);
  assert.ok(fs.chmod('/a/b/run.sh', 0o644).ok);
  assert.equal(fs.isExecutable('/a/b/run.sh'), false);
  assert.deepEqual(fs.readText('/a/b/../b/run.sh', 4), { ok: true, value: 'echo' });
  assert.deepEqual(fs.realpath('/a//b/./run.sh'), { ok: true, value: '/a/b/run.sh' });
  assert.deepEqual(fs.readText('/nope', 10), { ok: false, error: { kind: 'not-found', path: '/nope' } });
  assert.equal(fs.mkdirp('/a/b/run.sh', 0o755).ok, false);
  assert.equal(fs.remove('/a/b').ok, false);
  assert.ok(fs.remove('/a/b/run.sh').ok);
  assert.ok(fs.remove('/a/b/run.sh').ok, 'removing a missing file is ok');
  assert.equal(fs.isExecutable('/a/b'), false);
});

test('real agent: a daemon that crashes and restarts at once leaves no untracked component running (reaped at restart or by the lease watchdog)', async () => {
  const h = new ClusterHarness({ seed: 2, nodes: 3, agent: 'real' });
  assert.ok(await h.sim.runUntil(() => h.formed(), 20_000));
  assert.ok(await h.setConfig(clusterConfig(h.names, false, 'real')));
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), h.convergence().join('; '));
  for (const n of h.names) {
    const before = h.sim.processTable(n).livePids().length;
    h.sim.crash(n, { keepProcesses: true });
    h.sim.start(n);
    assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 30_000), `${n}: ${h.convergence().join('; ')} (${before} processes before)`);
  }
  await h.sim.runFor(2000);
  assert.deepEqual(h.violations, []);
  // Every live component process is one the checker knows, under its own name (no orphans kept aside).
  for (const n of h.names) {
    const live = new Set(h.sim.processTable(n).livePids());
    const known = [...h.world.comps(n)].filter(([, c]) => live.has(c.pid));
    assert.ok(known.every(([k]) => !k.includes('#')), `${n}: orphans ${known.map(([k]) => k).join(',')}`);
  }
});
