import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Entry } from '../../src/raft/core/types.js';
import { DurableLogStore } from '../../src/raft/storage/log-store.js';
import { DurableStableStore } from '../../src/raft/storage/stable-store.js';
import { BlobSnapshotStore } from '../../src/raft/storage/snapshot-store.js';
import { RaftStorage } from '../../src/raft/storage/raft-storage.js';
import { MemoryBlobStore, MemoryDurableStore } from './memory-store.js';

const e = (index: number, term: number, text = `e${index}`): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(text) });
const conf = { voters: ['a', 'b', 'c'], learners: [] };

test('log store: append, overwrite a conflicting suffix, reopen from the store', async () => {
  const store = new MemoryDurableStore();
  const log = new DurableLogStore(store);
  assert.equal(log.firstIndex(), 1);
  assert.equal(log.lastIndex(), 0);
  log.storeLogs([e(1, 1), e(2, 1), e(3, 1)]);
  log.storeLogs([e(2, 2, 'new')]);
  assert.equal(log.lastIndex(), 2);
  assert.equal(new TextDecoder().decode(log.getLog(2)!.data), 'new');
  await log.sync();
  const again = new DurableLogStore(store);
  assert.deepEqual(again.getLogs(1, 3).map((x) => [x.index, x.term]), [[1, 1], [2, 2]]);
  assert.throws(() => log.storeLogs([e(5, 2)]), /gap/);
});

test('log store: only flushed writes survive a crash', async () => {
  const store = new MemoryDurableStore();
  const log = new DurableLogStore(store);
  log.storeLogs([e(1, 1), e(2, 1)]);
  await log.sync();
  log.storeLogs([e(3, 1)]);
  store.crash();
  assert.equal(new DurableLogStore(store).lastIndex(), 2);
});

test('log store: compaction keeps the term before the first index, across reopen', async () => {
  const store = new MemoryDurableStore();
  const log = new DurableLogStore(store);
  log.storeLogs([e(1, 1), e(2, 1), e(3, 2), e(4, 2)]);
  log.compactTo(2, 1);
  await log.sync();
  const again = new DurableLogStore(store);
  assert.equal(again.firstIndex(), 3);
  assert.equal(again.prevTerm(), 1);
  assert.equal(again.lastIndex(), 4);
  again.resetTo(10, 3);
  assert.equal(again.firstIndex(), 11);
  assert.equal(again.lastIndex(), 10);
  again.storeLogs([e(11, 3)]);
  await again.sync();
  assert.equal(new DurableLogStore(store).lastIndex(), 11);
});

test('stable store: values and uint64s, 0 when unset', async () => {
  const s = new DurableStableStore(new MemoryDurableStore());
  assert.equal(s.getUint64('term'), 0);
  s.setUint64('term', 42);
  s.set('vote', new Uint8Array([1, 2]));
  await s.sync();
  assert.equal(s.getUint64('term'), 42);
  assert.deepEqual([...s.get('vote')!], [1, 2]);
});

test('snapshot store: newest first, retains two, a corrupt blob falls back to an older one', async () => {
  const blobs = new MemoryBlobStore();
  const snaps = new BlobSnapshotStore(blobs, 2);
  for (const i of [5, 10, 15]) await snaps.save({ meta: { index: i, term: 1, confState: conf }, data: new Uint8Array([i]) });
  assert.deepEqual((await snaps.list()).map((m) => m.index), [15, 10]);
  const names = (await blobs.list()).sort();
  blobs.corrupt(names[names.length - 1]!);
  const latest = await snaps.latest();
  assert.equal(latest?.meta.index, 10);
  assert.deepEqual([...latest!.data], [10]);
});

test('raft storage: a snapshot saved before the log was trimmed wins on restart', async () => {
  const store = new MemoryDurableStore();
  const blobs = new MemoryBlobStore();
  const s = await RaftStorage.open(store, blobs);
  s.log.storeLogs([e(1, 1), e(2, 1)]);
  s.setHardState({ term: 1, vote: 'a', commit: 2 });
  await s.sync();
  // A snapshot from the leader at 7, durably saved, then a crash before the log was reset.
  await s.snapshots.save({ meta: { index: 7, term: 3, confState: conf }, data: new Uint8Array([7]) });
  store.crash();
  const r = await RaftStorage.open(store, blobs);
  assert.equal(r.firstIndex(), 8);
  assert.equal(r.lastIndex(), 7);
  assert.equal(r.term(7), 3);
  assert.equal(r.initialState().hardState.commit, 7);
  assert.equal(r.snapshot().meta.index, 7);
});

test('raft storage: trailing logs behind a snapshot stay readable with their terms', async () => {
  const s = await RaftStorage.open(new MemoryDurableStore(), new MemoryBlobStore());
  s.log.storeLogs([e(1, 1), e(2, 1), e(3, 2), e(4, 2), e(5, 2)]);
  const snap = { meta: { index: 4, term: 2, confState: conf }, data: new Uint8Array() };
  await s.snapshots.save(snap);
  s.setSnapshot(snap);
  s.compactTo(2);
  assert.equal(s.firstIndex(), 3);
  assert.equal(s.term(2), 1);
  assert.equal(s.term(4), 2);
  assert.deepEqual(s.entries(3, 6).map((x) => x.index), [3, 4, 5]);
  assert.throws(() => s.term(1));
});
