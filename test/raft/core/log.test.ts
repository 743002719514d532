import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog } from '../../../src/raft/core/log.js';
import { Inflights, Progress } from '../../../src/raft/core/progress.js';
import { MemoryStorage, type Entry } from '../../../src/raft/core/index.js';

const ent = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });
const terms = (es: readonly Entry[]) => es.map((e) => `${e.index}/${e.term}`).join(' ');

function logWith(stored: [number, number][], unstable: [number, number][] = []): RaftLog {
  const st = new MemoryStorage();
  st.append(stored.map(([i, t]) => ent(i, t)));
  const log = new RaftLog(st, 0);
  if (unstable.length > 0) log.append(unstable.map(([i, t]) => ent(i, t)));
  return log;
}

test('log: reads span storage and the unstable tail; truncation replaces a suffix', () => {
  const log = logWith([[1, 1], [2, 1], [3, 2]], [[4, 2], [5, 3]]);
  assert.equal(terms(log.entries(2, 6)), '2/1 3/2 4/2 5/3');
  assert.equal(log.lastIndex(), 5);
  assert.equal(log.term(0), 0);
  assert.equal(log.term(6), undefined);
  log.append([ent(5, 4), ent(6, 4)]); // conflict inside the unstable tail
  assert.equal(terms(log.entries(1, 7)), '1/1 2/1 3/2 4/2 5/4 6/4');
  log.append([ent(3, 5)]); // conflict reaching into storage: the unstable tail restarts there
  assert.equal(terms(log.entries(1, 4)), '1/1 2/1 3/5');
  assert.equal(log.unstable.offset, 3);
});

test('log: maybeAppend matches prev, skips entries already present, commits no further than the new entries', () => {
  const log = logWith([[1, 1], [2, 1], [3, 1]]);
  assert.equal(log.maybeAppend(3, 2, 3, [ent(4, 2)]), undefined, 'prev term mismatch');
  assert.equal(log.maybeAppend(2, 1, 9, [ent(3, 1), ent(4, 2)]), 4);
  assert.equal(log.committed, 4);
  assert.equal(log.unstable.entries.length, 1, 'entry 3 already present, only 4 appended');
  assert.throws(() => log.maybeAppend(1, 1, 4, [ent(2, 7)]), /committed/);
});

test('log: findConflictByTerm returns the last index at or before with a term not above', () => {
  const log = logWith([[1, 1], [2, 1], [3, 2], [4, 2], [5, 4], [6, 4]]);
  assert.deepEqual(log.findConflictByTerm(6, 3), { index: 4, term: 2 });
  assert.deepEqual(log.findConflictByTerm(6, 4), { index: 6, term: 4 });
  assert.deepEqual(log.findConflictByTerm(4, 1), { index: 2, term: 1 });
  assert.deepEqual(log.findConflictByTerm(6, 0), { index: 0, term: 0 });
});

test('log: only a current-term entry commits by counting', () => {
  const log = logWith([[1, 1], [2, 2], [3, 3]]);
  assert.equal(log.maybeCommit(2, 3), false);
  assert.equal(log.committed, 0);
  assert.equal(log.maybeCommit(3, 3), true);
  assert.equal(log.committed, 3);
});

test('log: a compacted storage answers the dummy term and refuses older reads', () => {
  const st = new MemoryStorage();
  st.append([ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2)]);
  st.createSnapshot(3, { voters: ['a'], learners: [] }, new Uint8Array(0));
  st.compact(2);
  const log = new RaftLog(st, 3);
  assert.equal(log.firstIndex(), 3);
  assert.equal(log.term(2), 1);
  assert.equal(log.term(1), undefined);
  assert.equal(log.committed, 3, 'a snapshot is committed');
});

test('inflights: a bounded window freed up to an acknowledged index', () => {
  const f = new Inflights(3);
  f.add(2);
  f.add(5);
  f.add(9);
  assert.ok(f.full());
  assert.throws(() => f.add(12), /overflow/);
  f.freeLE(5);
  assert.equal(f.count, 1);
  f.freeFirst();
  assert.equal(f.count, 0);
});

test('progress: probe, replicate and stale rejections', () => {
  const pr = new Progress('b', 10, false, 4);
  assert.equal(pr.isPaused(), false);
  pr.sentEntries(12, 2);
  assert.equal(pr.isPaused(), true, 'probe: one append in flight');
  assert.equal(pr.maybeDecrTo(8, 3), false, 'rejection of an append we no longer wait on');
  assert.equal(pr.maybeDecrTo(9, 3), true);
  assert.equal(pr.next, 4);
  assert.equal(pr.maybeUpdate(6), true);
  pr.becomeReplicate();
  assert.equal(pr.next, 7);
  for (let i = 0; i < 4; i++) pr.sentEntries(7 + i, 1);
  assert.equal(pr.isPaused(), true, 'replicate: window full');
  assert.equal(pr.maybeDecrTo(6, 0), false, 'stale: at or below match');
  assert.equal(pr.maybeDecrTo(8, 0), true);
  assert.equal(pr.next, 7, 'back to match + 1');
});
