import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../simulator/index.js';
import { RaftSimNode, raftAddress, type RaftNodeHooks } from '../../simulator/raft/node.js';
import type { DurableStore } from '../../src/runtime/ports/storage.js';
import type { RaftConfig } from '../../src/raft/config.js';
import type { Observation } from '../../src/raft/driver/types.js';
import { encodeKv, type KvOutput } from '../../simulator/raft/kv.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';

/** A cluster of the real driver on the simulator (virtual time: these tests take no wall-clock waits). */
function cluster(seed: number, n = 3, config: Partial<RaftConfig> = {}, hooks: RaftNodeHooks = {}) {
  const sim = new Simulation({ seed });
  const names = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  const servers = names.map((id) => ({ id, address: raftAddress(id) }));
  for (const name of names) sim.addNode(name, (ports: NodePorts) => new RaftSimNode(ports, servers, hooks, config));
  const app = (name: string) => sim.app<RaftSimNode>(name);
  const raft = (name: string) => app(name)!.raft!;
  const leader = () => sim.nodeNames().find((nm) => app(nm)?.raft?.state() === 'leader');
  const elect = async () => {
    assert.ok(await sim.runUntil(() => leader() !== undefined, 5000), 'no leader elected');
    return leader()!;
  };
  /** Run the simulation until the promise settles (at most maxMs of virtual time). */
  const settle = async <T>(p: Promise<T>, maxMs = 5000): Promise<T> => {
    let done = false;
    void p.then(() => (done = true));
    await sim.runUntil(() => done, maxMs);
    assert.ok(done, 'promise did not settle');
    return p;
  };
  /** Add a node that starts empty (no bootstrap) and waits to be added. */
  const addEmpty = (name: string) => sim.addNode(name, (ports: NodePorts) => new RaftSimNode(ports, [], {}, config));
  return { sim, names, app, raft, leader, elect, settle, addEmpty };
}

const write = (key: string, value: string) => encodeKv({ f: 'write', key, value });

test('apply resolves with the FSM result once committed; reads go through the log', async () => {
  const c = cluster(1);
  const l = c.raft(await c.elect());
  assert.ok((await c.settle(l.apply(write('x', '1'), 1000))).ok);
  const r = await c.settle(l.apply(encodeKv({ f: 'read', key: 'x' }), 1000));
  assert.ok(r.ok);
  assert.deepEqual(r.value as KvOutput, { value: '1' });
});

test('a follower refuses apply with notLeader naming the leader', async () => {
  const c = cluster(2);
  const lid = await c.elect();
  const f = c.names.find((n) => n !== lid)!;
  await c.sim.runFor(200);
  const r = await c.settle(c.raft(f).apply(write('x', '1'), 1000));
  assert.ok(!r.ok && r.error.kind === 'notLeader');
  assert.equal(r.error.leader?.id, lid);
  assert.equal(r.error.leader?.address, raftAddress(lid));
});

test('group commit: 64 concurrent applies share far fewer durability points', async () => {
  const c = cluster(3);
  const lid = await c.elect();
  await c.sim.runFor(200);
  const metric = () => c.sim.ports(lid).metrics.getSingleMetric('raft_fsyncs_total')!.get();
  const before = (await metric()).values[0]!.value;
  const results = await c.settle(Promise.all(Array.from({ length: 64 }, (_, i) => c.raft(lid).apply(write(`k${i}`, 'v'), 2000))));
  assert.ok(results.every((r) => r.ok));
  const fsyncs = (await metric()).values[0]!.value - before;
  assert.ok(fsyncs <= 8, `expected batching, got ${fsyncs} fsyncs for 64 applies`);
});

test('barrier and verifyLeader on the leader; verifyLeader on a follower fails', async () => {
  const c = cluster(4);
  const lid = await c.elect();
  const l = c.raft(lid);
  const applied = l.apply(write('a', '1'), 1000);
  const b = await c.settle(l.barrier(1000));
  assert.ok(b.ok);
  assert.ok((await applied).ok);
  assert.ok(l.appliedIndex >= b.value);
  assert.ok((await c.settle(l.verifyLeader(1000))).ok);
  const f = c.names.find((n) => n !== lid)!;
  const v = await c.settle(c.raft(f).verifyLeader(1000));
  assert.ok(!v.ok);
});

