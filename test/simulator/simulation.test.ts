import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { InvariantViolation, Simulation } from '../../simulator/index.js';
import { parseFaults, NO_FAULTS } from '../../simulator/faults.js';
import { runDemo } from '../../simulator/demo/run.js';

/** An app that counts its timer ticks and remembers what it was booted with. */
class Ticker {
  ticks = 0;
  readonly bootedAt: number;
  readonly stored: number;
  constructor(readonly ports: NodePorts) {
    this.bootedAt = ports.clock.now();
    this.stored = ports.store.range('boot').length;
    ports.store.write([{ op: 'put', ns: 'boot', key: this.stored, value: new Uint8Array(1) }]);
    void ports.store.flush();
    ports.clock.setPeriodic(100, () => this.ticks++);
  }
}

test('crash discards the app and its timers; restart calls the factory again over the same disk', async () => {
  const sim = new Simulation({ seed: 1 });
  let boots = 0;
  sim.addNode('n1', (p) => {
    boots++;
    return new Ticker(p);
  });
  await sim.runFor(1000);
  const first = sim.app<Ticker>('n1');
  assert.equal(first?.ticks, 10);
  sim.crash('n1');
  assert.equal(sim.app('n1'), undefined);
  assert.equal(sim.isUp('n1'), false);
  await sim.runFor(1000);
  assert.equal(first?.ticks, 10, 'a crashed node runs no timers');
  sim.restart('n1');
  const second = sim.app<Ticker>('n1');
  assert.equal(boots, 2);
  assert.notEqual(first, second);
  assert.equal(second?.stored, 1, 'the flushed write of the first incarnation survived');
  assert.equal(second?.bootedAt, 2000);
  await sim.runFor(250);
  assert.equal(second?.ticks, 2);
});

test('pause delays timers and deliveries by the pause, then they run late', async () => {
  const sim = new Simulation({ seed: 2, link: { latencyMs: 1, jitterMs: 0 } });
  sim.addNode('a', (p: NodePorts) => p);
  sim.addNode('b', (p: NodePorts) => p);
  const fired: number[] = [];
  const got: number[] = [];
  sim.ports('b').clock.setTimer(50, () => fired.push(sim.now));
  const sb = await sim.ports('b').datagram.bind('b:1');
  sb.onMessage(() => got.push(sim.now));
  const sa = await sim.ports('a').datagram.bind('a:1');
  sim.pause('b', 300);
  sa.send('b:1', new Uint8Array(1));
  await sim.runFor(299);
  assert.deepEqual([fired, got], [[], []]);
  await sim.runFor(10);
  assert.deepEqual([fired, got], [[300], [300]]);
});

test('runUntil stops when the condition holds, or at the deadline', async () => {
  const sim = new Simulation({ seed: 3 });
  sim.addNode('n1', (p) => new Ticker(p));
  const app = sim.app<Ticker>('n1');
  assert.equal(await sim.runUntil(() => (app?.ticks ?? 0) >= 3, 10_000), true);
  assert.equal(sim.now, 300);
  assert.equal(await sim.runUntil(() => false, 1000), false);
  assert.equal(sim.now, 1300);
});

test('promise continuations run at the virtual time of the event that resolved them', async () => {
  const sim = new Simulation({ seed: 4, disk: { syncMs: 5, syncJitterMs: 0 } });
  const seen: number[] = [];
  sim.addNode('n1', (p: NodePorts) => {
    void (async () => {
      p.store.write([{ op: 'put', ns: 'x', key: 1, value: new Uint8Array(1) }]);
      await p.store.flush();
      seen.push(p.clock.now());
      await p.store.flush();
      seen.push(p.clock.now());
    })();
    return p;
  });
  await sim.runFor(100);
  assert.deepEqual(seen, [5, 10]);
});

const chaos = parseFaults('loss=0.1,dup=0.02,reorder,partition,crash,pause,clog');

test('the same seed replays the same trace; another seed gives another', async () => {
  assert.ok(chaos.ok);
  const run = (seed: number) => runDemo({ seed, nodes: 5, durationMs: 30_000, faults: chaos.value });
  const [a, b, c] = [await run(21), await run(21), await run(22)];
  assert.deepEqual(a.problems, []);
  assert.deepEqual(c.problems, []);
  assert.equal(a.hash, b.hash);
  assert.equal(a.events, b.events);
  assert.notEqual(a.hash, c.hash);
});

test('the demo converges under every fault kind for a range of seeds', async () => {
  assert.ok(chaos.ok);
  for (let seed = 100; seed < 110; seed++) {
    const r = await runDemo({ seed, nodes: 5, durationMs: 40_000, faults: chaos.value });
    assert.deepEqual(r.problems, [], `seed ${seed}`);
    assert.ok(r.acknowledged > 0);
  }
});

