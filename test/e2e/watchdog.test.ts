/**
 * The lease watchdog with real amfd processes (issue 8): an amfd that cannot act — paused with
 * SIGSTOP, or killed with SIGKILL — still has its active components killed by its watchdog at the
 * lease end, so they are dead by the time the survivors make their SIs ACTIVE elsewhere. Then the
 * node rejoins cleanly (SIGCONT, or a restart).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { LocalCluster } from '../../src/daemon/local-cluster.js';
import { findMarked } from '../../src/daemon/orphans.js';
import { WATCHDOG_VAR } from '../../src/daemon/watchdog.js';
import { actives, allActiveOn, componentPid, groupsOn, leaderOf, sleep, startTestCluster, stopTestCluster, waitFor } from './harness.js';

const NODES = ['n1', 'n2', 'n3'];
let c: LocalCluster;
let failed = false;
/** Kills each node's watchdogs logged because a test made its amfd unable to renew. */
const induced = new Map<string, number>();

before(async () => {
  c = await startTestCluster('watchdog');
});

after(async () => {
  for (const n of NODES) c.kill(n, 'SIGCONT');
  const left = await stopTestCluster(c, failed);
  assert.deepEqual(left, [], 'no amfd, watchdog or component process is left');
});

/** Alive and not a zombie (a paused amfd cannot reap the components its watchdog killed). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A non-leader node holding an ACTIVE SI, with those SIs and their component pids. */
async function pickVictim(): Promise<{ victim: string; majority: string[]; mine: Array<{ si: string; su: string; pid: number }> }> {
  const placed = await waitFor('every SI active', 40_000, () => allActiveOn(c, NODES, NODES));
  const leader = await waitFor('a leader', 10_000, () => leaderOf(c, NODES));
  const victim = NODES.find((n) => n !== leader && [...placed.values()].includes(n)) ?? [...placed.values()][0]!;
  const g = (await groupsOn(c, victim))!;
  const mine = [...actives(g)].flatMap(([si, list]) => list.filter((a) => a.node === victim).map((a) => ({ si, su: a.su, pid: componentPid(c, a.su, victim) ?? 0 })));
  assert.ok(mine.length > 0, `${victim} holds an active SI`);
  for (const m of mine) assert.ok(m.pid > 0, `${m.su} runs on ${victim}`);
  return { victim, majority: NODES.filter((n) => n !== victim), mine };
}

/**
 * Poll until the majority has every SI of `mine` ACTIVE elsewhere; every old component pid must be
 * dead by then (read the majority's view first, then the processes: a pid alive after the view
 * showed its SI elsewhere is a real overlap).
 */
async function watchFailover(majority: string[], mine: Array<{ si: string; su: string; pid: number }>): Promise<{ stoppedAt: number; startedAt: number }> {
  const t0 = Date.now();
  let stoppedAt: number | undefined;
  let startedAt: number | undefined;
  const overlaps: string[] = [];
  while (Date.now() - t0 < 30_000 && startedAt === undefined) {
    const view = await allActiveOn(c, majority, majority);
    const living = mine.filter((m) => alive(m.pid));
    if (living.length === 0) stoppedAt ??= Date.now() - t0;
    if (view && mine.every((m) => view.get(m.si) !== undefined)) {
      startedAt = Date.now() - t0;
      for (const m of living) overlaps.push(`${m.si}: pid ${m.pid} of ${m.su} alive when the majority had it ACTIVE on ${view.get(m.si)}`);
    }
    await sleep(20);
  }
  assert.deepEqual(overlaps, []);
  assert.ok(stoppedAt !== undefined, 'the old components died');
  assert.ok(startedAt !== undefined, 'the majority made the SIs active');
  assert.ok(stoppedAt <= startedAt, `stopped at ${stoppedAt} ms, active elsewhere at ${startedAt} ms`);
  return { stoppedAt, startedAt };
}