test('leader crash: a new leader within a second of virtual time, the old one rejoins as follower', async () => {
  const c = cluster(5);
  const lid = await c.elect();
  assert.ok((await c.settle(c.raft(lid).apply(write('k', 'before'), 1000))).ok);
  c.sim.crash(lid);
  const t0 = c.sim.now;
  assert.ok(await c.sim.runUntil(() => c.leader() !== undefined, 3000));
  const failover = c.sim.now - t0;
  assert.ok(failover < 1000, `failover took ${failover} ms`);
  const nl = c.leader()!;
  const r = await c.settle(c.raft(nl).apply(encodeKv({ f: 'read', key: 'k' }), 1000));
  assert.ok(r.ok);
  assert.deepEqual(r.value, { value: 'before' });
  c.sim.start(lid);
  await c.sim.runFor(2000);
  assert.equal(c.raft(lid).state(), 'follower');
  assert.equal(c.app(lid)!.fsm.get('k'), 'before');
});

test('no elections at idle: 60 s of virtual time with jitter and 200 ms pauses keep one leader and term', async () => {
  const c = cluster(6, 5);
  const lid = await c.elect();
  await c.sim.runFor(1000);
  const term = c.raft(lid).currentTerm;
  c.sim.links.setDefaults({ jitterMs: 2 });
  for (let i = 0; i < 20; i++) {
    c.sim.at(i * 3000 + 500, () => c.sim.pause(c.names[i % 5]!, 200));
  }
  await c.sim.runFor(60_000);
  assert.equal(c.leader(), lid);
  for (const n of c.names) assert.equal(c.raft(n).currentTerm, term, `${n} moved to another term`);
});

test('membership: add a non-voter, promote it, remove a server; observers see the changes', async () => {
  const c = cluster(7);
  const lid = await c.elect();
  const l = c.raft(lid);
  const seen: Observation[] = [];
  l.observe((o) => seen.push(o));
  for (let i = 0; i < 10; i++) await c.settle(l.apply(write(`k${i}`, `${i}`), 1000));
  c.addEmpty('n4');
  await c.sim.runFor(100);
  assert.ok((await c.settle(l.addNonvoter('n4', raftAddress('n4'), 2000))).ok);
  assert.ok(await c.sim.runUntil(() => c.app('n4')?.fsm.get('k9') === '9', 3000), 'non-voter did not catch up');
  assert.ok((await c.settle(l.addVoter('n4', raftAddress('n4'), 2000))).ok);
  const victim = c.names.find((n) => n !== lid)!;
  assert.ok((await c.settle(l.removeServer(victim, 2000))).ok);
  const conf = l.getConfiguration();
  assert.deepEqual(conf.filter((s) => s.suffrage === 'voter').map((s) => s.id).sort(), [lid, 'n4', ...c.names.filter((n) => n !== lid && n !== victim)].sort());
  assert.ok(seen.some((o) => o.type === 'peer' && o.id === 'n4' && o.change === 'nonvoter'));
  assert.ok(seen.some((o) => o.type === 'peer' && o.id === 'n4' && o.change === 'voter'));
  assert.ok(seen.some((o) => o.type === 'peer' && o.id === victim && o.change === 'removed'));
  assert.ok((await c.settle(l.apply(write('after', 'yes'), 1000))).ok);
  // A second change while one is pending is refused, not queued.
  const p1 = l.demoteVoter('n4', 2000);
  const p2 = l.addNonvoter('n9', raftAddress('n9'), 2000);
  const r2 = await c.settle(p2);
  assert.ok(!r2.ok && r2.error.kind === 'rejected');
  assert.ok((await c.settle(p1)).ok);
});

test('leadership transfer hands leadership to the chosen server', async () => {
  const c = cluster(8);
  const lid = await c.elect();
  await c.settle(c.raft(lid).apply(write('a', '1'), 1000));
  const target = c.names.find((n) => n !== lid)!;
  const r = await c.settle(c.raft(lid).leadershipTransfer(2000, target));
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.value.id, target);
  await c.sim.runFor(100);
  assert.equal(c.leader(), target);
});

