/**
 * A partition between real amfd processes (issue 8 "Must show"): the minority node stops its
 * actives before the majority starts them. The cut is made by the daemon's test fault hook
 * (AMFD_FAULT_FILE, test/e2e/faults.ts, run by test/e2e/amfd-faults.ts) on both sides, on 127.0.0.1, so it runs on any machine;
 * partition-netns.test.ts makes the same split below the process where network namespaces are
 * allowed. The hook drops the same traffic (gossip, Raft, lease renewals, forwarded writes).
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { LocalCluster } from '../../scripts/local-cluster.js';
import { faultFile, minorityStopsFirst, startTestCluster, stopTestCluster } from './harness.js';

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

test('partition: the minority stops its actives before the majority starts them', { timeout: 90_000 }, async (t) => {
  try {
    const addrs = (n: string): string[] => [c.node(n).swim, c.node(n).raft, c.node(n).rpc];
    const cut = (victim: string, majority: readonly string[]): void => {
      writeFileSync(faultFile(c, victim), JSON.stringify(majority.flatMap(addrs)));
      for (const n of majority) writeFileSync(faultFile(c, n), JSON.stringify(addrs(victim)));
    };
    const heal = (): void => {
      for (const n of NODES) writeFileSync(faultFile(c, n), '[]');
    };
    const r = await minorityStopsFirst(c, NODES, cut, heal);
    t.diagnostic(`after the cut: minority stopped at ${r.stoppedAt} ms, majority active at ${r.startedAt} ms`);
  } catch (e) {
    failed = true;
    throw e;
  }
});
