import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { LmdbDurableStore } from '../../src/runtime/node/lmdb-store.js';
import type { DurableOp } from '../../src/runtime/ports/storage.js';
import { MemoryDurableStore } from '../raft/memory-store.js';
import { tempDir } from './node-fixtures.js';

const arbKey = fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom('a', 'b', 'c'));
const arbOp: fc.Arbitrary<DurableOp> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), ns: fc.constantFrom('x', 'y'), key: arbKey, value: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ op: fc.constant('del' as const), ns: fc.constantFrom('x', 'y'), key: arbKey }),
  fc.record({ op: fc.constant('delRange' as const), ns: fc.constantFrom('x', 'y'), from: fc.integer({ min: 0, max: 12 }), to: fc.option(fc.constantFrom(5, 'b'), { nil: undefined }) }),
);
/** After a batch: read at once, or let batches reach lmdb's writer thread (and some commit), or flush. */
const arbPause = fc.constantFrom('none', 'tick', 'sleep', 'flush');

test('writes pending on lmdb\'s writer thread read the same as committed ones, whatever the interleaving', async () => {
  const dir = tempDir('lmdb-overlay');
  // Batches go to lmdb at the next timer turn, so every pause lands in a different phase.
  let s = new LmdbDurableStore({ path: join(dir, 'db'), applyDelayMs: 0 });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.array(arbOp, { minLength: 1, maxLength: 4 }), arbPause), { maxLength: 12 }), async (batches) => {
        const model = new MemoryDurableStore();
        s.write(['x', 'y'].map((ns) => ({ op: 'delRange' as const, ns, from: 0 })));
        for (const [ops, pause] of batches) {
          s.write(ops);
          model.write(ops);
          if (pause === 'tick') await new Promise((r) => setImmediate(r));
          if (pause === 'sleep') await new Promise((r) => setTimeout(r, 2));
          if (pause === 'flush') await s.flush();
          for (const ns of ['x', 'y']) {
            assert.deepEqual(s.range(ns), model.range(ns));
            assert.deepEqual(s.range(ns, { start: 3, end: 'b', reverse: true, limit: 3 }), model.range(ns, { start: 3, end: 'b', reverse: true, limit: 3 }));
            for (const k of [0, 5, 'a']) assert.deepEqual(s.get(ns, k), model.get(ns, k));
          }
        }
        await s.flush();
        for (const ns of ['x', 'y']) assert.deepEqual(s.range(ns), model.range(ns));
        // And the same after a reopen (lmdb plus whatever the log replays).
        await s.close();
        s = new LmdbDurableStore({ path: join(dir, 'db'), applyDelayMs: 0 });
        for (const ns of ['x', 'y']) assert.deepEqual(s.range(ns), model.range(ns));
      }),
      { numRuns: 60, seed: 4242 },
    );
  } finally {
    await s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
