import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { AgentReport } from '../../src/cluster/entries.js';
import type { CommandExecutor } from '../../src/cluster/executor.js';
import { ClusterFsm } from '../../src/cluster/fsm.js';
import { NodeRuntime } from '../../src/cluster/node-runtime.js';
import { CLUSTER_DEFAULTS } from '../../src/cluster/options.js';
import { decodeWire, type RenewMsg } from '../../src/cluster/wire.js';
import type { Clock, TimerHandle } from '../../src/runtime/ports/clock.js';
import { createLogger, createMetricsRegistry } from '../../src/runtime/observability.js';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';

/** A manual clock whose timers fire EARLY (as a real one may, by a few ms). */
class EarlyClock implements Clock {
  t = 0;
  private timers: Array<{ at: number; fn: () => void; dead: boolean }> = [];
  now(): number {
    return this.t;
  }
  wallTime(): number {
    return 1_700_000_000_000 + this.t;
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const x = { at: this.t + delayMs - Math.min(3, delayMs / 2), fn, dead: false };
    this.timers.push(x);
    return { cancel: () => void (x.dead = true) };
  }
  setPeriodic(periodMs: number, fn: () => void): TimerHandle {
    let h: TimerHandle;
    const tick = (): void => {
      fn();
      h = this.setTimer(periodMs, tick);
    };
    h = this.setTimer(periodMs, tick);
    return { cancel: () => h.cancel() };
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.dead && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.dead = true;
      this.t = Math.max(this.t, due.at);
      due.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

it('node runtime: the lease ends on time even when timers fire early; then the node stops everything and rejoins as a new incarnation', async () => {
  const clock = new EarlyClock();
  const fsm = new ClusterFsm();
  let resets = 0;
  const executor: CommandExecutor = {
    execute: () => undefined,
    onReport: (_l: (r: AgentReport) => void) => undefined,
    resetAll: () => {
      resets++;
      return Promise.resolve();
    },
    setModel: () => undefined,
  };
  const sent: RenewMsg[] = [];
  const rt = new NodeRuntime({
    nodeName: 'n1',
    clock,
    random: new Xoshiro128([1, 2, 3, 4]),
    logger: createLogger({ node: 'n1', level: 'silent' }),
    metrics: createMetricsRegistry('n1'),
    fsm,
    executor,
    settings: CLUSTER_DEFAULTS,
    leaderRpc: () => 'leader:1',
    send: (_to, data) => {
      const m = decodeWire(data);
      if (m.ok && m.value.t === 'renew') sent.push(m.value);
    },
  });
  rt.start();
  await new Promise((r) => setImmediate(r));
  assert.equal(resets, 1, 'a node resets before its first incarnation speaks');
  assert.equal(rt.phase, 'joining');
  const first = sent[sent.length - 1]!;
  const inc = rt.inc;
  rt.onGrant({ t: 'grant', inc, seq: first.seq, reportSeq: 0 });
  assert.equal(rt.phase, 'active');
  assert.equal(rt.leaseUntil, 0 + CLUSTER_DEFAULTS.leaseMs - CLUSTER_DEFAULTS.stopBudgetMs, 'counted from the send time, minus the stop budget');
  // No more grants: the lease must run out although every timer fires a little early.
  await clock.advance(CLUSTER_DEFAULTS.leaseMs);
  assert.notEqual(rt.phase, 'active');
  assert.equal(resets, 2, 'everything stopped at the lease end');
  assert.ok(clock.now() >= rt.leaseUntil);
  await clock.advance(10);
  assert.equal(rt.phase, 'joining');
  assert.notEqual(rt.inc, inc, 'back as a new incarnation');
  // A grant for the old incarnation is ignored.
  rt.onGrant({ t: 'grant', inc, seq: first.seq, reportSeq: 0 });
  assert.equal(rt.phase, 'joining');
  rt.stop();
});
