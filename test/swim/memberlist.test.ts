import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { swimConfig, type SwimConfig } from '../../src/swim/config.js';
import type { SwimEvent } from '../../src/swim/core.js';
import { Memberlist, type MemberlistOptions, type UserMessage } from '../../src/swim/memberlist.js';
import { Simulation } from '../../simulator/index.js';

const key = (b: number) => new Uint8Array(32).fill(b);

function lanFast(o: Partial<SwimConfig> = {}): SwimConfig {
  const c = swimConfig('lan-fast', o);
  assert.ok(c.ok);
  return c.value;
}

/** Memberlist drivers on a simulation; options per node. */
class Harness {
  readonly sim = new Simulation({ seed: 11, traceKeep: 0 });
  readonly lists = new Map<string, Memberlist>();
  readonly events: Array<{ at: string; e: SwimEvent }> = [];
  readonly user: Array<{ at: string; m: UserMessage }> = [];
  readonly ports = new Map<string, NodePorts>();

  add(name: string, o: Partial<MemberlistOptions> = {}): void {
    this.sim.addNode(name, (ports: NodePorts) => {
      this.ports.set(name, ports);
      void Memberlist.start(ports, { name, bind: `${name}:7946`, config: lanFast(), ...o }).then((r) => {
        assert.ok(r.ok, r.ok ? '' : r.error);
        this.lists.set(name, r.value);
        r.value.onEvent((e) => this.events.push({ at: name, e }));
        r.value.onUserMessage((m) => this.user.push({ at: name, m }));
      });
      return {};
    });
  }

  ml(name: string): Memberlist {
    const m = this.lists.get(name);
    assert.ok(m, `no memberlist ${name}`);
    return m;
  }

  async join(name: string, seed: string): Promise<number> {
    let n = -1;
    void this.ml(name).join([`${seed}:7946`]).then((x) => (n = x));
    await this.sim.runUntil(() => n >= 0, 10_000);
    return n;
  }

  aliveEverywhere(names: string[]): boolean {
    return names.every((n) => this.lists.get(n)?.countByState().alive === names.length);
  }

  async metric(name: string, metric: string, labels: Record<string, string> = {}): Promise<number> {
    const m = this.ports.get(name)?.metrics.getSingleMetric(metric);
    const v = await m?.get();
    const hit = v?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return hit?.value ?? 0;
  }
}

test('an encrypted cluster forms, and user messages of 3050 bytes reach every other member', async () => {
  const h = new Harness();
  const names = ['a', 'b', 'c', 'd', 'e'];
  for (const n of names) h.add(n, { keys: [key(1)] });
  await h.sim.runFor(10);
  for (const n of names.slice(1)) assert.equal(await h.join(n, 'a'), 1);
  assert.ok(await h.sim.runUntil(() => h.aliveEverywhere(names), 10_000));
  const payload = Uint8Array.from({ length: 3050 }, (_, i) => i % 251);
  assert.deepEqual(h.ml('b').sendUserMessage(payload), { ok: true, value: 4 });
  await h.sim.runFor(100);
  assert.deepEqual(h.user.map((u) => u.at).sort(), ['a', 'c', 'd', 'e']);
  for (const u of h.user) {
    assert.equal(u.m.from, 'b');
    assert.deepEqual([...u.m.payload], [...payload]);
  }
});

test('key rotation on a live cluster: install → use → remove, with no suspicion on the way; old-key nodes are shut out', async () => {
  const h = new Harness();
  const names = ['a', 'b', 'c', 'd'];
  for (const n of names) h.add(n, { keys: [key(1)] });
  await h.sim.runFor(10);
  for (const n of names.slice(1)) await h.join(n, 'a');
  assert.ok(await h.sim.runUntil(() => h.aliveEverywhere(names), 10_000));
  const step = async (f: (m: Memberlist) => unknown) => {
    for (const n of names) {
      f(h.ml(n));
      await h.sim.runFor(700); // nodes switch one at a time, while traffic flows
    }
  };
  await step((m) => assert.ok(m.keyring.install(key(2)).ok));
  await step((m) => assert.ok(m.keyring.use(key(2)).ok));
  await step((m) => assert.ok(m.keyring.remove(key(1)).ok));
  await h.sim.runFor(5000);
  assert.deepEqual(h.events.filter((x) => x.e.kind !== 'join').map((x) => `${x.at} ${x.e.kind} ${x.e.member.name}`), []);
  assert.ok(h.aliveEverywhere(names));
  h.add('old', { keys: [key(1)] });
  await h.sim.runFor(10);
  assert.equal(await h.join('old', 'a'), 0, 'a node with the retired key cannot join');
  assert.ok((await h.metric('a', 'swim_packets_dropped_total', { reason: 'decrypt' })) > 0);
});

