import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DurableKey } from '../../src/runtime/ports/storage.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { Simulation, compareKeys } from '../../simulator/index.js';

function node(seed: number): Simulation {
  const sim = new Simulation({ seed });
  sim.addNode('n1', (p: NodePorts) => p);
  return sim;
}

const one = new Uint8Array([1]);

test('crash keeps flushed writes, loses unflushed ones that no flush covered', async () => {
  const sim = node(1);
  let s = sim.ports('n1').store;
  s.write([{ op: 'put', ns: 'x', key: 1, value: one }]);
  const flushed = s.flush();
  await sim.runFor(100);
  await flushed;
  s.write([{ op: 'put', ns: 'x', key: 2, value: one }]);
  s.write([{ op: 'put', ns: 'x', key: 3, value: one }]);
  assert.deepEqual(s.range('x').map((e) => e.key), [1, 2, 3], 'writes are visible at once');
  assert.equal(sim.disk('n1').unflushedBatches, 2);
  sim.restart('n1');
  s = sim.ports('n1').store;
  const keys = s.range('x').map((e) => e.key);
  assert.equal(keys[0], 1);
  assert.ok([1, 2, 3].slice(0, keys.length).every((k, i) => keys[i] === k), `a prefix of the batches: ${keys}`);
});

test('a flush in progress at the crash does not count', async () => {
  const sim = new Simulation({ seed: 2, disk: { syncMs: 50, syncJitterMs: 0 } });
  sim.addNode('n1', (p: NodePorts) => p);
  const s = sim.ports('n1').store;
  let resolved = false;
  for (let i = 0; i < 20; i++) s.write([{ op: 'put', ns: 'x', key: i, value: one }]);
  void s.flush().then(() => (resolved = true));
  await sim.runFor(10);
  sim.crash('n1');
  await sim.runFor(100);
  assert.equal(resolved, false, 'the crashed incarnation never hears back');
  sim.start('n1');
  assert.ok(sim.ports('n1').store.range('x').length <= 20);
});

test('property: after a crash the store is the durable state plus a prefix of the unflushed batches', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 1000 }),
      fc.array(fc.oneof(fc.constant('flush' as const), fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 4 })), {
        maxLength: 30,
      }),
      async (seed, steps) => {
        const sim = node(seed);
        const s = sim.ports('n1').store;
        const batches: number[][] = [];
        let durableBatches = 0;
        for (const step of steps) {
          if (step === 'flush') {
            const upTo = batches.length;
            await Promise.all([s.flush().then(() => (durableBatches = Math.max(durableBatches, upTo))), sim.runFor(50)]);
          } else {
            batches.push(step);
            s.write(step.map((k) => ({ op: 'put', ns: 'p', key: k, value: new Uint8Array([batches.length]) })));
          }
        }
        sim.restart('n1');
        const after = new Map(sim.ports('n1').store.range('p').map((e) => [e.key, e.value[0]]));
        // Some k >= durableBatches such that applying batches[0..k) gives exactly `after`.
        const matches = (k: number): boolean => {
          const m = new Map<DurableKey, number>();
          batches.slice(0, k).forEach((b, i) => b.forEach((key) => m.set(key, i + 1)));
          return m.size === after.size && [...m].every(([key, v]) => after.get(key) === v);
        };
        const ks = Array.from({ length: batches.length - durableBatches + 1 }, (_, i) => durableBatches + i);
        assert.ok(ks.some(matches), `state after crash is no durable prefix (durable=${durableBatches}, batches=${batches.length})`);
      },
    ),
    { numRuns: 60 },
  );
});

test('a blob write interrupted by a crash leaves the old blob; a completed one survives', async () => {
  const sim = new Simulation({ seed: 3, disk: { syncMs: 20, syncJitterMs: 0 } });
  sim.addNode('n1', (p: NodePorts) => p);
  const b = sim.ports('n1').blobs;
  const w1 = b.write('snap', new Uint8Array([1]));
  await sim.runFor(30);
  await w1;
  void b.write('snap', new Uint8Array([2]));
  await sim.runFor(10);
  assert.deepEqual(await b.read('snap'), new Uint8Array([1]), 'not visible before it completes');
  sim.restart('n1');
  await sim.runFor(100);
  assert.deepEqual(await sim.ports('n1').blobs.read('snap'), new Uint8Array([1]));
});

test('key order: numbers numerically before strings, strings by code point (UTF-8 byte order)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => {
      const bytes = Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
      assert.equal(Math.sign(compareKeys(a, b)), bytes);
    }),
  );
  assert.ok(compareKeys(1e9, 'a') < 0 && compareKeys(-1, 2) < 0 && compareKeys('b', 3) > 0);
});