test('snapshots: automatic by threshold, log compacted, a restarted follower and a new server recover from them', async () => {
  const c = cluster(9, 3, { snapshotThreshold: 50, trailingLogs: 10 });
  const lid = await c.elect();
  const l = c.raft(lid);
  for (let i = 0; i < 120; i++) assert.ok((await c.settle(l.apply(write(`k${i % 7}`, `${i}`), 1000))).ok);
  await c.sim.runFor(500);
  const stats = l.stats();
  assert.ok(Number(stats.lastSnapshotIndex) >= 50, JSON.stringify(stats));
  assert.ok(Number(stats.firstIndex) > 1, 'log was not compacted');
  const f = c.names.find((n) => n !== lid)!;
  c.sim.crash(f);
  c.sim.start(f);
  await c.sim.runFor(1000);
  assert.equal(c.app(f)!.fsm.digest(), c.app(lid)!.fsm.digest());
  // A new server is far behind the compacted log: it must get an InstallSnapshot.
  c.addEmpty('n4');
  await c.sim.runFor(50);
  assert.ok((await c.settle(l.addNonvoter('n4', raftAddress('n4'), 3000))).ok);
  assert.ok(await c.sim.runUntil(() => c.app('n4')?.fsm.digest() === c.app(lid)!.fsm.digest(), 5000));
  const snap = await c.settle(l.snapshot());
  assert.ok(snap.ok || snap.error === 'nothing new to snapshot');
});

test('hostile frames on the raft port close that connection, are counted, and never hurt the node', async () => {
  const c = cluster(10);
  const lid = await c.elect();
  const f = c.names.find((n) => n !== lid)!;
  const conn = await c.settle(c.sim.ports(lid).stream.connect(raftAddress(f), { timeoutMs: 500 }));
  assert.ok(conn.ok);
  let closed = false;
  conn.value.onClose(() => (closed = true));
  conn.value.send(new Uint8Array([0xc1, 0xff, 0x00])); // not msgpack
  assert.ok(await c.sim.runUntil(() => closed, 1000));
  const conn2 = await c.settle(c.sim.ports(lid).stream.connect(raftAddress(f), { timeoutMs: 500 }));
  assert.ok(conn2.ok);
  let closed2 = false;
  conn2.value.onClose(() => (closed2 = true));
  const { packr } = await import('../../src/raft/storage/codec.js');
  conn2.value.send(packr.pack({ hello: { id: lid, address: '' } }));
  conn2.value.send(packr.pack({ type: 'appendEntries', from: lid, to: f, term: -1, entries: 'nope' }));
  assert.ok(await c.sim.runUntil(() => closed2, 1000));
  const bad = await c.sim.ports(f).metrics.getSingleMetric('raft_transport_bad_frames_total')!.get();
  assert.equal(bad.values.reduce((a, v) => a + v.value, 0), 2);
  assert.ok((await c.settle(c.raft(lid).apply(write('still', 'fine'), 1000))).ok);
});

test('persist before acknowledge: while followers cannot finish a flush, nothing commits', async () => {
  const held = new Set<string>();
  const waiting: Array<() => void> = [];
  const gate = (store: DurableStore, ports: NodePorts): DurableStore => ({
    get: (n, k) => store.get(n, k),
    range: (n, o) => store.range(n, o),
    write: (ops) => store.write(ops),
    flush: () => (held.has(ports.nodeName) ? new Promise<void>((r) => waiting.push(r)).then(() => store.flush()) : store.flush()),
    close: () => store.close(),
  });
  const c = cluster(11, 3, {}, { wrapStore: gate });
  const lid = await c.elect();
  await c.sim.runFor(300);
  for (const n of c.names) if (n !== lid) held.add(n);
  let done = false;
  const p = c.raft(lid).apply(write('k', 'v'), 5000);
  void p.then(() => (done = true));
  await c.sim.runFor(1000);
  assert.equal(done, false, 'committed although no follower made the entry durable');
  held.clear();
  for (const r of waiting.splice(0)) r();
  assert.ok(await c.sim.runUntil(() => done, 2000));
  assert.ok((await p).ok);
});

test('observers: heartbeat failure and resumption of a crashed follower, leader change after a transfer', async () => {
  const c = cluster(12);
  const lid = await c.elect();
  const seen: Observation[] = [];
  c.raft(lid).observe((o) => seen.push(o));
  const f = c.names.find((n) => n !== lid)!;
  c.sim.crash(f);
  assert.ok(await c.sim.runUntil(() => seen.some((o) => o.type === 'heartbeatFailed' && o.id === f), 3000), 'no heartbeatFailed');
  c.sim.start(f);
  assert.ok(await c.sim.runUntil(() => seen.some((o) => o.type === 'heartbeatResumed' && o.id === f), 3000), 'no heartbeatResumed');
  await c.settle(c.raft(lid).leadershipTransfer(2000, f));
  assert.ok(seen.some((o) => o.type === 'leader' && o.leader?.id === f));
  assert.ok(seen.some((o) => o.type === 'state' && o.state === 'follower'));
});