test('a different cluster label cannot join; graceful leave is seen as leave, not dead', async () => {
  const h = new Harness();
  h.add('a');
  h.add('b');
  h.add('stranger', { config: lanFast({ label: 'other-cluster' }) });
  await h.sim.runFor(10);
  assert.equal(await h.join('b', 'a'), 1);
  assert.equal(await h.join('stranger', 'a'), 0);
  assert.ok((await h.metric('a', 'swim_packets_dropped_total', { reason: 'label' })) > 0);
  await h.sim.runFor(2000);
  let left = false;
  void h.ml('b').leave(2000).then(() => (left = true));
  await h.sim.runUntil(() => left, 5000);
  await h.sim.runFor(500);
  assert.equal(h.ml('a').member('b')?.state, 'left');
  assert.ok(h.events.some((x) => x.at === 'a' && x.e.kind === 'leave' && x.e.member.name === 'b'));
  assert.ok(!h.events.some((x) => x.e.kind === 'dead'));
});

test('metadata updates reach the others; a crashed node that restarts comes back with a higher incarnation', async () => {
  const h = new Harness();
  const names = ['a', 'b', 'c'];
  for (const n of names) h.add(n);
  await h.sim.runFor(10);
  await h.join('b', 'a');
  await h.join('c', 'a');
  assert.ok(await h.sim.runUntil(() => h.aliveEverywhere(names), 10_000));
  assert.ok(h.ml('c').setMeta(Uint8Array.of(42)).ok);
  assert.ok(await h.sim.runUntil(() => h.ml('a').member('c')?.meta[0] === 42, 5000));
  assert.ok(h.events.some((x) => x.at === 'a' && x.e.kind === 'update' && x.e.member.name === 'c'));
  const before = h.ml('a').member('c')?.incarnation ?? 0;
  h.sim.crash('c');
  h.lists.delete('c');
  assert.ok(await h.sim.runUntil(() => h.ml('a').member('c')?.state === 'dead', 10_000));
  h.sim.start('c');
  await h.sim.runFor(10);
  await h.join('c', 'a');
  assert.ok(await h.sim.runUntil(() => h.aliveEverywhere(names), 10_000));
  assert.ok((h.ml('a').member('c')?.incarnation ?? 0) > before, 'the new process outbids its dead predecessor');
});

test('a seed replays exactly: same trace hash and same membership history twice', async () => {
  const run = async () => {
    const h = new Harness();
    const names = ['a', 'b', 'c', 'd'];
    for (const n of names) h.add(n, { keys: [key(3)] });
    await h.sim.runFor(10);
    for (const n of names.slice(1)) await h.join(n, 'a');
    h.sim.crash('d');
    await h.sim.runFor(5000);
    return { hash: h.sim.traceHash(), events: h.events.map((x) => `${x.at} ${x.e.kind} ${x.e.member.name} ${x.e.at}`) };
  };
  const one = await run();
  const two = await run();
  assert.ok(one.events.some((e) => e.includes('dead d')));
  assert.deepEqual(two, one);
});

test('a Memberlist started again on the same registry replaces its metrics', async () => {
  const h = new Harness();
  h.add('a');
  await h.sim.runFor(10);
  const ports = h.ports.get('a');
  assert.ok(ports);
  const again = await Memberlist.start(ports, { name: 'a2', bind: 'a:7947', config: lanFast() });
  assert.ok(again.ok, again.ok ? '' : again.error);
});

test('lan-fast on a healthy simulated LAN: 10 members for 5 virtual minutes, not one suspicion', async () => {
  const h = new Harness();
  const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
  for (const n of names) h.add(n);
  await h.sim.runFor(10);
  for (const n of names.slice(1)) await h.join(n, 'n0');
  assert.ok(await h.sim.runUntil(() => h.aliveEverywhere(names), 10_000));
  await h.sim.runFor(300_000);
  assert.deepEqual(h.events.filter((x) => x.e.kind !== 'join').map((x) => `${x.at} ${x.e.kind} ${x.e.member.name}`), []);
  assert.ok(names.every((n) => h.ml(n).stats().probes > 500));
});
