/**
 * Fuzz of the traffic between nodes (issue 25): SWIM datagrams and push-pull frames, and Raft
 * frames, from a host that holds no key, at a running simulated cluster. Invariant: the membership
 * every node sees and the Raft voters stay exactly as they were, and so does the leader's term
 * (nothing reached the protocol cores: a sealed cluster refuses all of it before decoding, and counts
 * it); the process's memory stays bounded (printed). `FUZZ_RUNS` sets the cases per target
 * (default 10 000; `npm run fuzz:net` runs 200 000). Inputs go in batches of 100 per property run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { RAFT_PORT } from '../../simulator/raft/node.js';
import { SWIM_PORT } from '../../simulator/swim/cluster.js';
import { MESSAGE_TYPES } from '../../src/raft/core/types.js';
import { packr } from '../../src/raft/storage/codec.js';
import type { DatagramSocket } from '../../src/runtime/ports/datagram.js';
import type { Registry } from '../../src/runtime/ports/observability.js';
import type { StreamConnection } from '../../src/runtime/ports/stream.js';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { Envelope } from '../../src/swim/envelope.js';
import { INCARNATION_WINDOW } from '../../src/swim/incarnation.js';
import { Keyring } from '../../src/swim/keyring.js';
import { assembleBody, encodeMessage, encodePushPull, type MemberSnapshot, type SwimMessage } from '../../src/swim/messages.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
/** Inputs per property run: delivered together, then the invariant is checked (a simulated cluster is slow to step one input at a time). */
const BATCH = 100;
/** Hosts the forgeries come from (none holds a key), so a batch stays within the per-host caps of the listeners. */
const MALLORY = Array.from({ length: 10 }, (_, i) => `mallory${i}`);
const KEY = new Uint8Array(32).fill(9);
const NAMES = ['n1', 'n2', 'n3'];
const MAX = 0xffff_ffff;

function ring(keys: Uint8Array[]): Keyring {
  const k = Keyring.create(Xoshiro128.fromSeed(4), keys);
  assert.ok(k.ok);
  return k.value;
}

// ---- SWIM inputs: well-formed messages (what a forger would send), then wrapped every way but the right one.
const incarnation = fc.oneof(fc.constantFrom(0, 1, 2, MAX, 2 ** 31, INCARNATION_WINDOW + 1), fc.integer({ min: 0, max: MAX }));
const node = fc.constantFrom(...NAMES, 'ghost', 'mallory');
const addr = fc.constantFrom(...NAMES.map((n) => `${n}:${SWIM_PORT}`), `mallory:${SWIM_PORT}`);
const swimMessage: fc.Arbitrary<SwimMessage> = fc.oneof(
  fc.record({ type: fc.constant('alive' as const), incarnation, node, addr, meta: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ type: fc.constant('suspect' as const), incarnation, node, from: node }),
  fc.record({ type: fc.constant('dead' as const), incarnation, node, from: node }),
  fc.record({ type: fc.constant('ping' as const), seq: fc.nat(), target: node, source: node }),
  fc.record({ type: fc.constant('indirect-ping' as const), seq: fc.nat(), target: node, targetAddr: addr, nack: fc.boolean(), source: node }),
  fc.record({ type: fc.constant('ack' as const), seq: fc.nat() }),
  fc.record({ type: fc.constant('user' as const), from: node, payload: fc.uint8Array({ maxLength: 64 }) }),
);
const snapshot: fc.Arbitrary<MemberSnapshot> = fc.record({ name: node, addr, incarnation, state: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const), meta: fc.uint8Array({ maxLength: 8 }) });
const body = fc.oneof(
  fc.array(swimMessage, { minLength: 1, maxLength: 6 }).map((ms) => assembleBody(ms.map(encodeMessage))),
  fc.array(snapshot, { minLength: 1, maxLength: 6 }).map((members) => encodePushPull({ join: false, members })),
  fc.uint8Array({ maxLength: 600 }),
);
const plain = new Envelope('', ring([]));
const wrongKey = new Envelope('', ring([new Uint8Array(32).fill(1)]));
const swimInput = fc.record({
  from: fc.constantFrom(...MALLORY),
  to: fc.constantFrom(...NAMES),
  tcp: fc.boolean(),
  bytes: fc.oneof(
    body.map((b) => plain.wrap(b)),
    body.map((b) => wrongKey.wrap(b)),
    fc.uint8Array({ maxLength: 1400 }),
    // Right version and label byte, then anything.
    fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.of(1, 0, ...b)),
  ),
});

