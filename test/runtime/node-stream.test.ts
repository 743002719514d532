import assert from 'node:assert/strict';
import { statSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { NodeStreamNetwork } from '../../src/runtime/node/stream.js';
import type { StreamConnection } from '../../src/runtime/ports/stream.js';
import { quietPorts, realHarness, tempDir } from './node-fixtures.js';

// Node-only behaviour: Unix stream sockets (the agent's component API), address parsing.

test('unix sockets: mode 0600, frames both ways, stale socket file replaced, socket removed on close', async () => {
  const dir = tempDir('unix');
  const net = new NodeStreamNetwork(quietPorts());
  const address = `unix:${join(dir, 'api.sock')}`;
  try {
    const first = await net.listen(address);
    // Leave a stale socket file behind, as a crashed daemon would: close the handle, recreate the file.
    await first.close();
    assert.ok(!existsSync(join(dir, 'api.sock')), 'closing a listener removes its socket file');
    const stale = await net.listen(address);
    // Simulate the crash: the file stays (we never close `stale` through the port).
    const listener = await net.listen(address);
    assert.equal(listener.address, address);
    assert.equal(statSync(join(dir, 'api.sock')).mode & 0o777, 0o600);
    const accepted: StreamConnection[] = [];
    listener.onConnection((c) => accepted.push(c));
    const r = await net.connect(address, { timeoutMs: 2000 });
    assert.ok(r.ok);
    await realHarness.waitFor(() => accepted.length === 1, 2000, 'accepted');
    const got: string[] = [];
    accepted[0]?.onFrame((f) => got.push(Buffer.from(f).toString()));
    r.value.send(Buffer.from('hello'));
    await realHarness.waitFor(() => got.length === 1, 2000, 'frame over unix socket');
    assert.deepEqual(got, ['hello']);
    r.value.close();
    accepted[0]?.close();
    await listener.close();
    await stale.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unix listen refuses to replace a file that is not a socket', async () => {
  const dir = tempDir('unix');
  try {
    const path = join(dir, 'not-a-socket');
    writeFileSync(path, 'data');
    const net = new NodeStreamNetwork(quietPorts());
    await assert.rejects(net.listen(`unix:${path}`), /not a socket/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('connect: missing unix socket is refused, an unparsable address is unreachable', async () => {
  const net = new NodeStreamNetwork(quietPorts());
  const r1 = await net.connect('unix:/nonexistent/amfd.sock', { timeoutMs: 1000 });
  assert.ok(!r1.ok);
  assert.equal(r1.error.kind, 'refused');
  for (const bad of ['localhost:80', '1.2.3.4', '1.2.3.4:99999', 'unix:relative']) {
    const r = await net.connect(bad, { timeoutMs: 1000 });
    assert.ok(!r.ok);
    assert.equal(r.error.kind, 'unreachable', bad);
  }
  await assert.rejects(net.listen('nonsense'), /cannot listen/);
});

test('oversized frames are counted on the node registry', async () => {
  const q = quietPorts();
  const server = new NodeStreamNetwork({ ...q, maxFrameSize: 100 });
  const client = new NodeStreamNetwork(quietPorts());
  const listener = await server.listen('127.0.0.1:0');
  const closed: string[] = [];
  listener.onConnection((c) => c.onClose((i) => closed.push(i.reason)));
  const r = await client.connect(listener.address, { timeoutMs: 2000 });
  assert.ok(r.ok);
  r.value.send(new Uint8Array(101));
  await realHarness.waitFor(() => closed.length === 1, 2000, 'server closed the connection');
  assert.deepEqual(closed, ['frame-too-large']);
  assert.match(await q.metrics.metrics(), /amfd_stream_events_total\{kind="frame-too-large",peer="127.0.0.1",node="test"\} 1/);
  r.value.close();
  await listener.close();
});

test('a listener may accept smaller frames than its network (never larger)', async () => {
  const net = new NodeStreamNetwork({ ...quietPorts(), maxFrameSize: 1000 });
  const small = await net.listen('127.0.0.1:0', { maxFrameSize: 100 });
  const big = await net.listen('127.0.0.1:0', { maxFrameSize: 5000 });
  const seen: string[] = [];
  const record = (name: string) => (c: StreamConnection): void => {
    seen.push(`${name} max=${c.maxFrameSize}`);
    c.onFrame((f) => seen.push(`${name} frame ${f.length}`));
    c.onClose((i) => seen.push(`${name} closed ${i.reason}`));
  };
  small.onConnection(record('small'));
  big.onConnection(record('big'));
  const a = await net.connect(small.address, { timeoutMs: 2000 });
  const b = await net.connect(big.address, { timeoutMs: 2000 });
  assert.ok(a.ok && b.ok);
  a.value.send(new Uint8Array(100));
  a.value.send(new Uint8Array(101));
  b.value.send(new Uint8Array(1001));
  await realHarness.waitFor(() => seen.filter((s) => s.includes('closed')).length === 2, 2000, 'both closed');
  assert.deepEqual(seen.filter((s) => s.startsWith('small')), ['small max=100', 'small frame 100', 'small closed frame-too-large']);
  assert.deepEqual(seen.filter((s) => s.startsWith('big')), ['big max=1000', 'big closed frame-too-large']);
  a.value.close();
  b.value.close();
  await small.close();
  await big.close();
});

test('incomplete frames of all connections together stay within the receive budget; a frame that does not fit closes its connection', async () => {
  const KiB = 1024;
  const q = quietPorts();
  const net = new NodeStreamNetwork({ ...q, maxFrameSize: 256 * KiB, receiveBudget: 512 * KiB });
  const listener = await net.listen('127.0.0.1:0');
  const accepted: StreamConnection[] = [];
  listener.onConnection((c) => accepted.push(c));
  const port = Number(listener.address.split(':')[1]);
  const sockets: Socket[] = [];
  /** A raw client that announces a 256 KiB frame and sends 100 KiB of it. */
  const partial = async (): Promise<{ closed: () => boolean }> => {
    let closed = false;
    const s = connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    s.on('close', () => (closed = true));
    sockets.push(s);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(256 * KiB, 0);
    s.write(Buffer.concat([header, Buffer.alloc(100 * KiB)]));
    return { closed: () => closed };
  };
  try {
    const a = await partial();
    const b = await partial();
    await realHarness.waitFor(() => net.receiveBuffered === 512 * KiB, 2000, 'two reservations');
    const c = await partial();
    await realHarness.waitFor(c.closed, 2000, 'the third frame does not fit: closed');
    assert.ok(!a.closed() && !b.closed());
    sockets[0]?.destroy();
    await realHarness.waitFor(() => net.receiveBuffered === 256 * KiB, 2000, 'a closed connection gives its reservation back');
    const d = await partial();
    await realHarness.waitFor(() => net.receiveBuffered === 512 * KiB, 2000, 'room again');
    assert.ok(!d.closed());
    const events = await q.metrics.getSingleMetric('amfd_stream_events_total')?.get();
    assert.equal(events?.values.find((v) => v.labels.kind === 'receive-budget')?.value, 1);
  } finally {
    for (const s of sockets) s.destroy();
    for (const c of accepted) c.close();
    await listener.close();
  }
});

test('a connection admitted by its first frame takes a big frame that arrived in the same chunk (a sealed handshake, then the request)', async () => {
  const net = new NodeStreamNetwork(quietPorts());
  const listener = await net.listen('127.0.0.1:0', { handshake: { maxFrameSize: 16, timeoutMs: 5000, maxPending: 4, maxPendingPerHost: 4 } });
  const got: number[] = [];
  const closes: string[] = [];
  listener.onConnection((c) => {
    c.onFrame((f) => {
      got.push(f.length);
      c.admit();
    });
    c.onClose((i) => closes.push(i.reason));
  });
  const s = connect({ host: '127.0.0.1', port: Number(listener.address.split(':')[1]) });
  s.on('error', () => undefined);
  try {
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    const frame = (n: number): Buffer => {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(n, 0);
      return Buffer.concat([h, Buffer.alloc(n, 1)]);
    };
    // One write: both frames reach the decoder in one chunk.
    s.write(Buffer.concat([frame(8), frame(4096)]));
    await realHarness.waitFor(() => got.length === 2 || closes.length > 0, 5000, 'both frames, or a close');
    assert.deepEqual(got, [8, 4096]);
    assert.deepEqual(closes, []);
  } finally {
    s.destroy();
    await listener.close();
  }
});
