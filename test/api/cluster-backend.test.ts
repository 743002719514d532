/**
 * ClusterApiBackend on real cluster nodes (SWIM, Raft, FSM, director) in the deterministic
 * simulator: views, config compare-and-set with a dry-run plan, admin operations and error
 * reports from a follower (forwarded to the leader), the event feed, consistent reads on any node
 * (refused, never stale, on a follower cut off from the leader).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { ClusterApiBackend } from '../../src/api/cluster-backend.js';
import type { ApiEvent } from '../../src/api/events.js';
import { groupViews } from '../../src/api/views.js';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';

function backendOf(h: ClusterHarness, name: string): ClusterApiBackend {
  const app = h.app(name);
  assert.ok(app);
  return new ClusterApiBackend({ node: app.node, metrics: new Registry(), processInfo: () => ({ pid: 1, uptimeSeconds: 2, rssBytes: 3, heapUsedBytes: 4 }) });
}

/** Runs the simulation until the promise settles. */
async function settle<T>(h: ClusterHarness, p: Promise<T>): Promise<T> {
  let out: { v: T } | undefined;
  void p.then((v) => (out = { v }));
  assert.ok(await h.sim.runUntil(() => out !== undefined, 10_000), 'settled in virtual time');
  return out!.v;
}

test('cluster backend: views, dry run, CAS from a follower, stale epoch, admin, error report, events, consistent reads', async () => {
  const h = new ClusterHarness({ seed: 7, nodes: 3 });
  assert.ok(await h.sim.runUntil(() => h.formed(), 30_000), 'formed');
  const text = clusterConfig(h.names);
  assert.ok(await h.setConfig(text));
  const assigned = (): boolean => {
    const n = h.leader()?.node;
    return n !== undefined && groupViews(n.fsm.model, n.fsm.state.amf).every((g) => g.sis.every((s) => s.assignment !== 'unassigned'));
  };
  assert.ok(await h.sim.runUntil(() => assigned() && h.convergence().length === 0, 60_000), h.convergence().join('; '));
  await h.sim.runFor(1000);
  const leader = h.leader()!.node.name;
  const follower = h.names.find((n) => n !== leader)!;
  const f = backendOf(h, follower);

  const status = await f.status();
  assert.equal(status.node, follower);
  assert.equal(status.raft.role, 'follower');
  assert.equal(status.raft.leader, leader);
  assert.equal(status.configEpoch, 1);
  assert.equal(status.members.length, 3);

  const groups = await f.groups({ consistent: false });
  assert.ok(groups.ok);
  const web = groups.value.find((g) => g.name === 'web')!;
  assert.ok(web.sis.every((s) => s.assignment === 'fully-assigned'), JSON.stringify(web.sis));
  const nodes = await f.nodes({ consistent: false });
  assert.ok(nodes.ok && nodes.value.every((n) => n.up) && nodes.value.filter((n) => n.leader).length === 1);

  const consistent = await settle(h, f.config({ consistent: true }));
  assert.ok(consistent.ok && consistent.value.epoch === 1 && consistent.value.text === text, JSON.stringify(consistent));
  const l = backendOf(h, leader);
  const onLeader = await settle(h, l.config({ consistent: true }));
  assert.ok(onLeader.ok && onLeader.value.epoch === 1 && onLeader.value.text === text);

  // Events: everything so far, then what the change below does.
  const events: ApiEvent[] = [];
  const sub = f.subscribe(0, (e) => events.push(e));
  assert.equal(sub.kind, 'ok');
  const before = events.length;
  assert.ok(before > 0);
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: before }, (_, i) => i + 1));

  const next = clusterConfig(h.names, true);
  const dry = await f.putConfig(next, 1, true);
  assert.ok(dry.ok && dry.value.kind === 'dry-run');
  assert.deepEqual(dry.value.changes.map((c) => `${c.op} ${c.entity.label}`).filter((c) => c.startsWith('add')), ['add web-extra']);
  assert.ok(dry.value.plan.moves.some((m) => m.si === 'web-extra' && m.from.length === 0 && m.to.some((t) => t.ha === 'active')));

  const bad = await f.putConfig(next.replace('model = 2n', 'modle = 2n'), 1, false);
  assert.ok(bad.ok && bad.value.kind === 'invalid' && bad.value.errors[0]!.message.includes('did you mean "model"'));

  const committed = await settle(h, f.putConfig(next, 1, false));
  assert.ok(committed.ok && committed.value.kind === 'committed' && committed.value.epoch === 2, JSON.stringify(committed));
  // Read-your-writes: the follower that answered has applied the write already.
  assert.equal(h.app(follower)!.node.fsm.state.epoch, 2);
  await h.sim.runFor(2000);
  const stale = await settle(h, f.putConfig(text, 1, false));
  assert.ok(stale.ok && stale.value.kind === 'stale' && stale.value.epoch === 2);
  // The leader's refusal of a compare-and-set that lost the race reaches the follower as a code.
  const lost = await settle(h, h.app(follower)!.node.setConfig(text, 1));
  assert.ok(lost.ok && !lost.result.ok && lost.result.code === 'stale-epoch', JSON.stringify(lost));
  assert.ok(events.some((e) => e.entity === 'config' && e.field === 'epoch' && e.new === '2'));

  const lock = await settle(h, f.admin('su', 'web3', 'lock'));
  assert.ok(lock.ok, JSON.stringify(lock));
  const locked = await f.groups({ consistent: false });
  assert.ok(locked.ok && locked.value.flatMap((g) => g.units).find((u) => u.name === 'web3')?.admin === 'locked', 'the lock shows at once on the follower that answered');
  const again = await settle(h, f.admin('su', 'web3', 'lock'));
  assert.ok(!again.ok && again.error.code === 'invalid-state');
  const missing = await f.admin('su', 'nope', 'lock');
  assert.ok(!missing.ok && missing.error.code === 'not-found');

  const active = Object.entries(h.leader()!.node.fsm.state.amf.sus).find(([, s]) => s.assignments['web-ip']?.ha === 'active')![0];
  const report = await settle(h, f.reportError(active, 'c', 'component-restart', 'operator test'));
  assert.ok(report.ok, JSON.stringify(report));
  await h.sim.runFor(5000);
  assert.ok(events.some((e) => e.entity === `comp/${active}/c` && e.kind === 'admin' && e.field === 'error-report'));
  assert.ok(events.some((e) => e.entity === `comp/${active}/c` && e.kind === 'escalation'));
  // No gaps, no duplicates.
  assert.deepEqual(events.map((e) => e.seq), Array.from({ length: events.length }, (_, i) => i + 1));
  if (sub.kind === 'ok') sub.subscription.cancel();

  // The other follower stops hearing from the leader (one-way cut: it can still ask). A config
  // committed without it leaves its replica behind: a consistent read there is refused, not stale.
  const other = h.names.find((n) => n !== leader && n !== follower)!;
  const o = backendOf(h, other);
  h.sim.cut(leader, other);
  const third = await settle(h, f.putConfig(text, 2, false));
  assert.ok(third.ok && third.value.kind === 'committed' && third.value.epoch === 3, JSON.stringify(third));
  const local = await o.config({ consistent: false });
  assert.ok(local.ok && local.value.epoch === 2, 'the cut-off replica is behind (what a local read shows)');
  const refused = await settle(h, o.config({ consistent: true }));
  // Refused either by the timeout or, once it has given up on that leader, for want of one.
  assert.ok(!refused.ok && ['unavailable', 'no-leader'].includes(refused.error.code), JSON.stringify(refused));
  assert.match(refused.error.message, /(did not confirm the read within 2000 ms|no leader confirmed the read).*; retry in a few seconds/);
  // Healed: retried as a client would, every answer is a refusal or the latest config, and one
  // is soon the latest.
  h.sim.heal();
  let caughtUp = false;
  for (let i = 0; i < 20 && !caughtUp; i++) {
    const r = await settle(h, o.config({ consistent: true }));
    if (r.ok) {
      assert.deepEqual([r.value.epoch, r.value.text], [3, text], 'never a stale consistent read');
      caughtUp = true;
    } else await h.sim.runFor(500);
  }
  assert.ok(caughtUp, 'the healed follower serves consistent reads again');
  assert.deepEqual(h.violations, []);
});