// ---- Raft inputs: message-shaped records, hellos, arbitrary values and bytes.
const raftValue = fc.oneof(fc.nat(), fc.integer({ min: -5, max: 2 ** 40 }), fc.string({ maxLength: 8 }), fc.boolean(), fc.uint8Array({ maxLength: 16 }), fc.constant(null));
/**
 * Message-shaped, never from the caller its hello named ('mallory'): in clear, Raft trusts whoever
 * reaches its port and says hello (a valid message from that caller is Raft being spoken; with a
 * high term it deposes the leader, as in etcd or hashicorp/raft). Only the keyring authenticates
 * a peer, so the clear fuzz stops at malformed and spoofed frames, the sealed one does not.
 */
const raftShaped = fc.record({
  type: fc.constantFrom(...MESSAGE_TYPES),
  from: fc.constantFrom(...NAMES, 'ghost'),
  to: node,
  term: fc.oneof(fc.nat(), fc.constant(2 ** 40)),
  index: raftValue,
  logTerm: raftValue,
  commit: raftValue,
  entries: fc.array(fc.record({ index: raftValue, term: raftValue, type: raftValue, data: raftValue }), { maxLength: 2 }),
  context: raftValue,
  reject: raftValue,
});
const raftFrame = fc.oneof(
  raftShaped.map((m) => packr.pack(m)),
  fc.record({ hello: fc.record({ id: node, address: fc.string({ maxLength: 20 }) }) }).map((h) => packr.pack(h)),
  fc.anything({ maxDepth: 2 }).map((v) => packr.pack(v)),
  fc.uint8Array({ maxLength: 8192 }),
);

function views(h: ClusterHarness): string {
  return h.names.map((o) => `${o}[${(h.app(o)?.node.members?.members() ?? []).map((m) => `${m.name}:${m.state}:${m.incarnation}`).sort().join(' ')}]`).join(' ');
}

function voters(h: ClusterHarness): string {
  return h.names.map((o) => `${o}[${(h.app(o)?.node.raft?.getConfiguration() ?? []).map((s) => `${s.id}:${s.suffrage ?? 'voter'}`).sort().join(' ')}]`).join(' ');
}

async function total(metrics: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const v = await metrics.getSingleMetric(name)?.get();
  return (v?.values ?? []).filter((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l)).reduce((s, x) => s + x.value, 0);
}

async function sumOver(h: ClusterHarness, name: string, labels: Record<string, string> = {}): Promise<number> {
  let n = 0;
  for (const o of h.names) n += await total(h.sim.ports(o).metrics, name, labels);
  return n;
}

async function formed(keys?: Uint8Array[]): Promise<ClusterHarness> {
  const h = new ClusterHarness({ seed: 25, nodes: 3, ...(keys ? { keys } : {}) });
  for (const m of MALLORY) h.sim.addNode(m, () => ({}));
  assert.ok(await h.sim.runUntil(() => h.formed(), 30_000), 'formed');
  // Settled: every member alive everywhere, metadata gossiped.
  await h.sim.runFor(3000);
  return h;
}

/** fc.assert, but a failure reports the error of the failing batch, not the batch itself (100 inputs). */
async function holds<T>(property: fc.IAsyncProperty<T>, params: fc.Parameters<T>): Promise<void> {
  const out = await fc.check(property, params);
  if (out.failed) assert.fail(`failed after ${out.numRuns} batches (seed ${out.seed}): ${out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance)}`);
}

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

