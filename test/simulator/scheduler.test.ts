import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Domain, Scheduler, SYSTEM } from '../../simulator/scheduler.js';
import { SimClock, SIM_EPOCH_MS } from '../../simulator/clock.js';

test('events run in (time, seq) order for any schedule', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 200 }), (delays) => {
      const s = new Scheduler();
      const ran: Array<[number, number]> = [];
      delays.forEach((d, i) => s.schedule(d, SYSTEM, () => ran.push([s.now, i])));
      while (s.step(Infinity));
      const expected = delays.map((d, i) => [d, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      assert.deepEqual(ran, expected);
    }),
  );
});

test('cancelled events and dead domains never run; step stops at until', () => {
  const s = new Scheduler();
  const d = new Domain('n1');
  const ran: string[] = [];
  const ev = s.schedule(5, SYSTEM, () => ran.push('cancelled'));
  ev.cancelled = true;
  s.schedule(6, d, () => ran.push('dead'));
  s.schedule(7, SYSTEM, () => ran.push('ok'));
  s.schedule(20, SYSTEM, () => ran.push('late'));
  d.alive = false;
  while (s.step(10));
  assert.deepEqual(ran, ['ok']);
  assert.equal(s.now, 7);
  assert.equal(s.peekTime(), 20);
});

test('a paused domain runs its events at the end of the pause, in their original order', () => {
  const s = new Scheduler();
  const d = new Domain('n1');
  const ran: Array<[string, number]> = [];
  s.schedule(1, d, () => ran.push(['a', s.now]));
  s.schedule(2, d, () => ran.push(['b', s.now]));
  s.schedule(3, SYSTEM, () => ran.push(['sys', s.now]));
  d.pausedUntil = 10;
  while (s.step(Infinity));
  assert.deepEqual(ran, [['sys', 3], ['a', 10], ['b', 10]]);
});

test('SimClock timers, intervals and cancel; wallTime is epoch + virtual time', () => {
  const s = new Scheduler();
  const d = new Domain('n1');
  const c = new SimClock(s, d);
  const ticks: number[] = [];
  const iv = c.setPeriodic(10, () => {
    ticks.push(c.now());
    if (ticks.length === 3) iv.cancel();
  });
  const t = c.setTimer(15, () => ticks.push(-1));
  t.cancel();
  t.cancel();
  while (s.step(100));
  assert.deepEqual(ticks, [10, 20, 30]);
  assert.equal(c.wallTime(), SIM_EPOCH_MS + 30);
  d.alive = false;
  c.setTimer(1, () => ticks.push(-2));
  assert.equal(s.pending, 0);
});