async function rejoined(node: string, others: string[]): Promise<void> {
  await waitFor(`${node} up again`, 30_000, async () => {
    const v = await c.get<{ nodes: Array<{ name: string; up: boolean }> }>(others[0]!, '/v1/nodes');
    const st = await c.get<{ raft: { leader: string | null } }>(node, '/status');
    return v?.nodes.find((x) => x.name === node)?.up && st?.raft.leader ? true : undefined;
  });
  await waitFor('every SI active exactly once', 30_000, () => allActiveOn(c, NODES, NODES));
}

/** How many kills the node's watchdogs logged (their stderr is amfd's log). */
const watchdogKills = (node: string): number => readFileSync(c.node(node).log, 'utf8').split('lease ran out without renewal: killed every component process group').length - 1;

test('kill -STOP of an amfd: its watchdog kills its actives before the survivors start them; kill -CONT: it rejoins', { timeout: 120_000 }, async () => {
  try {
    const { victim, majority, mine } = await pickVictim();
    const kills = watchdogKills(victim);
    c.kill(victim, 'SIGSTOP');
    try {
      const t = await watchFailover(majority, mine);
      assert.equal(watchdogKills(victim), kills + 1, 'the watchdog logged its kill');
      induced.set(victim, (induced.get(victim) ?? 0) + 1);
      process.stdout.write(`# SIGSTOP ${victim}: components dead at ${t.stoppedAt} ms, SIs active elsewhere at ${t.startedAt} ms\n`);
    } finally {
      c.kill(victim, 'SIGCONT');
    }
    await rejoined(victim, majority);
  } catch (e) {
    failed = true;
    throw e;
  }
});

test('kill -9 of an amfd: its watchdog kills its actives at the lease end (not at its restart), then exits', { timeout: 120_000 }, async () => {
  try {
    const { victim, majority, mine } = await pickVictim();
    const dog = findMarked(WATCHDOG_VAR, (v) => v === `${victim}@${c.node(victim).dataDir}`);
    assert.equal(dog.length, 1, `one watchdog guards ${victim}`);
    const kills = watchdogKills(victim);
    c.kill(victim, 'SIGKILL');
    const t = await watchFailover(majority, mine);
    process.stdout.write(`# SIGKILL ${victim}: components dead at ${t.stoppedAt} ms, SIs active elsewhere at ${t.startedAt} ms\n`);
    await waitFor('the watchdog gone', 5000, async () => (alive(dog[0]!) ? undefined : true));
    assert.equal(watchdogKills(victim), kills + 1, 'the watchdog logged its kill');
    induced.set(victim, (induced.get(victim) ?? 0) + 1);
    c.startNode(victim);
    await rejoined(victim, majority);
  } catch (e) {
    failed = true;
    throw e;
  }
});

test('kill -9 of a watchdog: its amfd restarts it at once; renewals in time mean no watchdog ever killed a healthy node', { timeout: 60_000 }, async () => {
  try {
    const node = NODES[0]!;
    const owner = `${node}@${c.node(node).dataDir}`;
    const before = findMarked(WATCHDOG_VAR, (v) => v === owner);
    assert.equal(before.length, 1);
    const pids = new Map(['web1', 'web2', 'web3', 'db1', 'db2'].map((su) => [su, componentPid(c, su)]));
    assert.ok([...pids.values()].some((p) => p !== undefined), 'components run');
    process.kill(before[0]!, 'SIGKILL');
    const after = await waitFor('a new watchdog', 5000, async () => {
      const now = findMarked(WATCHDOG_VAR, (v) => v === owner).filter(alive);
      return now.length === 1 && now[0] !== before[0] ? now[0] : undefined;
    });
    assert.ok(after);
    await sleep(2000);
    await waitFor('every SI active exactly once', 10_000, () => allActiveOn(c, NODES, NODES));
    for (const [su, pid] of pids) if (pid !== undefined) assert.ok(alive(pid), `${su}'s component is untouched`);
    // Every node renewed every 150 ms for the whole run: only the kills the tests caused happened.
    for (const n of NODES) assert.equal(watchdogKills(n), induced.get(n) ?? 0, `${n}: no watchdog kill beyond the induced ones`);
  } catch (e) {
    failed = true;
    throw e;
  }
});
