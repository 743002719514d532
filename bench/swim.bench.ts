/**
 * `npm run bench:swim`: 5 real amfd-style SWIM processes on loopback at the lan-fast profile
 * (encrypted). Per trial: start a fresh cluster, wait until everyone sees everyone, SIGKILL one
 * member and time until every survivor declares it dead (wall clock, one host, so the children's
 * timestamps and the kill time share a clock). The first trial also measures idle CPU and RSS of
 * the members over 10 s. Last line:
 *   swim detect_median_ms=… detect_max_ms=… idle_cpu_pct=… rss_mb=…
 *
 * The same file is the member process (`--member <name> [seed address]`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createMetricsRegistry } from '../src/runtime/observability.js';
import { NodeClock, NodeDatagramNetwork, NodeStreamNetwork, createNodeRandom } from '../src/runtime/node/index.js';
import { swimConfig } from '../src/swim/config.js';
import { Memberlist } from '../src/swim/memberlist.js';

const MEMBERS = 5;
const TRIALS = 5;
const IDLE_WINDOW_MS = 10_000;
const KEY = new Uint8Array(32).fill(7);

type Report =
  | { readonly kind: 'up'; readonly address: string }
  | { readonly kind: 'live'; readonly n: number }
  | { readonly kind: 'dead'; readonly member: string; readonly t: number }
  | { readonly kind: 'usage'; readonly cpuMs: number; readonly t: number; readonly rss: number };

async function member(name: string, seed: string | undefined): Promise<void> {
  const logger = pino({ level: 'silent' });
  const metrics = createMetricsRegistry(name);
  const config = swimConfig('lan-fast');
  if (!config.ok) throw new Error(config.error);
  const r = await Memberlist.start(
    {
      clock: new NodeClock(),
      random: createNodeRandom(),
      datagram: new NodeDatagramNetwork({ logger, metrics }),
      stream: new NodeStreamNetwork({ logger, metrics }),
      logger,
      metrics,
    },
    { name, bind: '127.0.0.1:0', config: config.value, keys: [KEY] },
  );
  if (!r.ok) throw new Error(r.error);
  const ml = r.value;
  const say = (rep: Report) => process.stdout.write(`${JSON.stringify(rep)}\n`);
  let live = 0;
  ml.onEvent((e) => {
    if (e.kind === 'dead') say({ kind: 'dead', member: e.member.name, t: Date.now() });
    if (ml.liveCount() !== live) say({ kind: 'live', n: (live = ml.liveCount()) });
  });
  say({ kind: 'up', address: ml.address });
  if (seed) await ml.join([seed]);
  setInterval(() => {
    const u = process.cpuUsage();
    say({ kind: 'usage', cpuMs: (u.user + u.system) / 1000, t: Date.now(), rss: process.memoryUsage().rss });
  }, 1000);
}

interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly reports: Report[];
  address?: string;
  live: number;
}

function startMember(name: string, seed?: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname, '--member', name, ...(seed ? [seed] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const c: Child = { name, proc, reports: [], live: 0 };
  createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const rep = JSON.parse(line) as Report;
    c.reports.push(rep);
    if (rep.kind === 'up') c.address = rep.address;
    if (rep.kind === 'live') c.live = rep.n;
  });
  return c;
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function trial(k: number, measureIdle: boolean): Promise<{ detect: number[]; idleCpuPct?: number; rssMb?: number }> {
  const seed = startMember('m0');
  await until(() => seed.address !== undefined, 30_000, 'the seed member');
  const kids = [seed, ...Array.from({ length: MEMBERS - 1 }, (_, i) => startMember(`m${i + 1}`, seed.address))];
  try {
    await until(() => kids.every((c) => c.live === MEMBERS), 30_000, 'the cluster to converge');
    let idleCpuPct: number | undefined;
    let rssMb: number | undefined;
    if (measureIdle) {
      await sleep(2000);
      const first = kids.map((c) => c.reports.filter((r) => r.kind === 'usage').at(-1));
      await sleep(IDLE_WINDOW_MS);
      const last = kids.map((c) => c.reports.filter((r) => r.kind === 'usage').at(-1));
      const pct = kids.map((_, i) => {
        const a = first[i];
        const b = last[i];
        return a?.kind === 'usage' && b?.kind === 'usage' && b.t > a.t ? ((b.cpuMs - a.cpuMs) / (b.t - a.t)) * 100 : NaN;
      });
      idleCpuPct = pct.reduce((s, x) => s + x, 0) / pct.length;
      rssMb = Math.max(...last.map((r) => (r?.kind === 'usage' ? r.rss / 2 ** 20 : NaN)));
    }
    const victim = kids[1 + (k % (MEMBERS - 1))] as Child;
    const survivors = kids.filter((c) => c !== victim);
    const falseDead = kids.reduce((n, c) => n + c.reports.filter((r) => r.kind === 'dead').length, 0);
    const killedAt = Date.now();
    victim.proc.kill('SIGKILL');
    const deadAt = (c: Child) => c.reports.find((r) => r.kind === 'dead' && r.member === victim.name && r.t >= killedAt);
    await until(() => survivors.every((c) => deadAt(c) !== undefined), 60_000, `every survivor to declare ${victim.name} dead`);
    const detect = survivors.map((c) => {
      const r = deadAt(c);
      return r?.kind === 'dead' ? r.t - killedAt : NaN;
    });
    console.log(`trial ${k + 1}: false dead before the kill: ${falseDead}; SIGKILL ${victim.name}; dead at every survivor after ${detect.map((d) => `${d} ms`).join(', ')}`);
    return { detect, ...(idleCpuPct === undefined ? {} : { idleCpuPct }), ...(rssMb === undefined ? {} : { rssMb }) };
  } finally {
    for (const c of kids) c.proc.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  // Per trial the figure is the time until EVERY survivor marks the victim dead (the slowest one).
  const perTrial: number[] = [];
  let idle = NaN;
  let rss = NaN;
  for (let k = 0; k < TRIALS; k++) {
    const r = await trial(k, k === 0);
    perTrial.push(Math.max(...r.detect));
    if (r.idleCpuPct !== undefined) idle = r.idleCpuPct;
    if (r.rssMb !== undefined) rss = r.rssMb;
  }
  perTrial.sort((a, b) => a - b);
  const median = perTrial[Math.floor((perTrial.length - 1) / 2)] ?? NaN;
  const max = perTrial.at(-1) ?? NaN;
  console.log(
    `${MEMBERS} members on loopback, lan-fast, AES-256-GCM; ${TRIALS} trials, each timed until every survivor marked the victim dead ` +
      `(${perTrial.map((d) => `${d} ms`).join(', ')}); idle CPU per member over ${IDLE_WINDOW_MS / 1000} s, max RSS of a member`,
  );
  console.log(`swim detect_median_ms=${median} detect_max_ms=${max} idle_cpu_pct=${idle.toFixed(2)} rss_mb=${rss.toFixed(1)}`);
}

const i = process.argv.indexOf('--member');
if (i >= 0) await member(process.argv[i + 1] as string, process.argv[i + 2]);
else await main();
