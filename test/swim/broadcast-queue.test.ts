import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BroadcastQueue } from '../../src/swim/broadcast-queue.js';

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

test('each update is sent at most `limit` times, then leaves the queue', () => {
  const q = new BroadcastQueue();
  q.enqueue('a', bytes(10));
  for (let i = 0; i < 3; i++) assert.equal(q.take(100, 3).length, 1);
  assert.equal(q.take(100, 3).length, 0);
  assert.equal(q.size, 0);
});

test('a newer update about the same member replaces the queued one', () => {
  const q = new BroadcastQueue();
  q.enqueue('a', bytes(10, 1));
  q.take(100, 5);
  q.enqueue('a', bytes(12, 2));
  assert.equal(q.size, 1);
  assert.equal(q.transmits('a'), 0, 'the replacement starts fresh');
  const [m] = q.take(100, 5);
  assert.equal(m?.[0], 2);
});

test('fewest-sent first: fresh news goes out before repeats', () => {
  const q = new BroadcastQueue();
  q.enqueue('old', bytes(10, 1));
  q.take(100, 10);
  q.take(100, 10);
  q.enqueue('new', bytes(10, 2));
  const [first] = q.take(10, 10);
  assert.equal(first?.[0], 2);
});

test('property: take never exceeds the budget and counts each taken update once', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 300 })), { maxLength: 60 }),
      fc.array(fc.integer({ min: 0, max: 1400 }), { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 0, max: 4 }),
      (items, budgets, limit, perItem) => {
        const q = new BroadcastQueue();
        for (const [k, n] of items) q.enqueue(k, bytes(n));
        const sent = new Map<Uint8Array, number>();
        for (const b of budgets) {
          const got = q.take(b, limit, perItem);
          assert.ok(got.reduce((s, m) => s + m.length + perItem, 0) <= b);
          for (const m of got) sent.set(m, (sent.get(m) ?? 0) + 1);
        }
        for (const n of sent.values()) assert.ok(n <= limit);
      },
    ),
  );
});