test('the demo checker catches lost acknowledged writes (a deliberate durability bug)', async () => {
  // n1 is cut off, creates items, then crashes: only what it flushed may survive.
  const scenario = (sim: Simulation): void => {
    sim.at(5000, () => sim.isolate('n1'));
    sim.at(12_000, () => sim.crash('n1'));
    sim.at(13_000, () => {
      sim.start('n1');
      sim.heal();
    });
  };
  const opts = { seed: 5, nodes: 3, durationMs: 40_000, faults: NO_FAULTS, scenario };
  const good = await runDemo(opts);
  assert.deepEqual(good.problems, []);
  const buggy = await runDemo({ ...opts, ackWithoutFlush: true });
  assert.ok(buggy.problems.some((p) => p.startsWith('acknowledged items lost')), buggy.problems.join('; '));
});

test('amf-sim run prints the same trace twice for seed 7 and another for seed 8', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const run = (seed: number): string[] => {
    const args = ['bin/amf-sim.js', 'run', '--seed', String(seed), '--nodes', '5', '--duration', '60s', '--faults', 'loss=0.1,partition'];
    const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n');
  };
  const [a, b, c] = [run(7), run(7), run(8)];
  const last = (lines: string[]): string => lines[lines.length - 1] ?? '';
  assert.match(last(a), /^trace=[0-9a-f]{64}$/);
  assert.match(a[0] ?? '', /seed=7/);
  assert.equal(last(a), last(b));
  assert.notEqual(last(a), last(c));
});

test('a failing amf-sim run prints its replay command and exits 1; the replay fails the same way', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const sim = (args: string[]) => spawnSync(process.execPath, ['bin/amf-sim.js', ...args], { cwd: root, encoding: 'utf8' });
  const bad = sim(['run', '--faults', 'lightning']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /unknown fault 'lightning'/);

  const failing = sim(['run', '--seed', '1..5', '--faults', 'partition,crash', '--bug', 'ack-without-flush']);
  assert.equal(failing.status, 1);
  const lines = failing.stdout.trim().split('\n');
  const replay = lines.find((l) => l.startsWith('replay: '))?.slice('replay: '.length) ?? '';
  assert.equal(replay, 'node bin/amf-sim.js run --seed 3 --nodes 5 --duration 60s --faults partition,crash --bug ack-without-flush');
  assert.match(lines[lines.length - 1] ?? '', /^trace=/);
  const again = sim(replay.split(' ').slice(2));
  assert.equal(again.status, 1);
  assert.equal(again.stdout.trim().split('\n').pop(), lines[lines.length - 1]);
});

test('clock skew: a fast node sees more time pass and its timers fire early in virtual time', async () => {
  const sim = new Simulation({ seed: 6 });
  sim.addNode('fast', (p: NodePorts) => p);
  const clock = sim.ports('fast').clock;
  await sim.runFor(100);
  sim.setClock('fast', { rate: 2 });
  const fired: number[] = [];
  clock.setTimer(100, () => fired.push(sim.now));
  await sim.runFor(100);
  assert.deepEqual(fired, [150], '100 local ms = 50 virtual ms at rate 2');
  assert.equal(clock.now(), 100 + 2 * 100, 'local time is continuous across the rate change');
  const wall = clock.wallTime();
  sim.setClock('fast', { stepWallMs: -60_000 });
  assert.equal(clock.wallTime(), wall - 60_000, 'the wall clock steps back');
  assert.equal(clock.now(), 300, 'the monotonic clock does not');
  sim.restart('fast');
  assert.equal(sim.ports('fast').clock.now(), 300, "the machine's clock survives a daemon restart");
});

test('the demo converges with skewed clocks and wall-clock steps', async () => {
  const f = parseFaults('skew,crash,loss=0.05');
  assert.ok(f.ok);
  const r = await runDemo({ seed: 31, nodes: 5, durationMs: 40_000, faults: f.value });
  assert.deepEqual(r.problems, []);
  assert.ok(r.faults.skews > 0);
});

test('an invariant is checked after every event; a violation stops the run with its name, time and seed', async () => {
  const sim = new Simulation({ seed: 9 });
  sim.addNode('n1', (p) => new Ticker(p));
  let checks = 0;
  sim.addInvariant('fewer than 5 ticks', () => {
    checks++;
    const ticks = sim.app<Ticker>('n1')?.ticks ?? 0;
    return ticks < 5 ? undefined : `n1 ticked ${ticks} times`;
  });
  await sim.runFor(450);
  assert.ok(checks >= 4);
  await assert.rejects(sim.runFor(1000), (e: unknown) => {
    assert.ok(e instanceof InvariantViolation);
    assert.equal(e.invariant, 'fewer than 5 ticks');
    assert.equal(e.time, 500);
    assert.equal(e.seed, 9);
    assert.match(e.message, /violated at 500\.000 ms \(seed 9\): n1 ticked 5 times/);
    return true;
  });
});
