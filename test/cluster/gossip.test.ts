/**
 * The gossip channel mux: delivery by channel, sealing under the SWIM keyring, and what it does
 * with malformed input and unknown channels (counted and dropped, never thrown).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Simulation } from '../../simulator/index.js';
import { GossipMux, type GossipChannel, type GossipMessage, type GossipTransport } from '../../src/cluster/gossip.js';
import type { DatagramNetwork } from '../../src/runtime/ports/datagram.js';
import { createLogger, createMetricsRegistry } from '../../src/runtime/observability.js';
import type { Registry } from '../../src/runtime/ports/observability.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { Keyring, Memberlist, type UserMessage } from '../../src/swim/index.js';
import { swimConfig } from '../../src/swim/config.js';
import { Envelope } from '../../src/swim/envelope.js';
import { assembleBody, encodeMessage } from '../../src/swim/messages.js';
import { ok, type Result } from '../../src/util/result.js';

const logger = createLogger({ node: 'test', level: 'silent' });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const clock = { now: () => 0, wallTime: () => 0, setTimer: () => ({ cancel() {} }), setPeriodic: () => ({ cancel() {} }) };

async function counter(metrics: Registry, name: string): Promise<Record<string, number>> {
  const m = await metrics.getSingleMetric(name)?.get();
  return Object.fromEntries((m?.values ?? []).map((v) => [Object.values(v.labels).join('/'), v.value]));
}

/** A transport that records what is sent and lets the test deliver anything. */
class FakeTransport implements GossipTransport {
  readonly sent: Array<{ payload: Uint8Array; to?: readonly string[] }> = [];
  private listener: ((m: UserMessage) => void) | undefined;
  sendUserMessage(payload: Uint8Array, to?: readonly string[]): Result<number, string> {
    this.sent.push({ payload, ...(to ? { to } : {}) });
    return ok(to?.length ?? 2);
  }
  onUserMessage(l: (m: UserMessage) => void): void {
    this.listener = l;
  }
  peers(): string[] {
    return ['b', 'c'];
  }
  deliver(from: string, payload: Uint8Array): void {
    this.listener?.({ from, payload });
  }
}

function mux(): { t: FakeTransport; m: GossipMux; metrics: Registry } {
  const t = new FakeTransport();
  const metrics = createMetricsRegistry('test');
  return { t, m: new GossipMux(t, 8192, clock, logger, metrics), metrics };
}

test('gossip: a message reaches the handlers of its own channel only, with its sender', () => {
  const { t, m } = mux();
  const hb = m.channel('heartbeat');
  const sg = m.channel('server-groups');
  assert.ok(hb.ok && sg.ok);
  const got: string[] = [];
  hb.value.onMessage((x) => got.push(`hb ${x.from} ${text(x.body)}`));
  hb.value.onMessage((x) => got.push(`hb2 ${text(x.body)}`));
  sg.value.onMessage((x) => got.push(`sg ${x.from} ${text(x.body)}`));
  assert.deepEqual(hb.value.send(bytes('vote?'), ['b']), ok(1));
  assert.deepEqual(sg.value.send(bytes('hello all')), ok(2));
  assert.deepEqual(t.sent[0]!.to, ['b']);
  assert.equal(t.sent[1]!.to, undefined, 'no list: every live member');
  for (const s of t.sent) t.deliver('b', s.payload);
  assert.deepEqual(got, ['hb b vote?', 'hb2 vote?', 'sg b hello all']);
  assert.deepEqual(m.peers(), ['b', 'c']);
});