test('a lagging follower forwards a compare-and-set carrying a newer epoch to the leader (no false stale); an older one is stale at once', async () => {
  const h = new ClusterHarness({ seed: 11, nodes: 3 });
  assert.ok(await h.sim.runUntil(() => h.formed(), 30_000), 'formed');
  const text = clusterConfig(h.names);
  assert.ok(await h.setConfig(text));
  await h.sim.runFor(2000);
  const leader = h.leader()!.node.name;
  const follower = h.names.find((n) => n !== leader)!;
  const l = backendOf(h, leader);
  const f = backendOf(h, follower);
  const next = clusterConfig(h.names, true);
  // Everything from the leader reaches this follower 150 ms late: it applies every commit late.
  h.sim.links.setLink(leader, follower, { latencyMs: 150 }, false);
  let epoch = 1;
  for (let i = 0; i < 6; i++) {
    // Written through the leader; the answer comes as soon as the leader applied it, before any
    // follower has heard the new commit index.
    const w = await settle(h, l.putConfig(i % 2 === 0 ? next : text, epoch, false));
    assert.ok(w.ok && w.value.kind === 'committed', JSON.stringify(w));
    epoch = w.value.epoch;
    assert.ok(h.app(follower)!.node.fsm.state.epoch < epoch, 'the follower is behind when the next write arrives');
    // The client carries the epoch of that reply to a follower that has not applied it yet.
    const dry = await settle(h, f.putConfig(i % 2 === 0 ? text : next, epoch, true));
    assert.ok(dry.ok && dry.value.kind === 'dry-run' && dry.value.epoch === epoch, `dry run ${i}: ${JSON.stringify(dry)}`);
    const fw = await settle(h, l.putConfig(i % 2 === 0 ? next : text, epoch, false));
    assert.ok(fw.ok && fw.value.kind === 'committed', JSON.stringify(fw));
    epoch = fw.value.epoch;
    assert.ok(h.app(follower)!.node.fsm.state.epoch < epoch);
    const r = await settle(h, f.putConfig(i % 2 === 0 ? text : next, epoch, false));
    assert.ok(r.ok && r.value.kind === 'committed' && r.value.epoch === epoch + 1, `write ${i} through the lagging follower: ${JSON.stringify(r)}`);
    epoch = r.value.epoch;
  }
  // An epoch below what the follower has applied is stale wherever it is checked: answered at once.
  const stale = await f.putConfig(text, epoch - 1, false);
  assert.ok(stale.ok && stale.value.kind === 'stale' && stale.value.epoch === epoch, JSON.stringify(stale));
  assert.deepEqual(h.violations, []);
});
