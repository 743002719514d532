import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkLinearizable, type Operation } from '../../simulator/raft/linearizability.js';
import { kvModel, type KvInput, type KvOutput } from '../../simulator/raft/kv.js';
import { HistoryRecorder } from '../../simulator/raft/history.js';

type Op = Operation<KvInput, KvOutput>;
const w = (client: number, key: string, value: string, call: number, ret: number): Op => ({ client, input: { f: 'write', key, value }, output: { ok: true }, call, ret });
const r = (client: number, key: string, value: string | null, call: number, ret: number): Op => ({ client, input: { f: 'read', key }, output: { value }, call, ret });
const cas = (client: number, key: string, from: string | null, to: string, ok: boolean, call: number, ret: number): Op => ({ client, input: { f: 'cas', key, from, to }, output: { ok }, call, ret });
const check = (ops: Op[]) => checkLinearizable(kvModel, ops).verdict;

test('sequential write then read of the written value is linearizable', () => {
  assert.equal(check([w(0, 'x', 'a', 0, 1), r(1, 'x', 'a', 2, 3)]), 'ok');
});

test('a read of a value overwritten before the read began is a stale read', () => {
  assert.equal(check([w(0, 'x', 'a', 0, 1), w(0, 'x', 'b', 2, 3), r(1, 'x', 'a', 4, 5)]), 'illegal');
});

test('a read concurrent with a write may see either value, but two later reads cannot go back', () => {
  assert.equal(check([w(0, 'x', 'a', 0, 1), w(0, 'x', 'b', 2, 10), r(1, 'x', 'a', 3, 4), r(2, 'x', 'b', 5, 6)]), 'ok');
  assert.equal(check([w(0, 'x', 'a', 0, 1), w(0, 'x', 'b', 2, 10), r(1, 'x', 'b', 3, 4), r(2, 'x', 'a', 5, 6)]), 'illegal');
});

test('reading a value never written is illegal; reading null before any write is fine', () => {
  assert.equal(check([r(0, 'x', null, 0, 1), w(0, 'x', 'a', 2, 3)]), 'ok');
  assert.equal(check([r(0, 'x', 'zzz', 0, 1)]), 'illegal');
});

test('an indeterminate write may or may not have happened, even much later', () => {
  const info: Op = { client: 0, input: { f: 'write', key: 'x', value: 'a' }, output: undefined, call: 0, ret: Infinity };
  assert.equal(check([info, r(1, 'x', null, 5, 6), r(1, 'x', 'a', 7, 8)]), 'ok');
  assert.equal(check([info, r(1, 'x', null, 5, 6)]), 'ok');
  // But once observed it cannot be un-observed.
  assert.equal(check([info, r(1, 'x', 'a', 5, 6), r(1, 'x', null, 7, 8)]), 'illegal');
});

test('compare-and-set: two concurrent CAS from the same value cannot both succeed', () => {
  assert.equal(check([w(0, 'x', 'a', 0, 1), cas(1, 'x', 'a', 'b', true, 2, 5), cas(2, 'x', 'a', 'c', true, 3, 6)]), 'illegal');
  assert.equal(check([w(0, 'x', 'a', 0, 1), cas(1, 'x', 'a', 'b', true, 2, 5), cas(2, 'x', 'a', 'c', false, 3, 6), r(0, 'x', 'b', 7, 8)]), 'ok');
});

test('P-compositionality: a violation on one key is found among many legal keys', () => {
  const ops: Op[] = [];
  for (let k = 0; k < 20; k++) ops.push(w(0, `k${k}`, 'v', k * 2, k * 2 + 1), r(1, `k${k}`, 'v', 100 + k, 101 + k));
  ops.push(r(2, 'k7', null, 200, 201));
  const res = checkLinearizable(kvModel, ops);
  assert.equal(res.verdict, 'illegal');
  assert.equal(res.partitions.filter((p) => p.verdict === 'illegal').length, 1);
});

test('a step budget too small gives unknown, never a wrong verdict', () => {
  const ops: Op[] = [];
  for (let i = 0; i < 12; i++) ops.push(w(i, 'x', `v${i}`, 0, 100));
  ops.push(r(99, 'x', 'v3', 200, 201));
  assert.equal(checkLinearizable(kvModel, ops, 10).verdict, 'unknown');
  assert.equal(checkLinearizable(kvModel, ops).verdict, 'ok');
});

test('the history recorder turns invoke/ok/fail/info into checker operations', () => {
  let t = 0;
  const h = new HistoryRecorder<KvInput, KvOutput>(() => t++);
  const a = h.invoke(0, { f: 'write', key: 'x', value: 'a' });
  const b = h.invoke(1, { f: 'write', key: 'x', value: 'b' });
  const c = h.invoke(2, { f: 'write', key: 'x', value: 'c' });
  h.ok(a, { ok: true });
  h.fail(b);
  h.info(c);
  h.invoke(3, { f: 'read', key: 'x' }); // never completes
  const ops = h.operations();
  assert.equal(ops.length, 3);
  assert.deepEqual(ops.map((o) => o.ret), [3, Infinity, Infinity]);
  assert.throws(() => h.ok(a, { ok: true }));
});

/** Run a random sequential program over a register and blur each op's interval around its true point. */
const arbHistory = fc
  .array(fc.record({ kind: fc.constantFrom('read', 'write', 'cas'), key: fc.constantFrom('a', 'b'), v: fc.integer({ min: 0, max: 3 }), before: fc.integer({ min: 0, max: 20 }), after: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 40 })
  .map((steps) => {
    const state = new Map<string, string | null>();
    return steps.map((s, i): Op => {
      const point = i * 10 + 5;
      const cur = state.get(s.key) ?? null;
      const call = point - s.before;
      const ret = point + s.after;
      if (s.kind === 'read') return r(i, s.key, cur, call, ret);
      if (s.kind === 'write') {
        state.set(s.key, `v${s.v}`);
        return w(i, s.key, `v${s.v}`, call, ret);
      }
      const from = s.v % 2 === 0 ? cur : `v${s.v}`;
      const okCas = from === cur;
      if (okCas) state.set(s.key, `w${i}`);
      return cas(i, s.key, from, `w${i}`, okCas, call, ret);
    });
  });

test('property: every history produced by a real sequential execution is linearizable', () => {
  fc.assert(fc.property(arbHistory, (ops) => checkLinearizable(kvModel, ops).verdict === 'ok'), { numRuns: 300 });
});

test('property: a read of a value never written anywhere is always caught', () => {
  fc.assert(
    fc.property(arbHistory, fc.nat(), (ops, pick) => {
      const reads = ops.map((o, i) => [o, i] as const).filter(([o]) => o.input.f === 'read');
      fc.pre(reads.length > 0);
      const [op, i] = reads[pick % reads.length]!;
      const bad = ops.slice();
      bad[i] = { ...op, output: { value: 'never-written' } };
      return checkLinearizable(kvModel, bad).verdict === 'illegal';
    }),
    { numRuns: 200 },
  );
});