test('readBarrier on a follower: the leader confirms its commit index, the follower serves once it applied it', async () => {
  const c = cluster(13);
  const lid = await c.elect();
  const f = c.names.find((n) => n !== lid)!;
  await c.sim.runFor(200);
  // The follower misses the write (the leader commits with the third server), so it lags.
  c.sim.cut(lid, f);
  assert.ok((await c.settle(c.raft(lid).apply(write('x', '1'), 1000))).ok);
  const writtenAt = c.raft(lid).appliedIndex;
  assert.notEqual(c.app(f)!.fsm.get('x'), '1');
  c.sim.heal();
  const r = await c.settle(c.raft(f).readBarrier(1000));
  assert.ok(r.ok, JSON.stringify(r));
  assert.ok(r.value >= writtenAt, `read index ${r.value} below the acknowledged write at ${writtenAt}`);
  assert.ok(c.raft(f).appliedIndex >= r.value);
  assert.equal(c.app(f)!.fsm.get('x'), '1');
  // On the leader the same call is its own read-index round.
  const l = await c.settle(c.raft(lid).readBarrier(1000));
  assert.ok(l.ok && l.value >= writtenAt);
});

test('readBarrier on a partitioned follower or a deposed leader fails, never serves a stale read', async () => {
  const c = cluster(14);
  const lid = await c.elect();
  const f = c.names.find((n) => n !== lid)!;
  assert.ok((await c.settle(c.raft(lid).apply(write('x', 'old'), 1000))).ok);
  await c.sim.runFor(200);
  assert.equal(c.app(f)!.fsm.get('x'), 'old');
  c.sim.isolate(f);
  assert.ok((await c.settle(c.raft(lid).apply(write('x', 'new'), 1000))).ok);
  // Still believes in its leader (within the election timeout): the request is lost, it times out.
  const early = await c.settle(c.raft(f).readBarrier(200));
  assert.ok(!early.ok && early.error.kind === 'timeout', JSON.stringify(early));
  // Later, leaderless: refused at once or timed out, never ok.
  await c.sim.runFor(1500);
  const late = await c.settle(c.raft(f).readBarrier(500));
  assert.ok(!late.ok, JSON.stringify(late));
  assert.equal(c.app(f)!.fsm.get('x'), 'old');
  c.sim.heal();
  assert.ok(await c.sim.runUntil(() => c.leader() !== undefined && c.raft(f).leader() !== undefined, 3000));
  const healed = await c.settle(c.raft(f).readBarrier(1000));
  assert.ok(healed.ok, JSON.stringify(healed));
  assert.equal(c.app(f)!.fsm.get('x'), 'new');

  // A leader cut off from its quorum cannot confirm a read either, although it still says leader.
  const l2 = c.leader()!;
  c.sim.isolate(l2);
  const stale = await c.settle(c.raft(l2).readBarrier(200));
  assert.ok(!stale.ok, JSON.stringify(stale));
});

test('address provider: a server added later, deaf to hello frames, answers the leader through resolveAddress', async () => {
  /** Without the provider the new server cannot answer at all: the leader never sees it catch up. */
  const run = async (withProvider: boolean): Promise<boolean> => {
    const c = cluster(15);
    const lid = await c.elect();
    const l = c.raft(lid);
    for (let i = 0; i < 5; i++) assert.ok((await c.settle(l.apply(write(`k${i}`, `${i}`), 1000))).ok);
    const hooks: RaftNodeHooks = {
      // The hello frames that would teach it the leader's address (a wildcard bind in real life) are hidden.
      wrapTransport: (t) => ({
        localAddress: t.localAddress,
        onMessage: (h) => t.onMessage(h),
        onPeerAddress: () => undefined,
        onPeerStatus: (h) => t.onPeerStatus(h),
        send: (a, m) => t.send(a, m),
        close: () => t.close(),
      }),
      ...(withProvider ? { resolveAddress: () => (id: string) => raftAddress(id) } : {}),
    };
    c.sim.addNode('n4', (ports: NodePorts) => new RaftSimNode(ports, [], hooks));
    await c.sim.runFor(100);
    assert.ok((await c.settle(l.addNonvoter('n4', raftAddress('n4'), 2000))).ok);
    return c.sim.runUntil(() => c.app('n4')?.fsm.get('k4') === '4', 3000);
  };
  assert.equal(await run(false), false, 'without a provider the new server should not be able to answer');
  assert.equal(await run(true), true, 'with the provider the new server catches up');
});
