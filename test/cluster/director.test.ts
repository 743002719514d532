import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CLUSTER_DEFAULTS } from '../../src/cluster/options.js';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';

const SI = 'web-ip';
const { leaseMs, leaseMarginMs, renewIntervalMs } = CLUSTER_DEFAULTS;

/** A cluster formed from cold, configured, with every SI assigned. */
async function ready(seed: number, nodes = 5, settings = {}): Promise<ClusterHarness> {
  const h = new ClusterHarness({ seed, nodes, settings });
  assert.ok(await h.sim.runUntil(() => h.formed(), 20_000), 'formation');
  assert.ok(await h.setConfig(clusterConfig(h.names)), 'first configuration committed');
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), `cold start: ${h.convergence().join('; ')}`);
  return h;
}

function activeOn(h: ClusterHarness, si = SI): string[] {
  return [...(h.world.actives().get(si) ?? [])].sort();
}

async function converged(h: ClusterHarness, ms = 30_000): Promise<void> {
  for (const n of h.names) if (!h.sim.isUp(n)) h.sim.start(n);
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, ms), `not converged: ${h.convergence().join('; ')}`);
}

describe('director on the simulator', () => {
  it('node failure: its SIs become active elsewhere, only once its lease has surely expired', async () => {
    const h = await ready(11);
    const [x] = activeOn(h);
    assert.ok(x);
    const t0 = h.sim.now;
    h.sim.crash(x);
    assert.ok(await h.sim.runUntil(() => activeOn(h).some((n) => n !== x), 10_000), 'failover happened');
    const dt = h.sim.now - t0;
    // The last renewal the leader received was at most one renew interval before the crash.
    assert.ok(dt >= leaseMs + leaseMarginMs - renewIntervalMs, `failover after ${dt} ms, before the lease surely expired`);
    assert.ok(dt < leaseMs + leaseMarginMs + 2000, `failover took ${dt} ms`);
    assert.deepEqual(h.violations, []);
    await converged(h);
    assert.deepEqual(h.violations, []);
  });

  it('a leader change in the middle of a failover: the new leader finishes it', async () => {
    const h = await ready(12);
    const fsm = h.leader()!.node.fsm;
    const hosts = Object.entries(fsm.assignments()[SI] ?? {}).map(([su]) => fsm.placement()[su]!);
    const [x] = activeOn(h);
    assert.ok(x && hosts.length === 2);
    if (hosts.includes(h.leader()!.node.name)) {
      // Keep the roles apart: the leader hosts neither the active nor the standby of the SI.
      const target = h.names.find((n) => !hosts.includes(n))!;
      void h.leader()!.node.raft!.leadershipTransfer(2000, target);
      assert.ok(await h.sim.runUntil(() => h.leader()?.node.name === target, 5000), 'leadership transferred');
    }
    const leader = h.leader()!;
    assert.ok(x && x !== leader.node.name);
    h.sim.crash(x);
    // The leader commits the node down (lease expired): the failover is decided, not yet carried out.
    assert.ok(await h.sim.runUntil(() => leader.node.fsm.state.nodes[x]?.up === false, 10_000), 'node down committed');
    assert.deepEqual(activeOn(h), [], 'the failover has not completed yet');
    const oldLeader = leader.node.name;
    h.sim.crash(oldLeader);
    // Finished: a new leader committed the survivor's confirmation of its active assignment.
    const finished = (): boolean => {
      const l = h.leader();
      if (!l || l.node.name === oldLeader) return false;
      const [y] = activeOn(h);
      if (y === undefined || y === x || y === oldLeader) return false;
      return Object.values(l.node.fsm.state.amf.sus).some((st) => st.node === y && st.assignments[SI]?.ha === 'active' && st.assignments[SI]?.waiting.length === 0);
    };
    assert.ok(await h.sim.runUntil(finished, 15_000), 'the new leader completed the failover');
    assert.deepEqual(h.violations, []);
    await converged(h);
    assert.deepEqual(h.violations, []);
  });

  it('partition: the minority stops its actives before the majority starts them', async () => {
    const h = await ready(13);
    const [x] = activeOn(h);
    assert.ok(x);
    const partner = h.names.find((n) => n !== x)!;
    const minority = [x, partner];
    h.sim.partition([minority, h.names.filter((n) => !minority.includes(n))]);
    let stopped: number | undefined;
    let started: number | undefined;
    const ok = await h.sim.runUntil(() => {
      const a = activeOn(h);
      if (stopped === undefined && !a.includes(x)) stopped = h.sim.now;
      if (started === undefined && a.some((n) => !minority.includes(n))) started = h.sim.now;
      return started !== undefined;
    }, 15_000);
    assert.ok(ok, 'the majority took the SI over');
    assert.ok(stopped !== undefined && stopped < started!, `minority stopped at ${stopped}, majority started at ${started}`);
    for (const n of minority) assert.ok(h.app(n)!.node.runtime.phase !== 'active', `${n} lost its lease`);
    h.sim.heal();
    await converged(h);
    assert.deepEqual(h.violations, []);
    assert.ok(minority.every((n) => h.leader()!.node.fsm.state.nodes[n]?.up), 'the minority rejoined as new incarnations');
  });

  it('kill -9 of an active component: restarted in place (L0), the SI active again', async () => {
    const h = await ready(14);
    const [x] = activeOn(h);
    assert.ok(x);
    const l = h.leader()!;
    const su = Object.entries(l.node.fsm.assignments()[SI] ?? {}).find(([, ha]) => ha === 'active')![0];
    const comp = h.world.comps(x).get(`${su}/c`)!;
    h.sim.processTable(x).signal(comp.pid, 'SIGKILL');
    assert.ok(
      await h.sim.runUntil(() => {
        const now = h.world.comps(x).get(`${su}/c`);
        return now !== undefined && now.pid !== comp.pid && activeOn(h).includes(x);
      }, 5000),
      'restarted on the same node and active again',
    );
    const leader = h.leader()!;
    assert.ok(leader.node.changes(0).some((c) => c.kind === 'escalation' && c.entity === `comp/${su}/c` && c.new?.startsWith('component-restart L0')), 'the change log records the L0 restart');
    assert.deepEqual(h.violations, []);
  });

  it('bootstrap_expect = 1: a single node forms a working cluster (dev mode)', async () => {
    const h = await ready(15, 1, { bootstrapExpect: 1 });
    assert.deepEqual(activeOn(h), ['n1']);
    assert.equal(h.leader()?.node.name, 'n1');
  });

  it('formation: the first three servers bootstrap, the rest join as voters up to max_voters, then non-voters', async () => {
    const h = new ClusterHarness({ seed: 16, nodes: 5, settings: { maxVoters: 4 } });
    assert.ok(await h.sim.runUntil(() => h.formed(), 20_000));
    const conf = h.leader()!.node.raft!.getConfiguration();
    assert.equal(conf.filter((s) => s.suffrage === 'voter').length, 4);
    assert.equal(conf.filter((s) => s.suffrage === 'nonvoter').length, 1);
  });

  it('client writes on a follower are forwarded to the leader: config compare-and-set, admin, operator error report', async () => {
    const h = await ready(17);
    const follower = h.apps().find((a) => a.node.raft?.state() !== 'leader')!;
    const settle = async <T>(p: Promise<T>): Promise<T> => {
      let out: { v: T } | undefined;
      void p.then((v) => (out = { v }));
      assert.ok(await h.sim.runUntil(() => out !== undefined, 5000), 'answered');
      return out!.v;
    };
    const stale = await settle(follower.node.setConfig(clusterConfig(h.names, true), 0));
    assert.deepEqual(stale, { ok: true, result: { ok: false, code: 'stale-epoch', error: 'config epoch is 1, not 0' } });
    const grown = await settle(follower.node.setConfig(clusterConfig(h.names, true), 1));
    assert.deepEqual(grown, { ok: true, result: { ok: true, epoch: 2 } });
    const bad = await settle(follower.node.admin('lock', { type: 'su', name: 'no-such-su' }));
    assert.ok(bad.ok && !bad.result.ok, JSON.stringify(bad));
    const [x] = activeOn(h);
    const l = h.leader()!;
    const su = Object.entries(l.node.fsm.assignments()[SI] ?? {}).find(([, ha]) => ha === 'active')![0];
    const pid = h.world.comps(x!).get(`${su}/c`)!.pid;
    const rep = await settle(follower.node.reportError(su, 'c', 'component-restart', 'operator says so'));
    assert.deepEqual(rep, { ok: true, result: { ok: true } });
    assert.ok(await h.sim.runUntil(() => (h.world.comps(x!).get(`${su}/c`)?.pid ?? pid) !== pid && activeOn(h).includes(x!), 5000), 'the component was restarted');
    assert.ok(h.leader()!.node.changes(0).some((c) => c.kind === 'admin' && c.field === 'error-report' && c.new === 'operator says so'));
    assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), h.convergence().join('; '));
    assert.deepEqual(h.violations, []);
  });

  it('fencing: a lost node is powered off and its SIs move at once, without waiting for its lease', async () => {
    const h = new ClusterHarness({ seed: 18, nodes: 5, fencing: true, settings: { lostAfterMs: 400 } });
    assert.ok(await h.sim.runUntil(() => h.formed(), 20_000));
    assert.ok(await h.setConfig(clusterConfig(h.names)));
    assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000));
    const [x] = activeOn(h);
    assert.ok(x);
    h.sim.isolate(x);
    const t0 = h.sim.now;
    assert.ok(await h.sim.runUntil(() => activeOn(h).some((n) => n !== x), 10_000), 'failover');
    const dt = h.sim.now - t0;
    assert.deepEqual(h.fenced, [x]);
    assert.ok(!h.sim.isUp(x), 'the fenced node is off');
    assert.ok(dt < leaseMs, `failover after ${dt} ms: fencing did not shortcut the lease wait`);
    assert.ok(h.leader()!.node.changes(0).some((c) => c.entity === `node/${x}` && c.field === 'fencing' && c.new?.startsWith('confirmed')));
    h.sim.heal();
    await converged(h);
    assert.deepEqual(h.violations, []);
  });

  it('repeated component failures escalate: restarts (L0), then SU failover to the standby', async () => {
    const h = await ready(19);
    const text = clusterConfig(h.names).replace('\tmodel = 2n\n', '\tmodel = 2n\n\tcomponent_restart_max = 1\n\tunit_restart_max = 1\n');
    assert.ok(await h.setConfig(text), 'config with low restart limits');
    assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 10_000));
    const [x] = activeOn(h);
    assert.ok(x);
    const su = Object.entries(h.leader()!.node.fsm.assignments()[SI] ?? {}).find(([, ha]) => ha === 'active')![0];
    let kills = 0;
    while (activeOn(h).includes(x) && kills < 6) {
      const c = h.world.comps(x).get(`${su}/c`);
      if (c) {
        h.sim.processTable(x).signal(c.pid, 'SIGKILL');
        kills++;
      }
      await h.sim.runUntil(() => {
        const now = h.world.comps(x).get(`${su}/c`);
        return activeOn(h).some((n) => n !== x) || (now !== undefined && now.pid !== c?.pid && activeOn(h).includes(x));
      }, 5000);
    }
    assert.ok(activeOn(h).length === 1 && activeOn(h)[0] !== x, `after ${kills} kills the SI moved: ${activeOn(h).join(',')}`);
    const log = h.leader()!.node.changes(0).filter((c) => c.kind === 'escalation' && c.entity === `comp/${su}/c`).map((c) => c.new ?? '');
    assert.ok(log.some((l) => l.startsWith('component-restart L0')), JSON.stringify(log));
    assert.ok(log.some((l) => /failover/.test(l)), JSON.stringify(log));
    assert.deepEqual(h.violations, []);
  });
});
