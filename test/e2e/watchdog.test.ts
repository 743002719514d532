/**
 * The lease watchdog with real amfd processes (issue 8): an amfd that cannot act — paused with
 * SIGSTOP, or killed with SIGKILL — still has its active components killed by its watchdog at the
 * lease end, so they are dead by the time the survivors make their SIs ACTIVE elsewhere. Then the
 * node rejoins cleanly (SIGCONT, or a restart).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { LocalCluster } from '../../scripts/local-cluster.js';
import { findMarked } from '../../src/daemon/orphans.js';
import { WATCHDOG_VAR } from '../../src/daemon/watchdog.js';
import { alive, allActiveOn, componentPid, pickVictim, sleep, startTestCluster, stopTestCluster, waitFor, watchFailover } from './harness.js';

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
    const v = await pickVictim(c, NODES);
    const { victim, majority } = v;
    const kills = watchdogKills(victim);
    c.kill(victim, 'SIGSTOP');
    try {
      const t = await watchFailover(c, v);
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
    const v = await pickVictim(c, NODES);
    const { victim, majority } = v;
    const dog = findMarked(WATCHDOG_VAR, (v) => v === `${victim}@${c.node(victim).dataDir}`);
    assert.equal(dog.length, 1, `one watchdog guards ${victim}`);
    const kills = watchdogKills(victim);
    c.kill(victim, 'SIGKILL');
    const t = await watchFailover(c, v);
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
