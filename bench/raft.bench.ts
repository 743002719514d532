/**
 * `npm run bench:raft`: 3 Raft server processes on loopback (bench/raft-node.ts: LMDB with fsync,
 * TCP transport), 1 KiB KV writes from this process.
 *   - sequential apply latency (one request in flight): p50 / p99;
 *   - throughput with 1, 16 and 64 requests in flight;
 *   - leader SIGKILL → next successful apply, 5 trials (median / min / max), the victim restarted
 *     and caught up between trials;
 *   - RSS of each server.
 * Last line: raft seq_p50_ms=… seq_p99_ms=… tput64_ops=… failover_median_ms=… rss_mb=…
 */
import { ProcCluster, sleep, type ProcNode } from './raft-cluster.js';

const VALUE = 'x'.repeat(1000);
const SEQ_OPS = 2000;
const TPUT_MS = 3000;
const TRIALS = 5;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const cluster = new ProcCluster(3);
let seq = 0;
const value = (): string => `${++seq}:${VALUE}`.slice(0, 1024);

async function write(n: ProcNode, timeoutMs = 2000): Promise<{ ok: boolean; leader?: string }> {
  const c = await cluster.client(n);
  if (!c) return { ok: false };
  const r = await c.call({ f: 'write', key: `k${seq % 64}`, value: value() }, timeoutMs);
  if (!r) return { ok: false };
  if (r.ok) return { ok: true };
  return { ok: false, leader: r.error.kind === 'notLeader' ? r.error.leader?.id : undefined };
}

async function sequential(leader: ProcNode): Promise<number[]> {
  for (let i = 0; i < 200; i++) await write(leader); // warm-up
  const lat: number[] = [];
  for (let i = 0; i < SEQ_OPS; i++) {
    const t = cluster.clock.now();
    const r = await write(leader);
    if (!r.ok) throw new Error('write failed during the sequential run');
    lat.push(cluster.clock.now() - t);
  }
  return lat.sort((a, b) => a - b);
}

async function throughput(leader: ProcNode, inFlight: number): Promise<number> {
  const end = cluster.clock.now() + TPUT_MS;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (cluster.clock.now() < end) if ((await write(leader)).ok) done++;
  };
  const t0 = cluster.clock.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done / ((cluster.clock.now() - t0) / 1000);
}

/** Kill the leader; time until a write succeeds anywhere (following notLeader hints). */
async function failover(): Promise<number> {
  const leader = await cluster.waitForLeader(10_000);
  for (let i = 0; i < 20; i++) await write(leader);
  const others = cluster.nodes.filter((n) => n !== leader);
  const t0 = cluster.clock.now();
  cluster.kill(leader);
  let target: ProcNode = others[0]!;
  for (;;) {
    const r = await write(target, 300);
    if (r.ok) break;
    const hinted = others.find((n) => n.id === r.leader);
    target = hinted ?? others[(others.indexOf(target) + 1) % others.length]!;
    if (!hinted) await sleep(5);
  }
  const ms = cluster.clock.now() - t0;
  await cluster.spawn(leader);
  // Let the restarted node catch up before the next trial.
  const want = (await (await cluster.client(target))!.status(1000))!.applied;
  for (let i = 0; i < 200; i++) {
    const s = await (await cluster.client(leader))?.status(500);
    if (s && s.applied >= want) break;
    await sleep(25);
  }
  return ms;
}

try {
  await cluster.start();
  let leader = await cluster.waitForLeader(10_000);
  const lat = await sequential(leader);
  const p50 = pct(lat, 50);
  const p99 = pct(lat, 99);
  console.log(`sequential: ${SEQ_OPS} writes of 1 KiB, p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, max ${lat[lat.length - 1]!.toFixed(3)} ms`);
  const tput: Record<number, number> = {};
  for (const k of [1, 16, 64]) {
    leader = await cluster.waitForLeader(10_000);
    tput[k] = await throughput(leader, k);
    console.log(`throughput: ${k} in flight, ${tput[k]!.toFixed(0)} ops/s`);
  }
  const rss = await Promise.all(cluster.nodes.map(async (n) => ((await (await cluster.client(n))?.status(1000))?.rssBytes ?? 0) / 2 ** 20));
  console.log(`rss per node (MiB): ${rss.map((r) => r.toFixed(1)).join(' ')}`);
  const fo: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    fo.push(await failover());
    console.log(`failover trial ${i + 1}: ${fo[i]!.toFixed(0)} ms`);
  }
  const sorted = [...fo].sort((a, b) => a - b);
  console.log(`failover: median ${pct(sorted, 50).toFixed(0)} ms, min ${sorted[0]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms`);
  const rssMax = Math.max(...rss);
  console.log(
    `raft seq_p50_ms=${p50.toFixed(2)} seq_p99_ms=${p99.toFixed(2)} tput64_ops=${tput[64]!.toFixed(0)} failover_median_ms=${pct(sorted, 50).toFixed(0)} rss_mb=${rssMax.toFixed(0)}`,
  );
} finally {
  await cluster.stop();
}
