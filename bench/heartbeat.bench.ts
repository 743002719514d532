/**
 * bench:heartbeat (docs/guest-heartbeat.md §Figures).
 *
 * 1. Detection of a frozen guest at HB_INTERVAL=1000: real bin/amf-guest processes behind
 *    ChannelRelay (QEMU's part), the host side (HostGuestChannel) in this process. Each trial
 *    waits a random fraction of an interval, SIGSTOPs the guest and times the loss from the first
 *    challenge the frozen guest did not answer (the floor is 2 intervals: one miss, then the loss);
 *    the time from the SIGSTOP itself is printed too (it adds where in the interval the freeze
 *    fell). 20 trials on 4 guests, 5 rounds.
 * 2. Host CPU with 500 simulated guests heartbeating at 1 s: the host side in a process of its own
 *    (bench/heartbeat-host.ts), the guests as lightweight sockets (test/heartbeat/sim-guest.ts, the
 *    real GuestHeartbeatFsm) in this one; CPU time of the host process over 20 s, in % of one core.
 *
 * Last line: heartbeat detect_p50_ms=… detect_p99_ms=… cpu_pct_500_guests=…
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { NodeChannelNetwork } from '../src/runtime/node/channel.js';
import { NodeClock, createNodeRandom } from '../src/runtime/node/index.js';
import { HostGuestChannel, type ChannelEvent } from '../src/heartbeat/host-channel.js';
import { GUEST_DEFAULTS } from '../src/heartbeat/guest-config.js';
import { ChannelRelay } from '../test/heartbeat/relay.js';
import { SimGuest } from '../test/heartbeat/sim-guest.js';
import { percentile } from './harness.js';

const ROOT = join(import.meta.dirname, '..');
const INTERVAL = 1000;
const GUESTS = Number(process.env.HB_BENCH_GUESTS ?? 500);
const CPU_WINDOW_MS = Number(process.env.HB_BENCH_CPU_MS ?? 20_000);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Rig {
  readonly relay: ChannelRelay;
  readonly proc: ChildProcess;
  readonly channel: HostGuestChannel;
  readonly events: Array<{ readonly at: number; readonly e: ChannelEvent }>;
  /** When the host sent each challenge, by the time it reached the relay. */
  readonly challenges: number[];
}

async function rig(dir: string, i: number): Promise<Rig> {
  const relay = new ChannelRelay(join(dir, `h${i}.sock`), join(dir, `g${i}.sock`));
  await relay.start();
  const challenges: number[] = [];
  relay.tap = (from, chunk) => {
    if (from === 'host' && chunk.includes('"msg_type":"challenge"')) challenges.push(performance.now());
  };
  const conf = join(dir, `g${i}.conf`);
  writeFileSync(conf, `HB_INTERVAL=${INTERVAL}\nHB_MIN_TIMEOUT=2000\nCORRECTIVE_ACTION="log"\n`);
  const proc = spawn(process.execPath, [join(ROOT, 'bin', 'amf-guest.js'), '--config', conf, '--device', relay.guestPath, '--api-socket', 'none', '--name', `bench-${i}`, '--log-level', 'warn'], { cwd: ROOT, stdio: 'ignore' });
  const silent = pino({ level: 'silent' });
  const channel = new HostGuestChannel({ id: `g${i}`, path: relay.hostPath, channels: new NodeChannelNetwork(silent), clock: new NodeClock(), random: createNodeRandom(), logger: silent });
  const events: Rig['events'] = [];
  channel.onEvent((e) => events.push({ at: performance.now(), e }));
  channel.start();
  return { relay, proc, channel, events, challenges };
}