test('gossip: names, sizes, closing', () => {
  const { t, m } = mux();
  for (const bad of ['', 'Upper', '-lead', 'a'.repeat(33), 'sp ace', 'é']) assert.ok(!m.channel(bad).ok, bad);
  const c = m.channel('a.b_c-9');
  assert.ok(c.ok);
  assert.ok(!m.channel('a.b_c-9').ok, 'one opening per name');
  assert.equal(c.value.maxBody, 8192 - 2 - 'a.b_c-9'.length);
  assert.ok(c.value.send(new Uint8Array(c.value.maxBody)).ok);
  assert.ok(!c.value.send(new Uint8Array(c.value.maxBody + 1)).ok);
  let n = 0;
  c.value.onMessage(() => n++);
  const payload = t.sent[0]!.payload;
  c.value.close();
  t.deliver('b', payload);
  assert.equal(n, 0, 'a closed channel receives nothing');
  assert.ok(!c.value.send(bytes('x')).ok);
  assert.ok(m.channel('a.b_c-9').ok, 'the name is free again');
});

test('gossip: malformed input and unknown channels are counted and dropped; a throwing handler does not stop the others', async () => {
  const { t, m, metrics } = mux();
  const c = m.channel('known');
  assert.ok(c.ok);
  const got: GossipMessage[] = [];
  c.value.onMessage(() => {
    throw new Error('handler bug');
  });
  c.value.onMessage((x) => got.push(x));
  const frame = (version: number, name: string, body = 'b'): Uint8Array => Uint8Array.from([version, Buffer.byteLength(name), ...Buffer.from(name), ...Buffer.from(body)]);
  t.deliver('x', new Uint8Array(0));
  t.deliver('x', Uint8Array.from([1, 5]));
  t.deliver('x', frame(2, 'known'));
  t.deliver('x', Uint8Array.from([1, 40, 97, 98]));
  t.deliver('x', frame(1, 'Bad Name'));
  t.deliver('x', frame(1, 'other'));
  t.deliver('x', frame(1, 'known', 'fine'));
  assert.deepEqual(got.map((g) => text(g.body)), ['fine']);
  assert.deepEqual(await counter(metrics, 'amf_cluster_gossip_dropped_total'), { malformed: 5, 'unknown-channel': 1, 'handler-error': 1 });
  assert.deepEqual(await counter(metrics, 'amf_cluster_gossip_delivered_total'), { known: 1 });
});

test('gossip: any payload is either delivered or counted as dropped, never thrown (3 000 cases)', async () => {
  const { t, m, metrics } = mux();
  const c = m.channel('known');
  assert.ok(c.ok);
  let delivered = 0;
  c.value.onMessage(() => delivered++);
  // Half the cases start like a real frame of the open channel, so both outcomes are reached.
  const known = Uint8Array.from([1, 5, ...Buffer.from('known')]);
  const payload = fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 32 }).map((b) => Uint8Array.from([...known, ...b])));
  fc.assert(
    fc.property(payload, (p) => {
      t.deliver('fuzz', p);
    }),
    { numRuns: 3000 },
  );
  const dropped = await counter(metrics, 'amf_cluster_gossip_dropped_total');
  assert.ok(delivered > 0 && (dropped.malformed ?? 0) > 0, JSON.stringify(dropped));
  assert.equal(delivered + (dropped.malformed ?? 0) + (dropped['unknown-channel'] ?? 0), 3000);
});

// Over real SWIM on the simulator ---------------------------------------------------------------

const K1 = new Uint8Array(32).fill(1);
const K2 = new Uint8Array(32).fill(2);

