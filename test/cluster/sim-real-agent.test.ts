import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runClusterSeeds } from '../../simulator/cluster/command.js';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { clcPidfile } from '../../simulator/cluster/clc-component.js';
import type { ComponentBug } from '../../simulator/cluster/components.js';
import { CLUSTER_SEED_DEFAULTS, clusterConfig, runClusterSeed } from '../../simulator/cluster/scenario.js';
import { parseFaults } from '../../simulator/faults.js';
import { SimFileSystem } from '../../simulator/files.js';

const faults = parseFaults('partition,loss,crash,pause');
assert.ok(faults.ok);

// `amf-sim cluster --agent real --seeds 1..5`: the daemon's AgentExecutor/NodeAgent on every node,
// with command, SA-aware (real client library over the simulated unix socket) and CLC-CLI components.
test('amf-sim cluster --agent real seeds 1..5: no SI ever ACTIVE twice, convergence after heal, every component kind exercised', async () => {
  const lines: string[] = [];
  const code = await runClusterSeeds({ seeds: [1, 2, 3, 4, 5], nodes: 5, duration: CLUSTER_SEED_DEFAULTS.durationMs, faults: faults.value, leasePolicy: 'stop', agent: 'real', verbose: false }, (l) => lines.push(l));
  const last = lines[lines.length - 1]!;
  assert.equal(code, 0, lines.join('\n'));
  assert.match(last, /^cluster seeds=5 violations=0 /);
  const field = (name: string): number => Number(new RegExp(`${name}=(\\d+)`).exec(last)?.[1]);
  assert.ok(field('comp_kills') >= 5 && field('daemon_crashes') >= 1 && field('comp_faults') >= 5, `too few component faults: ${last}`);
  // Every kind of component ran and was driven through its interface.
  assert.ok(field('sa_registrations') >= 5 * 6, `SA-aware components did not register: ${last}`);
  assert.ok(field('csi_callbacks') >= 5 * 10 && field('healthcheck_callbacks') > 0 && field('pg_updates') > 0, `SA-aware callbacks missing: ${last}`);
  assert.ok(field('quiescing_completes') > 0, `the quiescing path was not taken: ${last}`);
  assert.ok(field('clc_scripts') >= 5 * 4, `CLC-CLI scripts did not run: ${last}`);
  // Passive monitoring: the agents themselves reported the killed processes.
  assert.ok(field('agent_error_reports') >= field('comp_kills') / 2, `the agents reported too few process deaths: ${last}`);
  assert.ok(field('node_downs') >= 5, `the faults exercised too little failover: ${last}`);
});

/** A cluster with the real agent (3 nodes: no CLC-CLI group), formed, configured and converged. */
async function converged(seed: number, bug?: ComponentBug, nodes = 3): Promise<ClusterHarness> {
  const h = new ClusterHarness({ seed, nodes, agent: 'real', ...(bug ? { bug } : {}) });
  assert.ok(await h.sim.runUntil(() => h.formed(), 20_000));
  assert.ok(await h.setConfig(clusterConfig(h.names, false, 'real')));
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), h.convergence().join('; '));
  // The CSI set acknowledgements reach the FSM a little after the components took them.
  await h.sim.runFor(3000);
  return h;
}

test('real agent: an SA-aware component that keeps serving after being told to quiesce is caught by the checker (SI swap)', async () => {
  for (const bug of [undefined, 'sa-ignores-quiesce'] as const) {
    const h = await converged(4, bug);
    const before = h.leader()!.node.fsm.assignments()['web-ip'];
    assert.equal(await h.admin('si-swap', { type: 'si', name: 'web-ip' }), undefined);
    await h.sim.runFor(3000);
    const after = h.leader()!.node.fsm.assignments()['web-ip'];
    const active = (a: Record<string, string> | undefined): string | undefined => Object.keys(a ?? {}).find((su) => a?.[su] === 'active');
    assert.notEqual(active(after), active(before), 'the swap moved the active assignment');
    if (bug) assert.ok(h.violations.some((v) => /SI web-ip is ACTIVE on \S+ and /.test(v)), JSON.stringify(h.violations.slice(0, 3)));
    else assert.deepEqual(h.violations, []);
  }
});

test('real agent: a hung SA-aware component fails its healthcheck and is replaced (cleanup kills it)', async () => {
  const h = await converged(6);
  const node = h.names.find((n) => h.world.live(n).some((c) => c.kind === 'sa-aware' && [...c.csis.values()].includes('active') && [...c.csis.keys()].some((k) => k.startsWith('web-ip/'))));
  assert.ok(node, 'an SA-aware component serves web-ip');
  const hung = h.world.live(node).find((c) => c.kind === 'sa-aware' && c.csis.has('web-ip/web-ip-csi'))!;
  hung.faults.hung = true;
  const reports = h.world.agentErrorReports;
  assert.ok(await h.sim.runUntil(() => !h.sim.processTable(node).livePids().includes(hung.pid), 10_000), 'the hung process was killed');
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), h.convergence().join('; '));
  assert.equal(h.world.agentErrorReports, reports, 'a healthcheck failure, not a process death, was reported');
  assert.deepEqual(h.violations, []);
});

test('real agent: a killed CLC-CLI component is seen through its pidfile and instantiated again by its script', async () => {
  const h = await converged(7, undefined, 4);
  const [node, key, c] = h.names.flatMap((n) => [...h.world.comps(n)].filter(([, x]) => x.kind === 'clccli').map(([k, x]) => [n, k, x] as const))[0]!;
  const [su, comp] = key.split('/') as [string, string];
  const pidfile = clcPidfile(su, comp);
  assert.deepEqual(h.sim.files(node).readText(pidfile, 64), { ok: true, value: `${c.pid}\n` });
  const reports = h.world.agentErrorReports;
  h.sim.processTable(node).signal(c.pid, 'SIGKILL');
  assert.ok(await h.sim.runUntil(() => h.world.agentErrorReports > reports, 2000), 'the agent saw the death by itself');
  assert.ok(await h.sim.runUntil(() => (h.world.comps(node).get(key)?.pid ?? c.pid) !== c.pid && h.convergence().length === 0, 20_000), h.convergence().join('; '));
  const now = h.world.comps(node).get(key)!;
  assert.deepEqual(h.sim.files(node).readText(pidfile, 64), { ok: true, value: `${now.pid}\n` });
  assert.deepEqual(h.violations, []);
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
