/**
 * The host side of bench:heartbeat's CPU figure, in a process of its own so that its CPU time is
 * the host's alone: one HostGuestChannel per socket path listed in argv[2] (one per line). Prints
 * `enabled N` as guests come up and `ready` once all are; on a stdin line `measure MS` it prints
 * one JSON line with its CPU time over the next MS milliseconds and the losses and misses seen.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { NodeChannelNetwork } from '../src/runtime/node/channel.js';
import { NodeClock, createNodeRandom } from '../src/runtime/node/index.js';
import { HostGuestChannel } from '../src/heartbeat/host-channel.js';

const paths = readFileSync(process.argv[2] ?? '', 'utf8').split('\n').filter((p) => p !== '');
const logger = pino({ level: 'warn' }, pino.destination(2));
const network = new NodeChannelNetwork(logger);
const clock = new NodeClock();
const random = createNodeRandom();
let enabled = 0;
let losses = 0;
let misses = 0;
let lastPrinted = -1;
const keepAlive = setInterval(() => {
  if (enabled !== lastPrinted) {
    lastPrinted = enabled;
    process.stdout.write(enabled === paths.length ? 'ready\n' : `enabled ${enabled}\n`);
  }
}, 200);
for (const path of paths) {
  const ch = new HostGuestChannel({ id: path, path, channels: network, clock, random: random.fork(path), logger });
  ch.onEvent((e) => {
    if (e.kind !== 'status') return;
    if (e.to === 'enabled' && e.from !== 'missed' && e.from !== 'unhealthy') enabled++;
    if (e.from === 'enabled' && e.to !== 'missed' && e.to !== 'unhealthy') enabled--;
    if (e.to === 'missed') misses++;
    if (e.to === 'lost') losses++;
  });
  ch.start();
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const m = /^measure (\d+)$/.exec(line);
  if (!m) return;
  const ms = Number(m[1]);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const l0 = losses;
  const m0 = misses;
  setTimeout(() => {
    const c = process.cpuUsage(c0);
    process.stdout.write(`${JSON.stringify({ cpuMs: (c.user + c.system) / 1000, wallMs: performance.now() - t0, losses: losses - l0, misses: misses - m0, guests: paths.length })}\n`);
  }, ms);
});
process.stdin.on('end', () => {
  clearInterval(keepAlive);
  process.exit(0);
});
