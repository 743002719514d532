/**
 * bench:servergroup (docs/server-groups.md §Figures). Three real amfd on loopback, each hosting
 * one member whose guest is a real `amf-sg-agent --listen` (QEMU's place); the applications are
 * client-library connections in this process, so send and receive times share one clock.
 *
 * 1. Latency: 1000 broadcasts of 3050 bytes from the member on n1, one at a time (the next once
 *    both others got it, or after 1 s), each timed to its arrival at the members on n2 and n3.
 * 2. Delivered fraction: all three members broadcast together at 1000 messages/s in total for
 *    SG_BENCH_SECONDS (default 10); every message should reach the two others.
 *
 * The group's rate limit is raised for the bench (broadcast_rate/burst 2000): the default 100/s
 * per member would refuse most of phase 2, by design.
 *
 * Last line: servergroup bcast_p50_ms=… bcast_p99_ms=… delivered_pct=…
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalCluster } from '../scripts/local-cluster.js';
import { createLogger } from '../src/runtime/observability.js';
import { NodeChannelNetwork } from '../src/runtime/node/channel.js';
import { NodeClock } from '../src/runtime/node/clock.js';
import { ServerGroupClient } from '../src/servergroup/client.js';
import { channelUp, hostAgentsConf } from '../test/servergroup/cluster-scenario.js';
import { sleep } from '../test/e2e/harness.js';
import { percentile } from './harness.js';

const GROUP = 'bench';
const SIZE = 3050;
const LATENCY_MESSAGES = Number(process.env['SG_BENCH_MESSAGES'] ?? 1000);
const RATE = 1000;
const SECONDS = Number(process.env['SG_BENCH_SECONDS'] ?? 10);

/** `<phase> <sender> <seq> ` padded to SIZE bytes (no character JSON must escape). */
function message(phase: string, sender: number, seq: number): string {
  const head = `${phase} ${sender} ${seq} `;
  return head + 'x'.repeat(SIZE - head.length);
}

const dir = mkdtempSync(join(tmpdir(), 'amfd-sgbench-'));
writeFileSync(join(dir, 'groups.conf'), hostAgentsConf(dir, GROUP, { rate: 2000, burst: 2000 }));
const cluster = await LocalCluster.prepare({ workDir: dir, nodes: 3, groupsConf: join(dir, 'groups.conf'), logLevel: 'warn' });
const clients: ServerGroupClient[] = [];
try {
  cluster.startAll();
  const t0 = performance.now();
  for (const i of [1, 2, 3]) await channelUp(cluster, `n${i}`, GROUP, `instance-${i}`);
  process.stdout.write(`cluster and members up in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  /** `phase sender seq` → receivers that got it, with the arrival time. */
  const got = new Map<string, number[]>();
  const logger = createLogger({ node: 'bench', level: 'silent' });
  for (const i of [1, 2, 3]) {
    const c = await ServerGroupClient.init(
      {
        broadcast: (_from, msg) => {
          const key = msg.slice(0, msg.indexOf(' ', msg.indexOf(' ', msg.indexOf(' ') + 1) + 1));
          const list = got.get(key) ?? [];
          list.push(performance.now());
          got.set(key, list);
        },
      },
      { channels: new NodeChannelNetwork(logger), clock: new NodeClock(), socketPath: join(dir, `sg${i}.app`) },
    );
    if (!c.ok) throw new Error(`member ${i}: ${c.error}`);
    clients.push(c.value);
  }
  const [c1] = clients;
  if (!c1) throw new Error('no client');

  // 1. Latency, one message at a time.
  const latencies: number[] = [];
  let lost = 0;
  for (let seq = 0; seq < LATENCY_MESSAGES; seq++) {
    const key = `L 1 ${seq}`;
    const sent = performance.now();
    const r = c1.broadcast(message('L', 1, seq));
    if (!r.ok) throw new Error(`broadcast: ${r.error}`);
    while ((got.get(key)?.length ?? 0) < 2 && performance.now() - sent < 1000) await sleep(0.2);
    const arrivals = got.get(key) ?? [];
    lost += 2 - arrivals.length;
    for (const a of arrivals) latencies.push(a - sent);
  }
  latencies.sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  process.stdout.write(`latency: ${latencies.length} deliveries of ${LATENCY_MESSAGES} x 2, lost ${lost}, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${latencies.at(-1)?.toFixed(2)} ms\n`);

  // 2. Delivered fraction at RATE messages/s in total, from all three members.
  const start = performance.now();
  let sent = 0;
  const refused: string[] = [];
  while (sent < RATE * SECONDS) {
    const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - start) / 1000) * RATE));
    for (; sent < due; sent++) {
      const sender = (sent % 3) + 1;
      const r = clients[sender - 1]?.broadcast(message('T', sender, sent));
      if (r && !r.ok) refused.push(r.error);
    }
    await sleep(2);
  }
  const sendSeconds = (performance.now() - start) / 1000;
  await sleep(2000); // stragglers
  let delivered = 0;
  for (const [key, list] of got) if (key.startsWith('T ')) delivered += list.length;
  const expected = RATE * SECONDS * 2;
  const pct = (100 * delivered) / expected;
  process.stdout.write(`throughput: ${sent} messages in ${sendSeconds.toFixed(2)} s (${(sent / sendSeconds).toFixed(0)}/s), ${delivered} of ${expected} deliveries${refused.length > 0 ? `, ${refused.length} refused by the client (${refused[0]})` : ''}\n`);
  process.stdout.write(`servergroup bcast_p50_ms=${p50.toFixed(2)} bcast_p99_ms=${p99.toFixed(2)} delivered_pct=${pct.toFixed(2)}\n`);
} finally {
  for (const c of clients) c.close();
  await cluster.stop();
  const left = cluster.strays();
  if (left.length > 0) process.stderr.write(`bench:servergroup: processes left: ${left.join(' ')}\n`);
  if (process.env['SG_BENCH_KEEP'] === '1') process.stderr.write(`bench:servergroup: work dir kept at ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}
