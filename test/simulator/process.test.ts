import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProcessExit, RunningProcess } from '../../src/runtime/ports/process.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { Simulation } from '../../simulator/index.js';

function host(seed = 1): Simulation {
  const sim = new Simulation({ seed });
  sim.addNode('h', (p: NodePorts) => p);
  return sim;
}

function spawn(sim: Simulation, argv: string[], extra: { timeoutMs?: number; killGraceMs?: number } = {}): RunningProcess {
  const r = sim.ports('h').processes.spawn({ argv, env: {}, ...extra });
  assert.ok(r.ok);
  return r.value;
}

/** The exit once it is known (a function, so each read sees the current value). */
function exitOf(p: RunningProcess): () => ProcessExit | undefined {
  let exit: ProcessExit | undefined;
  void p.exited.then((e) => (exit = e));
  return () => exit;
}

test('sim:exit exits with its code at the given virtual time', async () => {
  const sim = host();
  const p = spawn(sim, ['sim:exit', '7', '250']);
  const e = exitOf(p);
  await sim.runFor(249);
  assert.equal(e(), undefined);
  assert.ok(sim.ports('h').processes.isAlive(p.pid));
  await sim.runFor(1);
  assert.equal(e()?.code, 7);
  assert.equal(sim.ports('h').processes.isAlive(p.pid), false);
});

test('sim:crash dies by its signal; sim:print captures output', async () => {
  const sim = host();
  const c = exitOf(spawn(sim, ['sim:crash', 'SIGSEGV', '100']));
  const o = exitOf(spawn(sim, ['sim:print', 'hello', '2']));
  await sim.runFor(200);
  assert.deepEqual([c()?.code, c()?.signal], [null, 'SIGSEGV']);
  assert.deepEqual([o()?.code, o()?.stdout], [2, 'hello']);
});

test('SIGKILL cannot be trapped; SIGSTOP freezes a process until SIGCONT', async () => {
  const sim = host();
  const fired: number[] = [];
  sim.programs.register('test:stubborn', (ctx) => {
    ctx.trap('SIGTERM', () => fired.push(-1));
    ctx.after(100, () => fired.push(sim.now));
  });
  const p = spawn(sim, ['test:stubborn']);
  const e = exitOf(p);
  const runner = sim.ports('h').processes;
  runner.signal(p.pid, 'SIGSTOP');
  await sim.runFor(500);
  assert.deepEqual(fired, []);
  runner.signal(p.pid, 'SIGCONT');
  runner.signal(p.pid, 'SIGTERM');
  await sim.runFor(1);
  assert.deepEqual(fired, [-1, 500]);
  p.killGroup('SIGKILL');
  await sim.runFor(1);
  assert.equal(e()?.signal, 'SIGKILL');
});

test('a group kill reaches the grandchild even after the leader exited', async () => {
  const sim = host();
  let child = 0;
  sim.programs.register('test:orphaner', (ctx) => {
    child = ctx.spawnChild(() => undefined);
    ctx.after(10, () => ctx.exit(0));
  });
  const p = spawn(sim, ['test:orphaner']);
  await sim.runFor(50);
  const runner = sim.ports('h').processes;
  assert.equal(runner.isAlive(p.pid), false);
  assert.equal(runner.isAlive(child), true, 'the orphan keeps running');
  assert.equal(runner.signal(-p.pid, 'SIGTERM'), true);
  assert.equal(runner.isAlive(child), false);
});

test('a daemon crash with keepProcesses leaves components running for the next incarnation', async () => {
  const sim = host();
  const p = spawn(sim, ['sim:hang']);
  const e = exitOf(p);
  sim.crash('h', { keepProcesses: true });
  sim.start('h');
  const runner = sim.ports('h').processes;
  assert.equal(runner.isAlive(p.pid), true);
  assert.equal(runner.signal(p.pid, 'SIGTERM'), true);
  await sim.runFor(10);
  assert.equal(runner.isAlive(p.pid), false);
  assert.equal(e(), undefined, 'the old incarnation never hears of the exit');
});

test('a machine crash kills every process', async () => {
  const sim = host();
  const p = spawn(sim, ['sim:hang']);
  sim.crash('h');
  sim.start('h');
  assert.equal(sim.ports('h').processes.isAlive(p.pid), false);
  assert.deepEqual(sim.processTable('h').livePids(), []);
  const q = exitOf(spawn(sim, ['sim:exit', '0', '5']));
  await sim.runFor(10);
  assert.equal(q()?.code, 0, 'the rebooted machine runs processes again');
});
