import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ListenOptions, StreamCloseInfo, StreamConnection, StreamListener } from '../../../src/runtime/ports/stream.js';
import { bytesEqual, pattern, withFixture, type StreamFixture } from './harness.js';

/** A connected pair: client side and the server side of the same connection. */
interface Pair {
  readonly listener: StreamListener;
  readonly client: StreamConnection;
  readonly server: StreamConnection;
}

async function connectPair(f: StreamFixture, options?: ListenOptions): Promise<Pair> {
  const listener = await f.server.listen(f.listenAddress, options);
  const accepted: StreamConnection[] = [];
  listener.onConnection((c) => accepted.push(c));
  const r = await f.client.connect(listener.address, { timeoutMs: 5000 });
  assert.ok(r.ok, `connect to ${listener.address} failed: ${JSON.stringify(r.ok ? null : r.error)}`);
  await f.harness.waitFor(() => accepted.length === 1, 5000, 'server accepted the connection');
  const server = accepted[0];
  assert.ok(server);
  return { listener, client: r.value, server };
}

async function closePair(p: Pair): Promise<void> {
  p.client.close();
  p.server.close();
  await p.listener.close();
}

/** Frame i carries its index in the first 4 bytes, then a pattern, so order and content are checked. */
function numbered(i: number, size: number): Uint8Array {
  const b = pattern(size, i);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

function indexOf(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
}

/** Contract of StreamNetwork (src/runtime/ports/stream.ts), for any implementation. */
export function streamSuite(name: string, makeFixture: () => Promise<StreamFixture>): void {
  const run = (fn: (f: StreamFixture) => Promise<void>) => () => withFixture(makeFixture, fn);

  describe(`StreamNetwork compliance: ${name}`, () => {
    test('frames arrive whole, in order, both ways; addresses are concrete', run(async (f) => {
      const p = await connectPair(f);
      try {
        assert.ok(!p.listener.address.endsWith(':0'));
        assert.equal(p.client.remoteAddress, p.listener.address);
        const atServer: Uint8Array[] = [];
        const atClient: Uint8Array[] = [];
        p.server.onFrame((fr) => atServer.push(fr));
        p.client.onFrame((fr) => atClient.push(fr));
        p.client.send(new Uint8Array(0));
        p.client.send(numbered(1, 10));
        p.server.send(numbered(2, 300));
        await f.harness.waitFor(() => atServer.length === 2 && atClient.length === 1, 5000, 'frames both ways');
        assert.equal(atServer[0]?.length, 0, 'empty frame is a frame');
        assert.ok(bytesEqual(atServer[1] ?? new Uint8Array(), numbered(1, 10)));
        assert.ok(bytesEqual(atClient[0] ?? new Uint8Array(), numbered(2, 300)));
      } finally {
        await closePair(p);
      }
    }));

    test('many small frames (coalesced into chunks) are split back exactly', run(async (f) => {
      const p = await connectPair(f);
      try {
        const got: Uint8Array[] = [];
        p.server.onFrame((fr) => got.push(fr));
        const n = 5000;
        for (let i = 0; i < n; i++) p.client.send(numbered(i, 4 + (i % 13)));
        await f.harness.waitFor(() => got.length === n, 20000, `${n} small frames`);
        got.forEach((fr, i) => assert.ok(bytesEqual(fr, numbered(i, 4 + (i % 13))), `frame ${i} differs`));
      } finally {
        await closePair(p);
      }
    }));

    test('one frame of exactly maxFrameSize (split across many chunks) is reassembled', run(async (f) => {
      const p = await connectPair(f);
      try {
        const got: Uint8Array[] = [];
        p.server.onFrame((fr) => got.push(fr));
        const big = numbered(9, p.server.maxFrameSize);
        p.client.send(big);
        p.client.send(numbered(10, 8));
        await f.harness.waitFor(() => got.length === 2, 20000, 'large frame and its follower');
        assert.ok(bytesEqual(got[0] ?? new Uint8Array(), big), 'large frame corrupted');
        assert.equal(indexOf(got[1] ?? new Uint8Array(4)), 10);
      } finally {
        await closePair(p);
      }
    }));

    test('frames sent before onFrame is set are queued and delivered', run(async (f) => {
      const p = await connectPair(f);
      try {
        for (let i = 0; i < 3; i++) p.client.send(numbered(i, 16));
        await f.harness.sleep(100);
        const got: Uint8Array[] = [];
        p.server.onFrame((fr) => got.push(fr));
        await f.harness.waitFor(() => got.length === 3, 5000, 'queued frames delivered');
        assert.deepEqual(got.map(indexOf), [0, 1, 2]);
      } finally {
        await closePair(p);
      }
    }));

    test('backpressure: send returns false, drain fires, nothing lost, order kept', run(async (f) => {
      const p = await connectPair(f);
      try {
        // The server does not read yet (no onFrame), so buffers fill up.
        const size = 64 * 1024;
        let sent = 0;
        let sawFalse = false;
        while (sent < 2048) {
          const accepted = p.client.send(numbered(sent, size));
          sent++;
          if (!accepted) {
            sawFalse = true;
            break;
          }
        }
        assert.ok(sawFalse, `send never returned false after ${sent} frames of ${size} bytes`);
        let drained = 0;
        p.client.onDrain(() => drained++);
        const got: number[] = [];
        p.server.onFrame((fr) => {
          assert.equal(fr.length, size);
          got.push(indexOf(fr));
        });
        await f.harness.waitFor(() => drained > 0, 20000, 'drain after the reader started');
        // After drain the writer may continue; those frames come after the first ones.
        p.client.send(numbered(sent, size));
        sent++;
        await f.harness.waitFor(() => got.length === sent, 20000, `all ${sent} frames delivered`);
        assert.deepEqual(got, Array.from({ length: sent }, (_, i) => i));
      } finally {
        await closePair(p);
      }
    }));

    test('a peer close is seen exactly once with reason peer; the closer sees local', run(async (f) => {
      const p = await connectPair(f);
      try {
        const serverCloses: StreamCloseInfo[] = [];
        const clientCloses: StreamCloseInfo[] = [];
        p.server.onClose((i) => serverCloses.push(i));
        p.client.onClose((i) => clientCloses.push(i));
        p.client.close();
        p.client.close();
        await f.harness.waitFor(() => serverCloses.length > 0 && clientCloses.length > 0, 5000, 'both sides closed');
        await f.harness.sleep(50);
        assert.equal(serverCloses.length, 1);
        assert.equal(clientCloses.length, 1);
        assert.equal(serverCloses[0]?.reason, 'peer');
        assert.equal(clientCloses[0]?.reason, 'local');
        assert.ok(p.server.closed && p.client.closed);
        assert.equal(p.client.send(new Uint8Array(1)), false, 'send on a closed connection');
      } finally {
        await closePair(p);
      }
    }));

    test('onClose set after the connection ended is still called once', run(async (f) => {
      const p = await connectPair(f);
      try {
        p.server.close();
        await f.harness.waitFor(() => p.client.closed, 5000, 'client saw the close');
        const seen: StreamCloseInfo[] = [];
        p.client.onClose((i) => seen.push(i));
        await f.harness.waitFor(() => seen.length === 1, 5000, 'late onClose called');
        assert.equal(seen[0]?.reason, 'peer');
      } finally {
        await closePair(p);
      }
    }));

    test('a frame above the receiver maxFrameSize closes the connection with frame-too-large', run(async (f) => {
      const p = await connectPair(f);
      try {
        const serverCloses: StreamCloseInfo[] = [];
        const clientCloses: StreamCloseInfo[] = [];
        p.server.onClose((i) => serverCloses.push(i));
        p.client.onClose((i) => clientCloses.push(i));
        const got: Uint8Array[] = [];
        p.server.onFrame((fr) => got.push(fr));
        p.client.send(numbered(1, 8));
        p.client.send(new Uint8Array(p.server.maxFrameSize + 1));
        await f.harness.waitFor(() => serverCloses.length === 1 && clientCloses.length === 1, 20000, 'oversized frame closed both sides');
        assert.equal(serverCloses[0]?.reason, 'frame-too-large');
        assert.equal(got.length, 1, 'the frame before the oversized one is delivered, nothing after');
      } finally {
        await closePair(p);
      }
    }));

    const HANDSHAKE: ListenOptions = { handshake: { maxFrameSize: 64, timeoutMs: 1000, maxPending: 3, maxPendingPerHost: 2 } };

    test('before admit() frames above the handshake limit close the connection; admit() lifts it to maxFrameSize', run(async (f) => {
      const p = await connectPair(f, HANDSHAKE);
      try {
        const got: Uint8Array[] = [];
        p.server.onFrame((fr) => got.push(fr));
        p.client.send(numbered(1, 64));
        await f.harness.waitFor(() => got.length === 1, 5000, 'a frame at the handshake limit');
        p.server.admit();
        p.client.send(numbered(2, 4096));
        await f.harness.waitFor(() => got.length === 2, 5000, 'a bigger frame once admitted');
        // Admitted, it outlives the handshake deadline.
        await f.harness.sleep(1500);
        assert.ok(!p.server.closed);
      } finally {
        await closePair(p);
      }
      const q = await connectPair(f, HANDSHAKE);
      try {
        const closes: StreamCloseInfo[] = [];
        q.server.onClose((i) => closes.push(i));
        q.server.onFrame(() => assert.fail('nothing is delivered'));
        q.client.send(numbered(3, 65));
        await f.harness.waitFor(() => closes.length === 1, 5000, 'the oversized handshake frame closed the connection');
        assert.equal(closes[0]?.reason, 'frame-too-large');
      } finally {
        await closePair(q);
      }
    }));

    test('a connection not admitted within the handshake deadline is closed', run(async (f) => {
      const p = await connectPair(f, HANDSHAKE);
      try {
        const closes: StreamCloseInfo[] = [];
        p.server.onClose((i) => closes.push(i));
        await f.harness.waitFor(() => p.client.closed, 5000, 'the client sees the close');
        await f.harness.waitFor(() => closes.length === 1, 5000, 'the server side closed');
        assert.equal(closes[0]?.reason, 'error');
      } finally {
        await closePair(p);
      }
    }));

    test('connections not admitted are capped per host and in all; admitting or closing frees a slot', run(async (f) => {
      const listener = await f.server.listen(f.listenAddress, { ...HANDSHAKE, handshake: { ...HANDSHAKE.handshake!, timeoutMs: 60_000 }, maxConnections: 3 });
      const accepted: StreamConnection[] = [];
      listener.onConnection((c) => accepted.push(c));
      const clients: StreamConnection[] = [];
      const dial = async (): Promise<StreamConnection> => {
        const r = await f.client.connect(listener.address, { timeoutMs: 5000 });
        assert.ok(r.ok);
        clients.push(r.value);
        return r.value;
      };
      try {
        await dial();
        await dial();
        await f.harness.waitFor(() => accepted.length === 2, 5000, 'two pending connections from one host');
        const third = await dial();
        await f.harness.waitFor(() => third.closed, 5000, 'a third from the same host is closed at accept');
        assert.equal(accepted.length, 2);
        accepted[0]?.admit();
        const fourth = await dial();
        await f.harness.waitFor(() => accepted.length === 3, 5000, 'admitting one freed its pending slot');
        assert.ok(!fourth.closed);
        accepted[0]?.admit();
        const fifth = await dial();
        await f.harness.waitFor(() => fifth.closed, 5000, 'maxConnections: 3 are open');
        accepted[1]?.close();
        await f.harness.waitFor(() => clients[1]?.closed === true, 5000, 'closed');
        await dial();
        await f.harness.waitFor(() => accepted.length === 4, 5000, 'closing one freed a connection slot');
      } finally {
        for (const c of [...clients, ...accepted]) c.close();
        await listener.close();
      }
    }));

    test('connect where nothing listens fails with refused', run(async (f) => {
      const r = await f.client.connect(f.refusedAddress, { timeoutMs: 5000 });
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'refused');
    }));

    test('connect that gets no answer fails with timeout', run(async (f) => {
      if (f.blackholeAddress === undefined) return;
      const r = await f.client.connect(f.blackholeAddress, { timeoutMs: 300 });
      assert.ok(!r.ok);
      assert.deepEqual(r.error, { kind: 'timeout', address: f.blackholeAddress, timeoutMs: 300 });
    }));

    test('a closed listener accepts no more connections', run(async (f) => {
      const listener = await f.server.listen(f.listenAddress);
      const addr = listener.address;
      await listener.close();
      const r = await f.client.connect(addr, { timeoutMs: 2000 });
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'refused');
    }));
  });
}
