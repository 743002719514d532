/**
 * Real amfd processes on 127.0.0.1 (issue 8 "Must show"): cold formation with every SI assigned,
 * component kill -9 (L0 restart, then escalation to SU failover), amfd kill -9 (its SIs go ACTIVE
 * on the survivors), and the Raft leader killed in the middle of a failover. No SI is ever seen
 * ACTIVE twice in any node's view while this runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LocalCluster } from '../../scripts/local-cluster.js';
import { actives, allActiveOn, componentPid, groupsOn, leaderOf, sleep, startTestCluster, stopTestCluster, waitFor } from './harness.js';

const NODES = ['n1', 'n2', 'n3'];

describe('amfd cluster of real processes', { timeout: 150_000 }, () => {
  let c: LocalCluster;
  let failed = false;
  const doubles: string[] = [];
  let watching = true;
  let watcher: Promise<void> = Promise.resolve();

  before(async () => {
    c = await startTestCluster('cluster');
    // Watch every node's view: an SI ACTIVE on two SUs at once is a violation.
    watcher = (async () => {
      while (watching) {
        for (const n of NODES) {
          const g = await groupsOn(c, n);
          for (const [si, list] of g ? actives(g) : []) if (list.length > 1) doubles.push(`${n}: ${si} active on ${list.map((a) => `${a.su}@${a.node}`).join(', ')}`);
        }
        await sleep(50);
      }
    })();
  });

  after(async () => {
    watching = false;
    await watcher;
    const left = await stopTestCluster(c, failed);
    assert.deepEqual(left, [], 'no amfd or component process is left');
  });

  const step = (name: string, fn: () => Promise<void>): Promise<void> =>
    test(name, async () => {
      try {
        await fn();
      } catch (e) {
        failed = true;
        throw e;
      }
    });

  step('a 3-node cluster forms from cold and assigns every SI', async () => {
    const placed = await waitFor('every SI active', 40_000, () => allActiveOn(c, NODES, NODES));
    assert.equal(placed.size, 3);
    const st = await c.get<{ raft: { voters: string[] } }>((await leaderOf(c, NODES))!, '/status');
    assert.deepEqual([...(st?.raft.voters ?? [])].sort(), NODES);
  });

  step('kill -9 of an active component: restarted in place (L0), repeated kills escalate to SU failover', async () => {
    const before = await waitFor('web-a active', 10_000, () => allActiveOn(c, NODES, NODES));
    const g0 = (await groupsOn(c, before.get('web-a')!))!;
    const su0 = actives(g0).get('web-a')![0]!.su;
    const pid0 = componentPid(c, su0);
    assert.ok(pid0, `the process of ${su0}/worker is found`);
    process.kill(-pid0, 'SIGKILL');
    // L0: the same SU runs a new process and holds web-a active again, with a restart counted.
    await waitFor('component restarted in place', 15_000, async () => {
      const g = await groupsOn(c, before.get('web-a')!);
      const su = g?.flatMap((x) => x.units).find((u) => u.name === su0);
      const pid = componentPid(c, su0);
      return su && su.escalation.compRestarts >= 1 && actives(g!).get('web-a')?.[0]?.su === su0 && pid !== undefined && pid !== pid0 ? true : undefined;
    });
    // Keep failing it: component restart → SU restart → SU failover to another SU.
    let moved: string | undefined;
    for (let i = 0; i < 6 && moved === undefined; i++) {
      const pid = await waitFor('the component running again', 15_000, async () => componentPid(c, su0));
      process.kill(-pid, 'SIGKILL');
      moved = await waitFor('web-a active again', 15_000, async () => {
        const now = await allActiveOn(c, NODES, NODES);
        if (!now) return undefined;
        const g = await groupsOn(c, now.get('web-a')!);
        const su = g && actives(g).get('web-a')?.[0]?.su;
        if (su === undefined) return undefined;
        if (su !== su0) return su;
        return componentPid(c, su0) !== pid ? '' : undefined;
      }).then((s) => (s === '' ? undefined : s));
    }
    assert.ok(moved, `web-a failed over from ${su0} to another SU`);
    assert.deepEqual(doubles, []);
  });

  step('kill -9 of a whole amfd: its active SIs become ACTIVE on the survivors', async () => {
    const leader = await waitFor('a leader', 10_000, () => leaderOf(c, NODES));
    const placed = await waitFor('every SI active', 20_000, () => allActiveOn(c, NODES, NODES));
    // A node other than the leader that holds an active SI (else any non-leader).
    const victim = NODES.find((n) => n !== leader && [...placed.values()].includes(n)) ?? NODES.find((n) => n !== leader)!;
    c.kill(victim);
    const survivors = NODES.filter((n) => n !== victim);
    const after = await waitFor('every SI active on the survivors', 20_000, () => allActiveOn(c, survivors, survivors));
    for (const n of after.values()) assert.notEqual(n, victim);
    assert.deepEqual(doubles, []);
    // The node comes back as a new incarnation (it cleans up what its predecessor left running).
    c.startNode(victim);
    await waitFor(`${victim} up again`, 30_000, async () => {
      const nodes = await c.get<{ nodes: Array<{ name: string; up: boolean }> }>(survivors[0]!, '/v1/nodes');
      return nodes?.nodes.find((x) => x.name === victim)?.up ? true : undefined;
    });
  });

  step('kill the Raft leader during a failover: the new leader completes it, never two ACTIVE', async () => {
    const placed = await waitFor('every SI active', 30_000, () => allActiveOn(c, NODES, NODES));
    const leader = await waitFor('a leader', 10_000, () => leaderOf(c, NODES));
    // Start a failover: lock the SU holding an SI active on a node that is not the leader.
    const si = [...placed.entries()].find(([, n]) => n !== leader)?.[0] ?? 'web-a';
    const g = (await groupsOn(c, placed.get(si)!))!;
    const su = actives(g).get(si)![0]!.su;
    const status = await c.post(leader, `/v1/admin/su/${su}/lock`, {});
    assert.ok(status === 200 || status === 202 || status === 204, `admin lock accepted (${status})`);
    c.kill(leader);
    const survivors = NODES.filter((n) => n !== leader);
    const done = await waitFor('the failover finished by the new leader', 30_000, async () => {
      const now = await allActiveOn(c, survivors, survivors);
      if (!now) return undefined;
      const gg = await groupsOn(c, now.get(si)!);
      const holder = gg && actives(gg).get(si)?.[0]?.su;
      return holder && holder !== su ? now : undefined;
    });
    const newLeader = await leaderOf(c, survivors);
    assert.ok(newLeader && newLeader !== leader);
    assert.ok(done.has(si));
    assert.deepEqual(doubles, []);
    c.startNode(leader);
    await waitFor(`${leader} up again`, 30_000, async () => {
      const nodes = await c.get<{ nodes: Array<{ name: string; up: boolean }> }>(survivors[0]!, '/v1/nodes');
      return nodes?.nodes.find((x) => x.name === leader)?.up ? true : undefined;
    });
  });

  step('SIGTERM: the node hands its SIs over (node lock) and leaves; restarted, it is unlocked again', async () => {
    const placed = await waitFor('every SI active', 30_000, () => allActiveOn(c, NODES, NODES));
    const victim = [...placed.values()][0]!;
    const others = NODES.filter((n) => n !== victim);
    const exited = new Promise<void>((resolve) => c.node(victim).process!.once('exit', () => resolve()));
    c.kill(victim, 'SIGTERM');
    await exited;
    // Handed over (or, for an SI whose standby SU sat on the same node, moved after it left).
    await waitFor('every SI active on the other nodes', 15_000, () => allActiveOn(c, others, others));
    assert.deepEqual(doubles, []);
    c.startNode(victim);
    await waitFor(`${victim} up and unlocked`, 30_000, async () => {
      const nodes = await c.get<{ nodes: Array<{ name: string; up: boolean; admin: string }> }>(others[0]!, '/v1/nodes');
      const n = nodes?.nodes.find((x) => x.name === victim);
      return n?.up && n.admin === 'unlocked' ? true : undefined;
    });
  });
});
