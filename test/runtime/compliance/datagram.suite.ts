import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytesEqual, pattern, withFixture, type DatagramFixture } from './harness.js';

/** Contract of DatagramNetwork (src/runtime/ports/datagram.ts), for any implementation. */
export function datagramSuite(name: string, makeFixture: () => Promise<DatagramFixture>): void {
  const run = (fn: (f: DatagramFixture) => Promise<void>) => () => withFixture(makeFixture, fn);

  describe(`DatagramNetwork compliance: ${name}`, () => {
    test('bind with port 0 yields a concrete address', run(async (f) => {
      const s = await f.a.bind(f.addrA);
      try {
        assert.ok(!s.address.endsWith(':0'), `bound address still has port 0: ${s.address}`);
        assert.ok(s.maxDatagramSize > 0);
      } finally {
        await s.close();
      }
    }));

    test('delivers datagrams with their content and the sender address', run(async (f) => {
      const sa = await f.a.bind(f.addrA);
      const sb = await f.b.bind(f.addrB);
      try {
        const got: Array<{ data: Uint8Array; from: string }> = [];
        sb.onMessage((data, from) => got.push({ data, from }));
        for (let i = 0; i < 10; i++) assert.ok(sa.send(sb.address, pattern(100 + i, i)).ok);
        await f.harness.waitFor(() => got.length >= 10, 5000, '10 datagrams delivered');
        for (const m of got) {
          assert.equal(m.from, sa.address);
          const i = m.data.length - 100;
          assert.ok(bytesEqual(m.data, pattern(100 + i, i)), `datagram ${i} corrupted`);
        }
        // And back, to the address the datagram came from.
        const back: Uint8Array[] = [];
        sa.onMessage((d) => back.push(d));
        const first = got[0];
        assert.ok(first);
        assert.ok(sb.send(first.from, pattern(7)).ok);
        await f.harness.waitFor(() => back.length === 1, 5000, 'reply delivered');
      } finally {
        await sa.close();
        await sb.close();
      }
    }));

    test('a datagram of exactly maxDatagramSize is delivered; one byte more is refused', run(async (f) => {
      const sa = await f.a.bind(f.addrA);
      const sb = await f.b.bind(f.addrB);
      try {
        const got: Uint8Array[] = [];
        sb.onMessage((d) => got.push(d));
        const max = sa.maxDatagramSize;
        assert.ok(sa.send(sb.address, pattern(max, 3)).ok);
        await f.harness.waitFor(() => got.length === 1, 5000, 'max-size datagram delivered');
        assert.ok(bytesEqual(got[0] ?? new Uint8Array(), pattern(max, 3)));
        const r = sa.send(sb.address, new Uint8Array(max + 1));
        assert.ok(!r.ok);
        assert.deepEqual(r.error, { kind: 'too-large', size: max + 1, max });
        await f.harness.sleep(50);
        assert.equal(got.length, 1, 'oversized datagram must not arrive');
      } finally {
        await sa.close();
        await sb.close();
      }
    }));

    test('an unparsable address is refused as a value', run(async (f) => {
      const sa = await f.a.bind(f.addrA);
      try {
        const r = sa.send('no port here', new Uint8Array(1));
        assert.ok(!r.ok);
        assert.equal(r.error.kind, 'bad-address');
        // Port 0 can be bound (pick any) but never sent to: a peer naming it must not crash us.
        const zero = sa.send(sa.address.replace(/:\d+$/, ':0'), new Uint8Array(1));
        assert.ok(!zero.ok);
        assert.equal(zero.error.kind, 'bad-address');
      } finally {
        await sa.close();
      }
    }));

    test('send after close returns closed, and a closed socket receives nothing', run(async (f) => {
      const sa = await f.a.bind(f.addrA);
      const sb = await f.b.bind(f.addrB);
      const got: Uint8Array[] = [];
      sb.onMessage((d) => got.push(d));
      const bAddr = sb.address;
      await sb.close();
      assert.ok(sa.send(bAddr, new Uint8Array(4)).ok, 'sending to a closed peer is still ok (best effort)');
      await sa.close();
      const r = sa.send(bAddr, new Uint8Array(4));
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'closed');
      await f.harness.sleep(50);
      assert.equal(got.length, 0);
    }));

    test('binding an address already in use fails', run(async (f) => {
      const sa = await f.a.bind(f.addrA);
      try {
        await assert.rejects(f.a.bind(sa.address));
      } finally {
        await sa.close();
      }
    }));

    test('a throwing handler does not stop later deliveries', run(async (f) => {
      const sa = await f.a.bind(f.addrA);
      const sb = await f.b.bind(f.addrB);
      try {
        let calls = 0;
        sb.onMessage(() => {
          calls++;
          throw new Error('handler bug (expected by the test)');
        });
        sa.send(sb.address, new Uint8Array(1));
        sa.send(sb.address, new Uint8Array(1));
        await f.harness.waitFor(() => calls === 2, 5000, 'both datagrams reached the throwing handler');
      } finally {
        await sa.close();
        await sb.close();
      }
    }));
  });
}
