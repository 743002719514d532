import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcCluster, sleep, type ProcNode } from '../../bench/raft-cluster.js';
import { HistoryRecorder } from '../../simulator/raft/history.js';
import { checkLinearizable } from '../../simulator/raft/linearizability.js';
import { kvModel, type KvInput, type KvOutput } from '../../simulator/raft/kv.js';

/**
 * Three OS processes on loopback under KV load; the leader is SIGKILLed and restarted. The recorded
 * history must be linearizable, every acknowledged write must still be readable (or overwritten
 * by a later one), and all replicas must converge to the same state.
 */
test('3 processes: SIGKILL the leader under load, restart it; linearizable, no acknowledged write lost', { timeout: 90_000 }, async () => {
  const cluster = new ProcCluster(3);
  try {
    await cluster.start();
    const first = await cluster.waitForLeader(10_000);
    const history = new HistoryRecorder<KvInput, KvOutput>(() => cluster.clock.now());
    const keys = ['a', 'b', 'c'];
    let stop = false;
    let hint: ProcNode | undefined = first;
    let seq = 0;
    const acked: Array<{ key: string; value: string }> = [];
    const client = async (cid: number): Promise<void> => {
      while (!stop) {
        const target = hint ?? cluster.nodes[seq % 3]!;
        const key = keys[seq % keys.length]!;
        const value = `${cid}.${++seq}`;
        const op: KvInput = seq % 3 === 0 ? { f: 'read', key } : seq % 3 === 1 ? { f: 'write', key, value } : { f: 'cas', key, from: null, to: value };
        const id = history.invoke(cid, op);
        const c = await cluster.client(target);
        const r = c ? await c.call(op, 1500) : { ok: false as const, error: { kind: 'shutdown' as const } };
        if (r === undefined) {
          history.info(id);
          hint = undefined;
        } else if (r.ok) {
          history.ok(id, r.value);
          if (op.f === 'write' || (op.f === 'cas' && 'ok' in r.value && r.value.ok)) acked.push({ key, value });
        } else if (r.error.kind === 'notLeader' || r.error.kind === 'rejected' || (r.error.kind === 'shutdown' && !c)) {
          history.fail(id);
          const leaderId = r.error.kind === 'notLeader' ? r.error.leader?.id : undefined;
          hint = cluster.nodes.find((n) => n.id === leaderId);
          await sleep(10);
        } else {
          history.info(id);
          hint = undefined;
        }
      }
    };
    const runs = [0, 1, 2, 3].map(client);
    await sleep(1500);
    cluster.kill(first);
    await sleep(1500);
    await cluster.spawn(first);
    await sleep(1500);
    stop = true;
    await Promise.all(runs);

    // Everything converges: same applied index and state digest on all three.
    let statuses: Array<{ applied: number; digest: string } | undefined> = [];
    for (let i = 0; i < 100; i++) {
      statuses = await Promise.all(cluster.nodes.map(async (n) => (await cluster.client(n))?.status(500)));
      if (statuses.every((s) => s && s.applied === statuses[0]!.applied && s.digest === statuses[0]!.digest)) break;
      await sleep(50);
    }
    assert.ok(statuses.every((s) => s && s.digest === statuses[0]!.digest), `replicas differ: ${JSON.stringify(statuses)}`);

    // Final reads through the log are part of the history the checker sees.
    const leader = await cluster.waitForLeader(5000);
    for (const key of keys) {
      const id = history.invoke(99, { f: 'read', key });
      const r = await (await cluster.client(leader))!.call({ f: 'read', key }, 2000);
      assert.ok(r && r.ok, `final read of ${key} failed`);
      history.ok(id, r.value);
    }
    const ops = history.operations();
    const okOps = history.log.filter((e) => e.type === 'ok').length;
    assert.ok(okOps > 50, `too little progress: ${okOps} ok ops`);
    assert.ok(acked.length > 10);
    const verdict = checkLinearizable(kvModel, ops);
    assert.equal(verdict.verdict, 'ok', `history not linearizable: ${JSON.stringify(verdict.partitions)}`);
  } finally {
    await cluster.stop();
  }
});