test(`fuzz: ${RUNS} forged SWIM datagrams and push-pull frames at a sealed cluster: refused before decode, counted; membership and voters unchanged`, async () => {
  const h = await formed([KEY]);
  const before = { views: views(h), voters: voters(h), term: h.leader()?.node.raft?.currentTerm };
  const dropped0 = await sumOver(h, 'swim_packets_dropped_total');
  const rss0 = process.memoryUsage().rss;
  const sockets = new Map<string, DatagramSocket>();
  for (const m of MALLORY) sockets.set(m, await h.sim.ports(m).datagram.bind(`${m}:0`));
  let datagrams = 0;
  let frames = 0;
  await holds(
    fc.asyncProperty(fc.array(swimInput, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
      for (const i of batch) {
        const to = `${i.to}:${SWIM_PORT}`;
        if (i.tcp) {
          frames++;
          void h.sim.ports(i.from).stream.connect(to, { timeoutMs: 500 }).then((r) => r.ok && r.value.send(i.bytes));
        } else {
          datagrams++;
          sockets.get(i.from)?.send(to, i.bytes);
        }
      }
      await h.sim.runFor(20);
      assert.equal(views(h), before.views);
      assert.equal(voters(h), before.voters);
    }),
    { numRuns: Math.ceil(RUNS / BATCH), endOnFailure: true },
  );
  await h.sim.runFor(3000);
  const dropped = (await sumOver(h, 'swim_packets_dropped_total')) - dropped0;
  const decoded = await sumOver(h, 'swim_packets_dropped_total', { reason: 'decode' });
  const rss = process.memoryUsage().rss;
  console.log(`swim fuzz: ${datagrams} datagrams + ${frames} push-pull frames, ${dropped} dropped (${decoded} at decode), rss ${MiB(rss0)} -> ${MiB(rss)}`);
  assert.equal(dropped, datagrams + frames, 'every input refused and counted');
  assert.equal(decoded, 0, 'none of it reached the decoder');
  assert.equal(views(h), before.views);
  assert.equal(voters(h), before.voters);
  assert.equal(h.leader()?.node.raft?.currentTerm, before.term);
  assert.ok(rss - rss0 < 256 * 1024 * 1024, `RSS grew by ${MiB(rss - rss0)}`);
  assert.deepEqual(h.violations, []);
});

for (const sealed of [true, false]) {
  test(`fuzz: ${RUNS} Raft frames from a stranger at a ${sealed ? 'sealed' : 'clear'} cluster: ${sealed ? 'refused before decode' : 'malformed or spoofed, refused before the core'}, counted; voters and term unchanged`, async () => {
    const h = await formed(sealed ? [KEY] : undefined);
    const before = { voters: voters(h), term: h.leader()?.node.raft?.currentTerm, leader: h.leader()?.node.name };
    const rss0 = process.memoryUsage().rss;
    let sent = 0;
    /** After a hello every frame must be refused: it is malformed or not from that caller. */
    let afterHello = 0;
    const input = fc.record({ from: fc.constantFrom(...MALLORY), to: fc.constantFrom(...NAMES), hello: fc.boolean(), frame: raftFrame });
    await holds(
      fc.asyncProperty(fc.array(input, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        const conns: Array<StreamConnection | undefined> = [];
        let settled = 0;
        batch.forEach((i, n) =>
          void h.sim.ports(i.from).stream.connect(`${i.to}:${RAFT_PORT}`, { timeoutMs: 500 }).then((c) => {
            settled++;
            if (c.ok) conns[n] = c.value;
          }),
        );
        await h.sim.runUntil(() => settled === batch.length, 1000);
        batch.forEach((i, n) => {
          const c = conns[n];
          assert.ok(c, 'mallory connects');
          // In clear a hello admits anyone; the frame after it must still be a valid message from that caller.
          if (i.hello) c.send(packr.pack({ hello: { id: 'mallory', address: `mallory:${RAFT_PORT}` } }));
          c.send(i.frame);
          sent++;
          if (i.hello) afterHello++;
        });
        await h.sim.runFor(20);
        for (const c of conns) c?.close();
        assert.equal(voters(h), before.voters);
        assert.equal(h.leader()?.node.raft?.currentTerm, before.term);
      }),
      { numRuns: Math.ceil(RUNS / BATCH), endOnFailure: true },
    );
    await h.sim.runFor(3000);
    const refused = sealed ? await sumOver(h, 'amf_cluster_unauthenticated_total', { channel: 'raft' }) : await sumOver(h, 'raft_transport_bad_frames_total');
    const rss = process.memoryUsage().rss;
    console.log(`raft fuzz (${sealed ? 'sealed' : 'clear'}): ${sent} connections, ${refused} refusals counted, rss ${MiB(rss0)} -> ${MiB(rss)}`);
    assert.ok(refused >= (sealed ? sent : afterHello), `refusals counted: ${refused} of ${sent}`);
    assert.equal(voters(h), before.voters);
    assert.equal(h.leader()?.node.name, before.leader);
    assert.equal(h.leader()?.node.raft?.currentTerm, before.term);
    assert.ok(rss - rss0 < 256 * 1024 * 1024, `RSS grew by ${MiB(rss - rss0)}`);
    assert.deepEqual(h.violations, []);
  });
}
