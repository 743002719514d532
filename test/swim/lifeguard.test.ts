import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Awareness, Suspicion, suspicionMinMs, suspicionTimeoutMs } from '../../src/swim/lifeguard.js';

test('suspicion min/max follow memberlist: mult · max(1, log10 N) · interval, max = maxMult · min', () => {
  // LAN: mult 4, interval 1 s, maxMult 6 (figures from memberlist util.go).
  for (const [n, min] of [[1, 4000], [5, 4000], [10, 4000], [100, 8000], [1000, 12000]] as const) {
    assert.equal(suspicionMinMs(4, n, 1000), min, `N=${n}`);
    assert.equal(6 * suspicionMinMs(4, n, 1000), 6 * min);
  }
});

test('dynamic timeout: max with no confirmation, shrinks logarithmically, min at k', () => {
  const min = 4000;
  const max = 24000;
  assert.equal(suspicionTimeoutMs(0, 2, min, max), max);
  // 24 − 20 · ln 2 / ln 3 s, floored to the millisecond.
  assert.equal(suspicionTimeoutMs(1, 2, min, max), Math.floor(24000 - 20000 * (Math.log(2) / Math.log(3))));
  assert.equal(suspicionTimeoutMs(2, 2, min, max), min);
  assert.equal(suspicionTimeoutMs(5, 2, min, max), min, 'never below min');
  assert.equal(suspicionTimeoutMs(0, 0, min, max), min, 'k < 1 means min at once');
});

test('property: the timeout is monotone non-increasing in confirmations and within [min, max]', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 10 }), (k, min, mult) => {
      const max = min * mult;
      let prev = Infinity;
      for (let c = 0; c <= k + 2; c++) {
        const t = suspicionTimeoutMs(c, k, min, max);
        assert.ok(t >= min && t <= max);
        assert.ok(t <= prev);
        prev = t;
      }
    }),
  );
});

test('Suspicion: the accuser is pre-counted, duplicates and confirmations beyond k do not count', () => {
  const s = new Suspicion('a', 3, 2, 1000, 6000, 10_000);
  assert.equal(s.deadline, 16_000);
  assert.equal(s.confirm('a'), false, 'the first accuser cannot confirm itself');
  assert.equal(s.confirm('b'), true);
  const afterOne = s.deadline;
  assert.ok(afterOne < 16_000 && afterOne > 11_000);
  assert.equal(s.confirm('b'), false, 'same accuser twice');
  assert.equal(s.confirm('c'), true);
  assert.equal(s.deadline, 11_000, 'k confirmations reach min');
  assert.equal(s.confirm('d'), false, 'beyond k');
  assert.equal(s.incarnation, 3);
});

test('Awareness saturates in 0..max-1 and scales timeouts by score + 1', () => {
  const a = new Awareness(8);
  assert.equal(a.scale(500), 500);
  a.apply(3);
  assert.equal(a.score, 3);
  assert.equal(a.scale(500), 2000);
  a.apply(100);
  assert.equal(a.score, 7);
  a.apply(-100);
  assert.equal(a.score, 0);
});
