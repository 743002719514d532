/**
 * A partition between real amfd processes (issue 8 "Must show"): the minority node stops its
 * actives before the majority starts them. The cut is made by the daemon's test fault hook
 * (AMFD_FAULT_FILE, src/daemon/faults.ts) on both sides. Network namespaces (`ip netns`, root +
 * iproute2) would cut below the process, but need veth addresses off loopback, and tests here stay
 * on 127.0.0.1; the hook drops the same traffic (gossip, Raft, lease renewals, forwarded writes).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { LocalCluster } from '../../src/daemon/local-cluster.js';
import { actives, allActiveOn, componentPid, faultFile, groupsOn, leaderOf, sleep, startTestCluster, stopTestCluster, waitFor } from './harness.js';

const NODES = ['n1', 'n2', 'n3'];
let c: LocalCluster;
let failed = false;

before(async () => {
  c = await startTestCluster('partition', true);
});

after(async () => {
  const left = await stopTestCluster(c, failed);
  assert.deepEqual(left, [], 'no amfd or component process is left');
});

test('partition: the minority stops its actives before the majority starts them', { timeout: 90_000 }, async () => {
  try {
    const placed = await waitFor('every SI active', 40_000, () => allActiveOn(c, NODES, NODES));
    const leader = await waitFor('a leader', 10_000, () => leaderOf(c, NODES));
    const victim = NODES.find((n) => n !== leader && [...placed.values()].includes(n)) ?? [...placed.values()][0]!;
    const majority = NODES.filter((n) => n !== victim);
    const g = (await groupsOn(c, victim))!;
    // The victim's SUs that hold an SI active, and their component processes.
    const mine = [...actives(g)].flatMap(([si, list]) => list.filter((a) => a.node === victim).map((a) => ({ si, su: a.su })));
    assert.ok(mine.length > 0, `${victim} holds an active SI`);
    for (const m of mine) assert.ok(componentPid(c, m.su, victim), `${m.su} runs on ${victim}`);
    const addrs = (n: string): string[] => [c.node(n).swim, c.node(n).raft, c.node(n).rpc];
    writeFileSync(faultFile(c, victim), JSON.stringify(majority.flatMap(addrs)));
    for (const n of majority) writeFileSync(faultFile(c, n), JSON.stringify(addrs(victim)));
    const t0 = Date.now();
    let stoppedAt: number | undefined;
    let startedAt: number | undefined;
    const overlaps: string[] = [];
    while (Date.now() - t0 < 30_000 && startedAt === undefined) {
      // Read the majority's view first, then the minority's processes: a process still alive
      // after the majority reported its SI active elsewhere is a real overlap.
      const view = await allActiveOn(c, majority, majority);
      const alive = mine.filter((m) => componentPid(c, m.su, victim) !== undefined);
      if (alive.length === 0 && stoppedAt === undefined) stoppedAt = Date.now() - t0;
      if (view && mine.every((m) => view.get(m.si) !== victim)) {
        startedAt = Date.now() - t0;
        for (const m of alive) overlaps.push(`${m.si}: ${m.su} on ${victim} still running when the majority had it active on ${view.get(m.si)}`);
      }
      await sleep(20);
    }
    assert.ok(stoppedAt !== undefined, `the minority ${victim} stopped its actives`);
    assert.ok(startedAt !== undefined, 'the majority made the SIs active');
    assert.ok(stoppedAt < startedAt, `stopped at ${stoppedAt} ms, started at ${startedAt} ms`);
    assert.deepEqual(overlaps, []);
    // Heal: the minority node rejoins as a new incarnation.
    for (const n of NODES) writeFileSync(faultFile(c, n), '[]');
    await waitFor(`${victim} back up`, 30_000, async () => {
      const v = await c.get<{ nodes: Array<{ name: string; up: boolean }> }>(majority[0]!, '/v1/nodes');
      return v?.nodes.find((x) => x.name === victim)?.up ? true : undefined;
    });
  } catch (e) {
    failed = true;
    throw e;
  }
});
