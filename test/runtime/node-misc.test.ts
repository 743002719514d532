import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileBlobStore } from '../../src/runtime/node/blob-store.js';
import { NodeClock } from '../../src/runtime/node/clock.js';
import { MAX_UDP_PAYLOAD, NodeDatagramNetwork } from '../../src/runtime/node/datagram.js';
import { createNodeRandom } from '../../src/runtime/node/random.js';
import { quietPorts, realHarness, tempDir } from './node-fixtures.js';

test('clock: monotonic now, timers fire in order set, cancel works, intervals repeat until cancelled', async () => {
  const clock = new NodeClock();
  const t0 = clock.now();
  assert.ok(Math.abs(clock.wallTime() - Date.now()) < 1000);
  const fired: string[] = [];
  clock.setTimer(20, () => fired.push('a'));
  clock.setTimer(20, () => fired.push('b'));
  const cancelled = clock.setTimer(10, () => fired.push('cancelled'));
  cancelled.cancel();
  let ticks = 0;
  const iv = clock.setPeriodic(5, () => ticks++);
  await realHarness.waitFor(() => fired.length === 2 && ticks >= 3, 5000, 'timers and interval');
  iv.cancel();
  const after = ticks;
  await realHarness.sleep(30);
  assert.equal(ticks, after, 'interval stopped after cancel');
  assert.deepEqual(fired, ['a', 'b']);
  assert.ok(clock.now() - t0 >= 20, 'the 20 ms timers fired no earlier than 20 ms');
  cancelled.cancel();
  assert.throws(() => clock.setTimer(-1, () => undefined));
  assert.throws(() => clock.setPeriodic(0, () => undefined));
});

test('createNodeRandom: independent unpredictable seeds, forks deterministic per instance', () => {
  const a = createNodeRandom();
  const b = createNodeRandom();
  const seqA = Array.from({ length: 4 }, () => a.nextU32());
  const seqB = Array.from({ length: 4 }, () => b.nextU32());
  assert.notDeepEqual(seqA, seqB);
  const fa1 = a.fork('swim');
  const fa2 = a.fork('swim');
  assert.equal(fa1.nextU32(), fa2.nextU32());
});

test('datagram: maxDatagramSize is configurable lower, bad bind addresses reject, refusals are counted', async () => {
  const q = quietPorts();
  const net = new NodeDatagramNetwork({ ...q, maxDatagramSize: 1400 });
  const s = await net.bind('127.0.0.1:0');
  try {
    assert.equal(s.maxDatagramSize, 1400);
    const r = s.send(s.address, new Uint8Array(1401));
    assert.deepEqual(r.ok ? null : r.error, { kind: 'too-large', size: 1401, max: 1400 });
    assert.equal(s.send('256.1.1.1:5', new Uint8Array(1)).ok, false);
    assert.match(await q.metrics.metrics(), /amfd_udp_errors_total\{kind="too-large",node="test"\} 1/);
  } finally {
    await s.close();
  }
  await assert.rejects(net.bind('localhost:0'), /cannot bind/);
  assert.throws(() => new NodeDatagramNetwork({ ...q, maxDatagramSize: MAX_UDP_PAYLOAD + 1 }));
});

test('blobs: temp files of an interrupted write are invisible and cleaned up; writes leave no temp files', async () => {
  const dir = tempDir('blobs');
  try {
    const blobs = new FileBlobStore(dir);
    await blobs.write('snap', new Uint8Array([1, 2, 3]));
    assert.deepEqual(readdirSync(dir), ['snap']);
    writeFileSync(join(dir, '.snap.123.0.tmp'), 'half written');
    assert.deepEqual(await blobs.list(), ['snap']);
    const reopened = new FileBlobStore(dir);
    assert.ok(!existsSync(join(dir, '.snap.123.0.tmp')), 'opening removes leftover temp files');
    assert.deepEqual(await reopened.list(), ['snap']);
    await assert.rejects(blobs.write('x.tmp', new Uint8Array(1)), /bad blob name/);
    assert.deepEqual(await blobs.read('snap'), new Uint8Array([1, 2, 3]));
    // A write that fails (here the rename: a non-empty directory is in the way) leaves no temp file.
    mkdirSync(join(dir, 'blocked', 'inside'), { recursive: true });
    await assert.rejects(blobs.write('blocked', new Uint8Array([4])));
    assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'snap']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
