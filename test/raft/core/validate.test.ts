import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { validateMessage, type Entry, type Message } from '../../../src/raft/core/index.js';

const packr = new Packr({ useRecords: false });
const id = fc.constantFrom('1', '2', 'node-3');
const u = fc.nat({ max: 1_000_000 });
const bytes = fc.uint8Array({ maxLength: 32 });
const ctx = fc.string({ maxLength: 16 });

const entries = (prevIndex: number, term: number): fc.Arbitrary<Entry[]> =>
  fc.array(fc.tuple(fc.constantFrom('normal', 'confChange', 'noop') as fc.Arbitrary<Entry['type']>, bytes), { maxLength: 4 }).map((xs) =>
    xs.map(([type, data], i) => ({ index: prevIndex + 1 + i, term: Math.max(1, term), type, data })),
  );

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ from: id, to: id, term: u, prevIndex: u }).chain((b) =>
    entries(b.prevIndex, b.term + 1).map((es) => ({ ...b, term: b.term + 1, type: 'appendEntries' as const, prevTerm: 0, entries: es, commit: b.prevIndex })),
  ),
  fc.record({ type: fc.constant('appendEntriesResponse' as const), from: id, to: id, term: u, index: u, reject: fc.boolean(), rejectHint: u, hintTerm: u }),
  fc.record({ type: fc.constant('heartbeat' as const), from: id, to: id, term: u, commit: u, context: ctx }),
  fc.record({ type: fc.constant('heartbeatResponse' as const), from: id, to: id, term: u, context: ctx }),
  fc.record({ type: fc.constantFrom('requestVote' as const, 'requestPreVote' as const), from: id, to: id, term: u, lastLogIndex: u, lastLogTerm: u, transfer: fc.boolean() }),
  fc.record({ type: fc.constantFrom('requestVoteResponse' as const, 'requestPreVoteResponse' as const), from: id, to: id, term: u, reject: fc.boolean() }),
  fc.record({ type: fc.constant('requestVoteResponse' as const), from: id, to: id, term: u, reject: fc.constant(true), commit: u, commitTerm: u }),
  fc.record({ from: id, to: id, term: u, data: bytes, offset: u, index: fc.integer({ min: 1, max: 1000 }) }).map((b) => ({
    type: 'installSnapshot' as const,
    from: b.from,
    to: b.to,
    term: b.term,
    meta: { index: b.index, term: 1, confState: { voters: ['1', '2'], learners: ['node-3'] } },
    offset: b.offset,
    data: b.data,
    totalSize: b.offset + b.data.length,
    done: true,
  })),
  fc.record({ type: fc.constant('installSnapshotResponse' as const), from: id, to: id, term: u, snapshotIndex: u, received: u, reject: fc.boolean() }),
  fc.record({ type: fc.constant('timeoutNow' as const), from: id, to: id, term: u }),
  fc.record({ type: fc.constant('readIndex' as const), from: id, to: id, term: u, context: ctx }),
  fc.record({ type: fc.constant('readIndexResponse' as const), from: id, to: id, term: u, context: ctx, index: u }),
);

/** msgpackr decodes bytes as Buffer; compare as plain arrays. */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

test('every valid message survives a msgpackr round trip and validates to the same value', () => {
  fc.assert(
    fc.property(message, (m) => {
      const r = validateMessage(packr.unpack(packr.pack(m)));
      assert.ok(r.ok, r.ok ? '' : r.error);
      assert.deepEqual(plain(r.value), plain(m));
    }),
    { numRuns: 500 },
  );
});

test('arbitrary values never throw and are refused unless they are messages', () => {
  fc.assert(
    fc.property(fc.anything({ withTypedArray: true }), (v) => {
      const r = validateMessage(v);
      assert.equal(r.ok, false);
    }),
    { numRuns: 1000 },
  );
});

test('a valid message with one field broken is refused with that field named', () => {
  fc.assert(
    fc.property(message, fc.nat(), fc.constantFrom(-1, 1.5, null, undefined, 2 ** 60, {}), (m, k, bad) => {
      const keys = Object.keys(m).filter((x) => x !== 'type');
      const key = keys[k % keys.length] as string;
      const broken = { ...m, [key]: bad } as Record<string, unknown>;
      if (key === 'commit' || key === 'commitTerm') {
        if (bad === undefined) return; // optional pair on vote responses
      }
      const r = validateMessage(broken);
      assert.equal(r.ok, false, `${key}=${String(bad)} accepted`);
      assert.match(r.ok ? '' : r.error, new RegExp(key === 'commitTerm' ? 'commit' : key.replace(/[A-Z].*/, '')));
    }),
    { numRuns: 500 },
  );
});

test('structural lies are refused: gaps, terms above the message term, oversize chunks, duplicate members', () => {
  const base = { type: 'appendEntries', from: '1', to: '2', term: 3, prevIndex: 4, prevTerm: 2, commit: 4 };
  const e = (index: number, term: number) => ({ index, term, type: 'normal', data: new Uint8Array(0) });
  assert.match((validateMessage({ ...base, entries: [e(5, 3), e(7, 3)] }) as { error: string }).error, /entries\[1\]\.index/);
  assert.match((validateMessage({ ...base, entries: [e(5, 4)] }) as { error: string }).error, /term/);
  assert.match((validateMessage({ ...base, entries: [e(5, 3), e(6, 2)] }) as { error: string }).error, /must not decrease/);
  assert.ok(validateMessage({ ...base, entries: [e(5, 2), e(6, 3)] }).ok);
  const snap = {
    type: 'installSnapshot', from: '1', to: '2', term: 3, offset: 0, data: new Uint8Array(10), totalSize: 5, done: true,
    meta: { index: 9, term: 2, confState: { voters: ['1'], learners: [] } },
  };
  assert.match((validateMessage(snap) as { error: string }).error, /totalSize/);
  assert.match((validateMessage({ ...snap, totalSize: 10, done: false }) as { error: string }).error, /done/);
  const dup = { ...snap, totalSize: 10, meta: { index: 9, term: 2, confState: { voters: ['1', '1'], learners: [] } } };
  assert.match((validateMessage(dup) as { error: string }).error, /duplicates/);
  const both = { ...snap, totalSize: 10, meta: { index: 9, term: 2, confState: { voters: ['1'], learners: ['1'] } } };
  assert.match((validateMessage(both) as { error: string }).error, /both voter and learner/);
  assert.match((validateMessage({ type: 'timeoutNow', from: '', to: '2', term: 1 }) as { error: string }).error, /from/);
  assert.match((validateMessage({ type: 'nope', from: '1', to: '2', term: 1 }) as { error: string }).error, /type/);
  assert.match((validateMessage({ type: 'heartbeat', from: '1', to: '2', term: 1, commit: 0, context: 'x'.repeat(5000) }) as { error: string }).error, /context/);
});
