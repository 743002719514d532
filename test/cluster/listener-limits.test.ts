import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RPC_LISTEN_OPTIONS, serveForwarded } from '../../src/cluster/forward.js';
import { SealContext } from '../../src/cluster/sealed-channel.js';
import { sealedStreamNetwork } from '../../src/cluster/sealed-stream.js';
import { StreamTransport } from '../../src/raft/transport/stream-transport.js';
import { NodeClock, NodeDatagramNetwork, NodeStreamNetwork, createNodeRandom } from '../../src/runtime/node/index.js';
import { createLogger, createMetricsRegistry } from '../../src/runtime/observability.js';
import type { Registry } from '../../src/runtime/ports/observability.js';
import { Keyring, Memberlist, swimConfig } from '../../src/swim/index.js';

/**
 * Issue 25: 20 connections that each announce a 16 MiB frame and send half of it, at every listener
 * between nodes (Raft in clear and sealed, SWIM push-pull, the rpc channel). Before any handshake a
 * stranger may send a few KiB: the header is refused unread, the connection closed, the refusal
 * counted, and the process's RSS stays where it was (printed). Before the fix each listener
 * buffered 8 MiB per connection and kept it (the leader went from 98 to 394 MB).
 */
const CONNECTIONS = 20;
const ANNOUNCED = 16 * 1024 * 1024;
const HALF = Buffer.alloc(ANNOUNCED / 2, 0x5a);
const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

interface Target {
  readonly name: string;
  readonly address: string;
  readonly net: NodeStreamNetwork;
  readonly metrics: Registry;
  /** The metrics (and labels) whose sum must count the refusals. */
  readonly counted: ReadonlyArray<{ readonly metric: string; readonly labels: Record<string, string> }>;
  close(): Promise<void>;
}

function ports(name: string) {
  const logger = createLogger({ node: name, level: 'silent' });
  const metrics = createMetricsRegistry(name);
  return { logger, metrics, clock: new NodeClock(), random: createNodeRandom(), net: new NodeStreamNetwork({ logger, metrics }) };
}

const transportOptions = (id: string) => ({ id, connectTimeoutMs: 200, minBackoffMs: 20, maxBackoffMs: 250, maxQueued: 16 });
const STREAM_REFUSALS = [{ metric: 'amfd_stream_events_total', labels: {} }];
/** Sealed: a handshake refusal, or a connection over the per-host cap closed at accept. */
const SEALED_REFUSALS = [
  { metric: 'amf_cluster_unauthenticated_total', labels: { channel: 'raft' } },
  { metric: 'amfd_stream_events_total', labels: { kind: 'refused-max-pending-host' } },
  { metric: 'amfd_stream_events_total', labels: { kind: 'refused-max-pending' } },
];

async function raft(sealed: boolean): Promise<Target> {
  const p = ports(sealed ? 'raft-sealed' : 'raft');
  const ring = Keyring.create(p.random, sealed ? [new Uint8Array(32).fill(3)] : []);
  assert.ok(ring.ok);
  const net = sealedStreamNetwork(p.net, new SealContext(ring.value, p.random, p.clock, p.logger, p.metrics), 'raft');
  const t = await StreamTransport.listen(net, '127.0.0.1:0', p.clock, p.logger, p.metrics, transportOptions('leader'));
  return {
    name: sealed ? 'raft (sealed)' : 'raft',
    address: t.localAddress,
    net: p.net,
    metrics: p.metrics,
    counted: sealed ? SEALED_REFUSALS : STREAM_REFUSALS,
    close: () => t.close(),
  };
}

async function swim(): Promise<Target> {
  const p = ports('swim');
  const config = swimConfig('lan');
  assert.ok(config.ok);
  const ml = await Memberlist.start(
    { clock: p.clock, random: p.random, datagram: new NodeDatagramNetwork({ logger: p.logger, metrics: p.metrics }), stream: p.net, logger: p.logger, metrics: p.metrics },
    { name: 'n1', bind: '127.0.0.1:0', config: config.value },
  );
  assert.ok(ml.ok);
  return { name: 'swim push-pull', address: ml.value.address, net: p.net, metrics: p.metrics, counted: STREAM_REFUSALS, close: () => ml.value.shutdown() };
}

async function rpc(): Promise<Target> {
  const p = ports('rpc');
  const l = await p.net.listen('127.0.0.1:0', RPC_LISTEN_OPTIONS);
  l.onConnection((c) => serveForwarded(c, () => Promise.resolve({ ok: false, code: 'not-leader', error: 'not leader' }), () => undefined));
  return { name: 'rpc', address: l.address, net: p.net, metrics: p.metrics, counted: STREAM_REFUSALS, close: () => l.close() };
}

async function sum(metrics: Registry, counted: Target['counted']): Promise<number> {
  let n = 0;
  for (const c of counted) {
    const v = await metrics.getSingleMetric(c.metric)?.get();
    n += (v?.values ?? []).filter((x) => Object.entries(c.labels).every(([k, l]) => x.labels[k] === l)).reduce((s, x) => s + x.value, 0);
  }
  return n;
}

/** Open the connections, send each a 16 MiB header and half the body; resolve with how many the server closed. */
async function halfSend(address: string, waitMs: number): Promise<{ closed: number; sockets: Socket[] }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  let closed = 0;
  const sockets = Array.from({ length: CONNECTIONS }, () => {
    const s = connect({ host, port });
    s.on('error', () => undefined);
    s.on('close', () => closed++);
    s.on('connect', () => {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(ANNOUNCED, 0);
      s.write(header);
      s.write(HALF);
    });
    return s;
  });
  const deadline = Date.now() + waitMs;
  while (closed < CONNECTIONS && Date.now() < deadline) await sleep(20);
  return { closed, sockets };
}

test(`${CONNECTIONS} half-sent 16 MiB frames at every listener between nodes: refused unread, closed, counted; RSS bounded`, async () => {
  const targets = [await raft(false), await raft(true), await swim(), await rpc()];
  const rss0 = process.memoryUsage().rss;
  const lines: string[] = [];
  try {
    for (const t of targets) {
      const before = process.memoryUsage().rss;
      const { closed, sockets } = await halfSend(t.address, 8000);
      const buffered = t.net.receiveBuffered;
      const after = process.memoryUsage().rss;
      for (const s of sockets) s.destroy();
      const refused = await sum(t.metrics, t.counted);
      lines.push(`${t.name.padEnd(15)} closed ${closed}/${CONNECTIONS}  refused ${refused}  buffered ${MiB(buffered ?? NaN)}  rss ${MiB(before)} -> ${MiB(after)}`);
      assert.equal(closed, CONNECTIONS, `${t.name}: every connection is closed by the server (${lines.at(-1)})`);
      assert.equal(refused, CONNECTIONS, `${t.name}: every refusal is counted in ${t.counted.map((c) => c.metric).join(' + ')}`);
      assert.equal(buffered, 0, `${t.name}: nothing of the announced frames is held`);
    }
  } finally {
    for (const t of targets) await t.close();
  }
  const growth = process.memoryUsage().rss - rss0;
  for (const l of lines) console.log(l);
  console.log(`rss growth over the four attacks: ${MiB(growth)} (unbounded: 4 x ${CONNECTIONS} x 8 MiB = 640 MiB)`);
  assert.ok(growth < 96 * 1024 * 1024, `RSS grew by ${MiB(growth)}`);
});
