import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { Simulation } from '../../simulator/index.js';
import { FaultPlan, parseFaults } from '../../simulator/faults.js';

function spec(text: string) {
  const r = parseFaults(text);
  assert.ok(r.ok);
  return r.value;
}

test('a fault plan keeps a majority up, injects every kind, then heals everything', async () => {
  for (let seed = 1; seed <= 5; seed++) {
    const sim = new Simulation({ seed });
    const names = ['n1', 'n2', 'n3', 'n4', 'n5'];
    for (const n of names) sim.addNode(n, (p: NodePorts) => p);
    const plan = new FaultPlan(sim, spec('loss=0.2,partition,crash,pause,clog,skew'), { durationMs: 60_000, meanGapMs: 500 });
    plan.install();
    assert.equal(plan.healAt, 45_000);
    let maxDown = 0;
    let partitionedAfterHeal = false;
    const probe = (): void => {
      maxDown = Math.max(maxDown, names.filter((n) => !sim.isUp(n)).length);
      if (sim.now > plan.healAt && sim.links.partitioned) partitionedAfterHeal = true;
      if (sim.now < 60_000) sim.at(50, probe);
    };
    sim.at(0, probe);
    assert.equal(sim.links.defaultFaults.loss, 0.2);
    await sim.runFor(60_000);
    const c = plan.counts;
    assert.ok(c.partitions > 0 && c.crashes > 0 && c.pauses > 0 && c.clogs > 0 && c.skews > 0, JSON.stringify(c));
    assert.ok(maxDown <= 2, `at most a minority down, saw ${maxDown}`);
    assert.equal(partitionedAfterHeal, false);
    assert.deepEqual(names.filter((n) => !sim.isUp(n)), [], 'every node is up after the heal');
    assert.equal(sim.links.defaultFaults.loss, 0, 'link faults are off after the heal');
  }
});

test('free-running mode: waitFor returns true when the condition holds, false at its virtual deadline', async () => {
  const sim = new Simulation({ seed: 1 });
  sim.addNode('n1', (p: NodePorts) => p);
  sim.startFreeRun();
  try {
    let fired = false;
    sim.ports('n1').clock.setTimer(300, () => (fired = true));
    assert.equal(await sim.waitFor(() => fired, 1000), true);
    assert.equal(sim.now, 300);
    assert.equal(await sim.waitFor(() => false, 200), false);
    assert.equal(sim.now, 500);
    await sim.sleep(250);
    assert.equal(sim.now, 750);
  } finally {
    await sim.stopFreeRun();
  }
  await sim.runFor(10);
  assert.equal(sim.now, 760, 'after stopFreeRun, runFor drives time again');
});

test('swarm draws the network timing from the seed, within its ranges', () => {
  const timing = (seed: number) => {
    const sim = new Simulation({ seed });
    sim.addNode('n1', (p: NodePorts) => p);
    new FaultPlan(sim, spec('none'), { durationMs: 10_000, swarm: true }).install();
    return sim.links.defaultFaults;
  };
  const [a, b, c] = [timing(1), timing(1), timing(2)];
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  for (const t of [a, c]) {
    assert.ok(t.latencyMs >= 0.1 && t.latencyMs <= 5 && t.jitterMs <= 10 && t.reorderDelayMs >= 1 && t.reorderDelayMs <= 50);
  }
});
