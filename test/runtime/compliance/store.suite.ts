import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { DurableKey, DurableStore } from '../../../src/runtime/ports/storage.js';
import { fromUtf8, utf8, withFixture, type StoreFixture } from './harness.js';

function keys(store: DurableStore, ns: string, options?: Parameters<DurableStore['range']>[1]): DurableKey[] {
  return store.range(ns, options).map((e) => e.key);
}

function text(store: DurableStore, ns: string, key: DurableKey): string | undefined {
  const v = store.get(ns, key);
  return v === undefined ? undefined : fromUtf8(v);
}

/** The documented key order: numbers numerically, before strings; strings by their UTF-8 bytes. */
export function compareKeys(a: DurableKey, b: DurableKey): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const arbKey: fc.Arbitrary<DurableKey> = fc.oneof(
  fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.string({ minLength: 1, maxLength: 12, unit: 'binary' }),
  fc.constantFrom('a', 'ab', 'b', 'B', 'é', '~', '\u{1F600}', '\uFFFD'),
);

/** Contract of DurableStore and BlobStore (src/runtime/ports/storage.ts), for any implementation. */
export function storeSuite(name: string, makeFixture: () => Promise<StoreFixture>): void {
  const run = (fn: (f: StoreFixture) => Promise<void>) => () => withFixture(makeFixture, fn);

  describe(`DurableStore compliance: ${name}`, () => {
    test('put/get/del, namespaces are separate, writes are visible at once', run(async (f) => {
      const s = await f.open();
      s.write([
        { op: 'put', ns: 'a', key: 'k', value: utf8('1') },
        { op: 'put', ns: 'b', key: 'k', value: utf8('2') },
        { op: 'put', ns: 'a', key: 7, value: new Uint8Array(0) },
      ]);
      assert.equal(text(s, 'a', 'k'), '1');
      assert.equal(text(s, 'b', 'k'), '2');
      assert.equal(s.get('a', 7)?.length, 0, 'empty value is a value');
      assert.equal(s.get('c', 'k'), undefined);
      assert.equal(s.get('a', '7'), undefined, 'number 7 and string "7" are different keys');
      s.write([{ op: 'del', ns: 'a', key: 'k' }, { op: 'del', ns: 'a', key: 'missing' }]);
      assert.equal(s.get('a', 'k'), undefined);
      assert.equal(text(s, 'b', 'k'), '2');
      await s.close();
    }));

    test('keys are ordered: numbers numerically, before strings; range options', run(async (f) => {
      const s = await f.open();
      const ks: DurableKey[] = ['b', 10, 'a', 2, 1000, 'ab', 0, 1.5, 'B', -3];
      s.write(ks.map((k) => ({ op: 'put' as const, ns: 'o', key: k, value: utf8(String(k)) })));
      assert.deepEqual(keys(s, 'o'), [-3, 0, 1.5, 2, 10, 1000, 'B', 'a', 'ab', 'b']);
      assert.deepEqual(keys(s, 'o', { start: 2, end: 1000 }), [2, 10]);
      assert.deepEqual(keys(s, 'o', { start: 'a' }), ['a', 'ab', 'b']);
      assert.deepEqual(keys(s, 'o', { end: 0 }), [-3]);
      assert.deepEqual(keys(s, 'o', { limit: 3 }), [-3, 0, 1.5]);
      assert.deepEqual(keys(s, 'o', { reverse: true, limit: 2 }), ['b', 'ab']);
      assert.deepEqual(keys(s, 'o', { start: 2, end: 'ab', reverse: true }), ['a', 'B', 1000, 10, 2]);
      const e = s.range('o', { start: 'ab', limit: 1 });
      assert.equal(e.length, 1);
      assert.equal(fromUtf8(e[0]?.value ?? new Uint8Array()), 'ab');
      assert.deepEqual(keys(s, 'empty-ns'), []);
      await s.close();
    }));

    test('property: range and delRange agree with the documented order on arbitrary keys', run(async (f) => {
      const s = await f.open();
      // One namespace, emptied after each run (namespaces may be a bounded resource).
      const ns = 'prop';
      await fc.assert(
        fc.asyncProperty(fc.uniqueArray(arbKey, { minLength: 1, maxLength: 25, comparator: (a, b) => compareKeys(a, b) === 0 }), arbKey, arbKey, async (ks, x, y) => {
          s.write(ks.map((k) => ({ op: 'put' as const, ns, key: k, value: utf8(String(k)) })));
          const sorted = [...ks].sort(compareKeys);
          assert.deepEqual(keys(s, ns), sorted);
          const [lo, hi] = compareKeys(x, y) <= 0 ? [x, y] : [y, x];
          const inRange = sorted.filter((k) => compareKeys(k, lo) >= 0 && compareKeys(k, hi) < 0);
          assert.deepEqual(keys(s, ns, { start: lo, end: hi }), inRange);
          assert.deepEqual(keys(s, ns, { start: lo, end: hi, reverse: true }), [...inRange].reverse());
          s.write([{ op: 'delRange', ns, from: lo, to: hi }]);
          assert.deepEqual(keys(s, ns), sorted.filter((k) => !inRange.includes(k)));
          s.write([{ op: 'delRange', ns, from: sorted[0] ?? lo }]);
          assert.deepEqual(keys(s, ns), []);
        }),
        { numRuns: 40 },
      );
      await s.close();
    }));

    test('delRange deletes [from, to) and to the end when to is omitted', run(async (f) => {
      const s = await f.open();
      s.write(Array.from({ length: 20 }, (_, i) => ({ op: 'put' as const, ns: 'log', key: i + 1, value: utf8(`e${i + 1}`) })));
      s.write([{ op: 'put', ns: 'other', key: 5, value: utf8('keep') }]);
      s.write([{ op: 'delRange', ns: 'log', from: 1, to: 6 }]);
      assert.deepEqual(keys(s, 'log', { limit: 2 }), [6, 7]);
      s.write([{ op: 'delRange', ns: 'log', from: 15 }]);
      assert.deepEqual(keys(s, 'log'), [6, 7, 8, 9, 10, 11, 12, 13, 14]);
      assert.equal(text(s, 'other', 5), 'keep');
      await s.close();
    }));

    test('a batch applies in order: later ops in the batch see earlier ones', run(async (f) => {
      const s = await f.open();
      s.write([
        { op: 'put', ns: 'x', key: 1, value: utf8('old') },
        { op: 'put', ns: 'x', key: 2, value: utf8('old') },
        { op: 'delRange', ns: 'x', from: 0 },
        { op: 'put', ns: 'x', key: 2, value: utf8('new') },
      ]);
      assert.deepEqual(keys(s, 'x'), [2]);
      assert.equal(text(s, 'x', 2), 'new');
      await s.close();
    }));

    test('values read back are copies: mutating the input after write changes nothing', run(async (f) => {
      const s = await f.open();
      const v = utf8('abc');
      s.write([{ op: 'put', ns: 'c', key: 'k', value: v }]);
      v[0] = 0x7a;
      assert.equal(text(s, 'c', 'k'), 'abc');
      await s.close();
    }));

    test('flushed writes survive a crash and the store reopens', run(async (f) => {
      let s = await f.open();
      for (let i = 0; i < 50; i++) s.write([{ op: 'put', ns: 'd', key: i, value: utf8(`v${i}`) }]);
      s.write([{ op: 'delRange', ns: 'd', from: 40 }]);
      await s.flush();
      await f.crash();
      s = await f.open();
      assert.deepEqual(keys(s, 'd'), Array.from({ length: 40 }, (_, i) => i));
      assert.equal(text(s, 'd', 39), 'v39');
      // The reopened store keeps working.
      s.write([{ op: 'put', ns: 'd', key: 100, value: utf8('after') }]);
      await s.flush();
      await f.crash();
      s = await f.open();
      assert.equal(text(s, 'd', 100), 'after');
      await s.close();
    }));

    test('an unflushed batch after a crash is all there or not there at all', run(async (f) => {
      let s = await f.open();
      s.write([{ op: 'put', ns: 't', key: 0, value: utf8('base') }]);
      await s.flush();
      for (let b = 1; b <= 5; b++) {
        s.write(Array.from({ length: 10 }, (_, i) => ({ op: 'put' as const, ns: 't', key: b * 100 + i, value: utf8(`b${b}`) })));
      }
      await f.crash();
      s = await f.open();
      assert.equal(text(s, 't', 0), 'base');
      let lastPresent = 0;
      for (let b = 1; b <= 5; b++) {
        const n = keys(s, 't', { start: b * 100, end: b * 100 + 100 }).length;
        assert.ok(n === 0 || n === 10, `batch ${b} torn: ${n} of 10 keys survived`);
        if (n === 10) {
          assert.equal(lastPresent, b - 1, `batch ${b} survived but an earlier batch was lost`);
          lastPresent = b;
        }
      }
      await s.close();
    }));

    test('close then reopen keeps everything (a clean close is durable)', run(async (f) => {
      let s = await f.open();
      s.write([{ op: 'put', ns: 'n', key: 'z', value: utf8('zz') }]);
      await s.close();
      s = await f.open();
      assert.equal(text(s, 'n', 'z'), 'zz');
      await s.close();
    }));

    test('blobs: write, read, list, overwrite, remove; names are validated', run(async (f) => {
      if (f.openBlobs === undefined) return;
      const b = await f.openBlobs();
      assert.deepEqual(await b.list(), []);
      await b.write('snap-1-10.bin', utf8('one'));
      await b.write('snap-2-20.bin', utf8('two'));
      await b.write('snap-1-10.bin', utf8('uno'));
      assert.deepEqual((await b.list()).sort(), ['snap-1-10.bin', 'snap-2-20.bin']);
      assert.equal(fromUtf8((await b.read('snap-1-10.bin')) ?? new Uint8Array()), 'uno');
      assert.equal(await b.read('nope'), undefined);
      await b.remove('snap-2-20.bin');
      await b.remove('snap-2-20.bin');
      assert.deepEqual(await b.list(), ['snap-1-10.bin']);
      for (const bad of ['../x', 'a/b', '..', '.', '']) {
        await assert.rejects(b.write(bad, utf8('x')), `blob name ${JSON.stringify(bad)} must be refused`);
      }
      await f.crash();
      const again = await f.openBlobs();
      assert.equal(fromUtf8((await again.read('snap-1-10.bin')) ?? new Uint8Array()), 'uno');
    }));
  });
}