async function trial(r: Rig): Promise<{ detect: number; fromFreeze: number }> {
  await until('enabled', () => r.channel.status === 'enabled');
  const n = r.challenges.length;
  await until('two challenges answered', () => r.challenges.length >= n + 2 && r.channel.status === 'enabled');
  await sleep(Math.random() * INTERVAL);
  const frozenAt = performance.now();
  const since = r.events.length;
  process.kill(r.proc.pid!, 'SIGSTOP');
  await until('loss', () => r.events.slice(since).some((x) => x.e.kind === 'loss'), 30_000);
  const loss = r.events.slice(since).find((x) => x.e.kind === 'loss')!;
  // The first challenge the frozen guest could not answer: the first one sent after the freeze.
  const first = r.challenges.find((t) => t >= frozenAt) ?? frozenAt;
  process.kill(r.proc.pid!, 'SIGCONT');
  return { detect: loss.at - first, fromFreeze: loss.at - frozenAt };
}

async function detection(dir: string): Promise<{ detect: number[]; fromFreeze: number[] }> {
  const rigs = await Promise.all([0, 1, 2, 3].map((i) => rig(dir, i)));
  const detect: number[] = [];
  const fromFreeze: number[] = [];
  try {
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(rigs.map((r) => trial(r)));
      for (const x of results) {
        detect.push(x.detect);
        fromFreeze.push(x.fromFreeze);
      }
      console.log(`# round ${round + 1}: detect ${results.map((x) => x.detect.toFixed(0)).join(' ')} ms (from the freeze ${results.map((x) => x.fromFreeze.toFixed(0)).join(' ')} ms)`);
    }
  } finally {
    for (const r of rigs) {
      r.channel.stop();
      r.proc.kill('SIGKILL');
      await r.relay.stop();
    }
  }
  return { detect, fromFreeze };
}

async function cpu(dir: string): Promise<{ pct: number; losses: number; misses: number }> {
  const guests = Array.from({ length: GUESTS }, (_, i) => new SimGuest(join(dir, `s${i}.sock`), { ...GUEST_DEFAULTS, heartbeatIntervalMs: INTERVAL }, i + 1));
  await Promise.all(guests.map((g) => g.start()));
  const list = join(dir, 'guests.txt');
  writeFileSync(list, guests.map((g) => g.path).join('\n'));
  const host = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'heartbeat-host.ts'), list], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  createInterface({ input: host.stdout! }).on('line', (l) => lines.push(l));
  try {
    await until(`${GUESTS} guests enabled`, () => lines.includes('ready'), 180_000);
    // Let the connection burst settle before measuring.
    await sleep(3000);
    host.stdin!.write(`measure ${CPU_WINDOW_MS}\n`);
    await until('the measurement', () => lines.some((l) => l.startsWith('{')), CPU_WINDOW_MS + 30_000);
    const m = JSON.parse(lines.find((l) => l.startsWith('{'))!) as { cpuMs: number; wallMs: number; losses: number; misses: number };
    return { pct: (100 * m.cpuMs) / m.wallMs, losses: m.losses, misses: m.misses };
  } finally {
    host.stdin!.end();
    host.kill('SIGKILL');
    await Promise.all(guests.map((g) => g.stop()));
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-hb-'));
try {
  const d = await detection(dir);
  const sd = [...d.detect].sort((a, b) => a - b);
  const sf = [...d.fromFreeze].sort((a, b) => a - b);
  console.log(`frozen guest at HB_INTERVAL=${INTERVAL}: from the first unanswered challenge p50 ${percentile(sd, 50).toFixed(0)} ms p99 ${percentile(sd, 99).toFixed(0)} ms (floor ${2 * INTERVAL}); from the SIGSTOP p50 ${percentile(sf, 50).toFixed(0)} ms p99 ${percentile(sf, 99).toFixed(0)} ms; ${sd.length} trials`);
  const c = await cpu(dir);
  console.log(`host CPU with ${GUESTS} guests at ${INTERVAL} ms: ${c.pct.toFixed(2)} % of one core over ${CPU_WINDOW_MS} ms (misses ${c.misses}, losses ${c.losses})`);
  console.log(`heartbeat detect_p50_ms=${percentile(sd, 50).toFixed(0)} detect_p99_ms=${percentile(sd, 99).toFixed(0)} cpu_pct_500_guests=${c.pct.toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
