/**
 * Lease watchdog cost: the compiled watchdog (what production runs: dist/ if `npm run build` made
 * it, else its four modules compiled to a temp dir) with the daemon's V8 flags, measured from
 * /proc while disarmed (idle) and while armed with a renewal every 150 ms (a node holding a lease).
 * RSS counts the node binary's pages, shared with amfd; private is what the watchdog adds.
 *
 * Usage: npx tsx bench/watchdog.bench.ts [--seconds 60]
 * Last line: watchdog rss_mb=… private_mb=… idle_cpu_pct=… armed_cpu_pct=… node_floor_rss_mb=…
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_DEFAULTS } from '../src/cluster/options.js';
import { WATCHDOG_ARG } from '../src/daemon/watchdog-protocol.js';
import { WATCHDOG_V8_FLAGS } from '../src/daemon/watchdog.js';

const ROOT = new URL('..', import.meta.url).pathname;
const secArg = process.argv.indexOf('--seconds');
const SECONDS = secArg > 0 ? Number(process.argv[secArg + 1]) : 60;
const TICK_MS = 1000 / 100; // USER_HZ: /proc times are in 1/100 s
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function compiled(): { main: string; cleanup: () => void } {
  const dist = join(ROOT, 'dist/src/daemon/watchdog-main.js');
  if (existsSync(dist)) return { main: dist, cleanup: () => undefined };
  const out = mkdtempSync(join(tmpdir(), 'amfd-wd-bench-'));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '--outDir', out, '--rootDir', ROOT, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--strict', '--skipLibCheck', '--types', 'node', join(ROOT, 'src/daemon/watchdog-main.ts')], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc failed: ${tsc.stdout}${tsc.stderr}`);
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  return { main: join(out, 'src/daemon/watchdog-main.js'), cleanup: () => rmSync(out, { recursive: true, force: true }) };
}

function memory(pid: number): { rss: number; priv: number } {
  const roll = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(roll)?.[1] ?? NaN);
  return { rss: kb('Rss') / 1024, priv: (kb('Private_Clean') + kb('Private_Dirty')) / 1024 };
}

function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

async function cpuPct(p: ChildProcess, ms: number): Promise<number> {
  const c0 = cpuMs(p.pid!);
  await sleep(ms);
  return ((cpuMs(p.pid!) - c0) / ms) * 100;
}

const { main, cleanup } = compiled();
const dog = spawn(process.execPath, [...WATCHDOG_V8_FLAGS, main, WATCHDOG_ARG, 'bench'], { stdio: ['pipe', 'ignore', 'inherit'] });
const floor = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
try {
  dog.stdin!.write('owner bench@/nonexistent\n');
  await sleep(1000);
  const idleCpu = await cpuPct(dog, (SECONDS * 1000) / 2);
  const idle = memory(dog.pid!);
  // As amfd arms it: a default lease from now, renewed at the default renew interval.
  const { leaseMs, renewIntervalMs } = CLUSTER_DEFAULTS;
  const renew = setInterval(() => dog.stdin!.write(`arm ${process.hrtime.bigint() + BigInt(leaseMs) * 1_000_000n}\n`), renewIntervalMs);
  const armedCpu = await cpuPct(dog, (SECONDS * 1000) / 2);
  const armed = memory(dog.pid!);
  clearInterval(renew);
  const base = memory(floor.pid!);
  console.log(`idle: rss ${idle.rss.toFixed(1)} MB (private ${idle.priv.toFixed(1)} MB); armed, renewed every ${renewIntervalMs} ms: rss ${armed.rss.toFixed(1)} MB (private ${armed.priv.toFixed(1)} MB)`);
  console.log(`a bare node process: rss ${base.rss.toFixed(1)} MB (private ${base.priv.toFixed(1)} MB)`);
  console.log(
    `watchdog rss_mb=${Math.max(idle.rss, armed.rss).toFixed(1)} private_mb=${Math.max(idle.priv, armed.priv).toFixed(1)} idle_cpu_pct=${idleCpu.toFixed(2)} armed_cpu_pct=${armedCpu.toFixed(2)} node_floor_rss_mb=${base.rss.toFixed(1)}`,
  );
} finally {
  dog.stdin!.end('disarm\n');
  floor.kill('SIGKILL');
  cleanup();
}
