import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LineChannel, type LineChannelState } from '../../src/runtime/line-channel.js';
import { NodeChannelNetwork } from '../../src/runtime/node/channel.js';
import { NodeClock } from '../../src/runtime/node/clock.js';
import type { Channel, ChannelListener } from '../../src/runtime/ports/channel.js';
import { ok } from '../../src/util/result.js';
import { quietPorts, realHarness, tempDir } from './node-fixtures.js';

/** Generous: a loaded 2-core machine can stall a process for seconds. */
const WAIT_MS = 30_000;

describe('LineChannel over a real unix socket', () => {
  it('connects, splits lines, loses the far end, backs off and reconnects when it is back', async () => {
    const dir = tempDir('line-channel');
    const path = join(dir, 'ch.sock');
    const net = new NodeChannelNetwork(quietPorts().logger);
    const lines: string[] = [];
    const states: LineChannelState[] = [];
    const listeners: ChannelListener[] = [];
    const peers: Channel[] = [];
    const lc = new LineChannel({
      open: () => net.connect(path, { timeoutMs: 1000 }),
      clock: new NodeClock(),
      maxLineBytes: 64,
      minBackoffMs: 10,
      maxBackoffMs: 40,
      maxQueuedBytes: 1024,
      onLine: (l) => lines.push(l),
      onState: (s) => states.push(s),
    });
    try {
      lc.start();
      // Nothing listens yet: refused, then retried with backoff.
      await realHarness.waitFor(() => states.filter((s) => s === 'backoff').length >= 3, WAIT_MS, 'three failed attempts');
      let far = await net.listen(path);
      assert.ok(far.ok);
      listeners.push(far.value);
      far.value.onConnection((c) => {
        peers.push(c);
        c.onData((chunk) => c.write(chunk)); // echo
      });
      await realHarness.waitFor(() => lc.state === 'connected', WAIT_MS, 'connected');
      assert.equal(lc.send('\n{"a":1}\n\n{"b"'), 'sent');
      assert.equal(lc.send(':2}\n'), 'sent');
      await realHarness.waitFor(() => lines.length === 2, WAIT_MS, 'two echoed lines');
      assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
      // The far end goes away (QEMU stopped): the session notices and retries.
      await far.value.close();
      for (const p of peers) p.close();
      await realHarness.waitFor(() => lc.state === 'backoff', WAIT_MS, 'back to backoff');
      assert.equal(lc.send('\n{"lost":1}\n'), 'not-connected');
      far = await net.listen(path);
      assert.ok(far.ok);
      listeners.push(far.value);
      far.value.onConnection((c) => {
        peers.push(c);
        c.write('\n{"again":1}\n');
      });
      lc.kick();
      await realHarness.waitFor(() => lines.includes('{"again":1}'), WAIT_MS, 'reconnected');
      assert.equal(lc.connects, 2);
    } finally {
      lc.stop();
      for (const p of peers) p.close();
      for (const l of listeners) await l.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('LineChannel queueing', () => {
  it('queues behind a backpressured channel up to its budget, and withdraws queued lines by tag', async () => {
    const written: string[] = [];
    let drain: () => void = () => undefined;
    let full = true;
    const channel: Channel = {
      write: (d) => {
        written.push(String(d));
        return !full;
      },
      onData: () => undefined,
      onDrain: (h) => void (drain = h),
      onClose: () => undefined,
      pause: () => undefined,
      resume: () => undefined,
      closed: false,
      close: () => undefined,
    };
    const lc = new LineChannel<{ seq: number }>({ open: async () => ok(channel), clock: new NodeClock(), maxLineBytes: 64, minBackoffMs: 10, maxBackoffMs: 10, maxQueuedBytes: 20, onLine: () => undefined });
    lc.start();
    await realHarness.waitFor(() => lc.state === 'connected', 1000, 'connected');
    assert.equal(lc.send('first\n'), 'sent'); // the channel says it is full after this one
    assert.equal(lc.send('q1-seq1\n', { seq: 1 }), 'queued');
    assert.equal(lc.send('q2-seq2\n', { seq: 2 }), 'queued');
    assert.equal(lc.send('too-much\n'), 'queue-full');
    assert.equal(lc.cancel((t) => t.seq !== 2), 1);
    full = false;
    drain();
    assert.deepEqual(written, ['first\n', 'q2-seq2\n']);
    lc.stop();
  });
});

describe('NodeChannelNetwork.openDevice', () => {
  it('reads a device until end-of-file (the host end is gone), and names a path it cannot open', async () => {
    const dir = tempDir('channel-dev');
    try {
      const net = new NodeChannelNetwork(quietPorts().logger);
      const file = join(dir, 'dev');
      writeFileSync(file, '\n{"from":"host"}\n');
      const r = await net.openDevice(file);
      assert.ok(r.ok);
      const got: string[] = [];
      let closed = '';
      r.value.onData((c) => got.push(Buffer.from(c).toString()));
      r.value.onClose((i) => (closed = i.reason));
      await realHarness.waitFor(() => closed !== '', WAIT_MS, 'end of file');
      assert.equal(got.join(''), '\n{"from":"host"}\n');
      assert.equal(closed, 'peer');
      const missing = await net.openDevice(join(dir, 'nope'));
      assert.ok(!missing.ok);
      assert.match(missing.error, /cannot open .*nope: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