/** Memberlists with a mux each; every datagram a node sends is recorded. */
async function swimCluster(keys: readonly Uint8Array[] | undefined, names: readonly string[]) {
  const sim = new Simulation({ seed: 5, traceKeep: 0 });
  const lists = new Map<string, Memberlist>();
  const muxes = new Map<string, GossipMux>();
  const wire: Uint8Array[] = [];
  const cfg = swimConfig('lan-fast');
  assert.ok(cfg.ok);
  for (const name of names) {
    sim.addNode(name, (ports: NodePorts) => {
      const datagram: DatagramNetwork = {
        bind: async (addr) => {
          const s = await ports.datagram.bind(addr);
          return Object.assign(Object.create(s) as typeof s, {
            send: (to: string, d: Uint8Array) => {
              wire.push(d.slice());
              return s.send(to, d);
            },
            onMessage: (h: (d: Uint8Array, from: string) => void) => s.onMessage(h),
            close: () => s.close(),
          });
        },
      };
      void Memberlist.start({ ...ports, datagram }, { name, bind: `${name}:7946`, config: cfg.value, ...(keys ? { keys } : {}) }).then((r) => {
        assert.ok(r.ok, r.ok ? '' : r.error);
        lists.set(name, r.value);
        const transport: GossipTransport = {
          sendUserMessage: (p, to) => r.value.sendUserMessage(p, to),
          onUserMessage: (l) => r.value.onUserMessage(l),
          peers: () => r.value.members().filter((x) => x.name !== name && (x.state === 'alive' || x.state === 'suspect')).map((x) => x.name),
        };
        muxes.set(name, new GossipMux(transport, cfg.value.maxUserMessageSize, ports.clock, ports.logger, ports.metrics));
      });
      return {};
    });
  }
  await sim.runFor(10);
  for (const n of names.slice(1)) void lists.get(n)!.join([`${names[0]!}:7946`]);
  assert.ok(await sim.runUntil(() => names.every((n) => lists.get(n)?.countByState().alive === names.length), 10_000));
  return { sim, muxes, wire };
}

for (const sealed of [false, true]) {
  test(`gossip over SWIM (${sealed ? 'sealed under the keyring' : 'in clear'}): to one member, to some, to all`, async () => {
    const { sim, muxes, wire } = await swimCluster(sealed ? [K1] : undefined, ['a', 'b', 'c', 'd']);
    const got: string[] = [];
    const channels = new Map<string, GossipChannel>();
    for (const [n, m] of muxes) {
      const ch = m.channel('demo');
      assert.ok(ch.ok);
      channels.set(n, ch.value);
      ch.value.onMessage((x) => got.push(`${n}<${x.from}:${text(x.body)}`));
    }
    wire.length = 0;
    assert.deepEqual(channels.get('a')!.send(bytes('secret-one'), ['b']), ok(1));
    assert.deepEqual(channels.get('b')!.send(bytes('secret-some'), ['c', 'd']), ok(2));
    assert.deepEqual(channels.get('c')!.send(bytes('secret-all')), ok(3));
    await sim.runFor(100);
    assert.deepEqual(got.sort(), ['a<c:secret-all', 'b<a:secret-one', 'b<c:secret-all', 'c<b:secret-some', 'd<b:secret-some', 'd<c:secret-all']);
    const plain = wire.filter((d) => Buffer.from(d).includes('secret-'));
    assert.equal(plain.length, sealed ? 0 : 6, sealed ? 'plaintext on the wire' : 'the clear cluster sends in clear');
  });
}

test('gossip over sealed SWIM: a message sealed with another key is dropped by SWIM, one with the cluster key is delivered', async () => {
  const { sim, muxes } = await swimCluster([K1], ['a', 'b']);
  const ch = muxes.get('a')!.channel('demo');
  assert.ok(ch.ok);
  const got: string[] = [];
  ch.value.onMessage((x) => got.push(`${x.from}:${text(x.body)}`));
  const eve = await sim.ports('b').datagram.bind('b:9999');
  const cfg = swimConfig('lan-fast');
  assert.ok(cfg.ok);
  const forge = (key: Uint8Array, body: string): Uint8Array => {
    const ring = Keyring.create(sim.ports('b').random.fork('eve'), [key]);
    assert.ok(ring.ok);
    const payload = Uint8Array.from([1, 4, ...Buffer.from('demo'), ...Buffer.from(body)]);
    return new Envelope(cfg.value.label, ring.value).wrap(assembleBody([encodeMessage({ type: 'user', from: 'b', payload })]));
  };
  eve.send('a:7946', forge(K2, 'wrong key'));
  eve.send('a:7946', forge(K1, 'right key'));
  await sim.runFor(50);
  assert.deepEqual(got, ['b:right key']);
});
