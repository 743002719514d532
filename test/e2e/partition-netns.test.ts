/**
 * The partition of partition.test.ts made below the process: each amfd runs in its own network
 * namespace on a bridge, and the minority node's cable is unplugged (netns.ts), so its gossip,
 * Raft, lease and forwarded-write packets are lost in the kernel in both directions, with no help
 * from the daemon. The minority must stop its actives before the majority starts them. Needs root
 * and iproute2 (`.ci/run` installs it); elsewhere it is skipped with the reason, and the fault-hook
 * test still runs.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { LocalCluster } from '../../scripts/local-cluster.js';
import { minorityStopsFirst, startTestCluster, stopTestCluster } from './harness.js';
import { openNetns } from './netns.js';

const NODES = ['n1', 'n2', 'n3'];
const net = openNetns(NODES.length);
let c: LocalCluster | undefined;
let failed = false;

after(async () => {
  if (c) {
    const left = await stopTestCluster(c, failed);
    assert.deepEqual(left, [], 'no amfd or component process is left');
  }
  if (net.ok) net.value.destroy();
});

test('partition in network namespaces: the unplugged minority stops its actives before the majority starts them', { timeout: 120_000, skip: net.ok ? false : `no network namespaces here: ${net.error}` }, async (t) => {
  assert.ok(net.ok);
  try {
    c = await startTestCluster('netns', false, net.value.hosts);
    const at = (n: string): number => NODES.indexOf(n);
    let unplugged: number | undefined;
    const cut = (victim: string): void => {
      unplugged = at(victim);
      net.value.cut(unplugged);
    };
    const heal = (): void => {
      if (unplugged !== undefined) net.value.heal(unplugged);
    };
    const r = await minorityStopsFirst(c, NODES, cut, heal);
    t.diagnostic(`after the cut: minority stopped at ${r.stoppedAt} ms, majority active at ${r.startedAt} ms`);
  } catch (e) {
    failed = true;
    throw e;
  }
});
