/**
 * bench:cluster — real amfd processes on 127.0.0.1 (3 nodes, the e2e groups.conf of sample-worker
 * components: N+M web-a/web-b and 2N db-main). Wall-clock figures, polled through the HTTP API
 * every 20 ms (so each includes up to one poll period):
 * - cold_start: spawning the three amfd processes → every SI ACTIVE (as the leader reports); also
 *   printed: the part after every process's API answers (module loading excluded);
 * - comp_failover: kill -9 of the component holding db-main ACTIVE → db-main ACTIVE again
 *   (component-failover recovery: the standby SU takes it);
 * - node_failover (two per trial): kill -9 of an amfd holding an ACTIVE SI → every SI ACTIVE on
 *   the survivors (bounded below by the lease, 1200 ms + 100 ms margin);
 * - leader_failover: kill -9 of the Raft leader → a survivor reports a new leader;
 * - rss: resident memory of each idle amfd 3 s after formation, every trial (/proc/<pid>/status
 *   VmRSS; rss_mb is the largest). Also printed: the RSS of each amfd's lease watchdog child, and
 *   the node's whole footprint: amfd's RSS + the watchdog's private memory (most of the watchdog's
 *   RSS is node's own binary, which amfd has mapped too).
 * Usage: npm run bench:cluster [-- --trials N] [--no-build] (default 5 trials, at least 5).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster, ROOT } from '../scripts/local-cluster.js';
import { WATCHDOG_ARG } from '../src/daemon/watchdog-protocol.js';
import { actives, allActiveOn, componentPid, groupsOn, leaderOf, sleep, testGroupsConf, waitFor } from '../test/e2e/harness.js';

const NODES = ['n1', 'n2', 'n3'];
const i = process.argv.indexOf('--trials');
const TRIALS = Math.max(5, i >= 0 ? Number(process.argv[i + 1]) : 5);

const say = (s: string): void => void process.stdout.write(`${s}\n`);

// amfd compiled with tsc, as deployed (through tsx every process would first transpile the tree:
// seconds of CPU per start on a small host). Built outside dist/ so the tree's other bin/ scripts
// keep running the sources; under node_modules so the built files resolve the dependencies.
const BUILD = join(ROOT, 'node_modules/.cache/amfd-bench');
if (!process.argv.includes('--no-build')) {
  say('building amfd with tsc…');
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', BUILD], { cwd: ROOT, stdio: 'ignore' });
  } catch {
    // Type errors elsewhere in the tree still emit JavaScript; a missing entry is checked below.
  }
}
const ENTRY = join(BUILD, 'src/daemon/main.js');
readFileSync(ENTRY);
const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const round = (x: number): number => Math.round(x);

/** The db component recovers by component failover (the standby SU takes the SI). */
function benchConf(): string {
  return testGroupsConf().replace(/(\tunit \{\n\t\tname = db\d\n(?:.*\n)*?\t\t\tcommand = [^\n]*\n)/g, '$1\t\t\trecovery_on_error = component-failover\n');
}

async function withCluster<T>(fn: (c: LocalCluster) => Promise<T>): Promise<T> {
  const workDir = mkdtempSync(join(tmpdir(), 'amfd-bench-'));
  writeFileSync(join(workDir, 'groups.conf'), benchConf());
  const c = await LocalCluster.prepare({ workDir, nodes: 3, groupsConf: join(workDir, 'groups.conf'), logLevel: 'warn', entry: ENTRY });
  try {
    return await fn(c);
  } finally {
    await c.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A /proc figure in MB: `field` (kB) of /proc/<pid>/<file>; NaN when the process is gone. */
function procMb(pid: number | undefined, file: 'status' | 'smaps_rollup', field: string): number {
  if (pid === undefined) return NaN;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The lease watchdog child of an amfd: its child process started with WATCHDOG_ARG. */
function watchdogOf(amfd: number | undefined): number | undefined {
  if (amfd === undefined) return undefined;
  const kids = readdirSync(`/proc/${amfd}/task`).flatMap((t) => readFileSync(`/proc/${amfd}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
  return kids.find((k) => {
    try {
      return readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0').includes(WATCHDOG_ARG);
    } catch {
      return false;
    }
  });
}

async function restart(c: LocalCluster, name: string): Promise<void> {
  c.startNode(name);
  const others = NODES.filter((n) => n !== name);
  await waitFor(`${name} up`, 30_000, async () => {
    const v = await c.get<{ nodes: Array<{ name: string; up: boolean }> }>(others[0]!, '/v1/nodes');
    return v?.nodes.find((x) => x.name === name)?.up ? true : undefined;
  });
  await waitFor('every SI active', 30_000, () => allActiveOn(c, NODES, NODES));
}

const cold: number[] = [];
const formation: number[] = [];
const rss: number[] = [];
const watchdogRss: number[] = [];
const footprint: number[] = [];
const comp: number[] = [];
const nodeFo: number[] = [];
const leaderFo: number[] = [];

for (let t = 0; t < TRIALS; t++) {
  await withCluster(async (c) => {
    const t0 = performance.now();
    c.startAll();
    // When every API answers (the processes have loaded), then every SI active.
    await poll('every API up', async () => ((await Promise.all(NODES.map((n) => c.get(n, '/ping')))).every((x) => x !== undefined) ? true : undefined));
    const tUp = performance.now();
    await poll('every SI active', () => allActiveOn(c, NODES, NODES));
    cold.push(performance.now() - t0);
    formation.push(performance.now() - tUp);
    await sleep(3000);
    for (const n of c.nodes) {
      const pid = n.process?.pid;
      const wd = watchdogOf(pid);
      rss.push(procMb(pid, 'status', 'VmRSS'));
      watchdogRss.push(procMb(wd, 'status', 'VmRSS'));
      footprint.push(procMb(pid, 'status', 'VmRSS') + procMb(wd, 'smaps_rollup', 'Private_Clean') + procMb(wd, 'smaps_rollup', 'Private_Dirty'));
    }
    // Component failover of db-main.
    const placed = await waitFor('placed', 10_000, () => allActiveOn(c, NODES, NODES));
    const g = (await groupsOn(c, placed.get('db-main')!))!;
    const su = actives(g).get('db-main')![0]!.su;
    const pid = componentPid(c, su);
    if (pid !== undefined) {
      const k0 = performance.now();
      process.kill(-pid, 'SIGKILL');
      await poll('db-main active again', async () => {
        const now = await allActiveOn(c, NODES, NODES);
        if (!now) return undefined;
        const gg = await groupsOn(c, now.get('db-main')!);
        const holder = gg && actives(gg).get('db-main')?.[0]?.su;
        const again = componentPid(c, su);
        return holder !== undefined && (holder !== su || (again !== undefined && again !== pid)) ? true : undefined;
      });
      comp.push(performance.now() - k0);
    }
    // Node failover (twice per trial): an amfd holding an ACTIVE SI, not the leader when possible.
    for (let k = 0; k < 2; k++) {
      await waitFor('every SI active', 30_000, () => allActiveOn(c, NODES, NODES));
      const leader = await waitFor('leader', 10_000, () => leaderOf(c, NODES));
      const now = (await allActiveOn(c, NODES, NODES))!;
      const holders = NODES.filter((n) => [...now.values()].includes(n));
      const victim = holders.find((n) => n !== leader) ?? holders[0]!;
      const survivors = NODES.filter((n) => n !== victim);
      const n0 = performance.now();
      c.kill(victim);
      await poll('SIs active on the survivors', () => allActiveOn(c, survivors, survivors));
      nodeFo.push(performance.now() - n0);
      await restart(c, victim);
    }
    // Leader failover.
    const l = await waitFor('leader', 10_000, () => leaderOf(c, NODES));
    const rest = NODES.filter((n) => n !== l);
    const l0 = performance.now();
    c.kill(l);
    await poll('a new leader', async () => {
      const x = await leaderOf(c, rest);
      return x !== undefined && x !== l ? x : undefined;
    });
    leaderFo.push(performance.now() - l0);
  });
  say(`trial ${t + 1}: cold_start_ms=${round(cold.at(-1)!)} (formation after load ${round(formation.at(-1)!)}) comp_failover_ms=${round(comp.at(-1) ?? NaN)} node_failover_ms=${round(nodeFo.at(-1)!)} leader_failover_ms=${round(leaderFo.at(-1)!)}`);
}

const mb = (xs: readonly number[]): string => `${xs.map((x) => x.toFixed(1)).join(' ')} (max ${Math.max(...xs).toFixed(1)})`;
say(`rss per node (MB): ${mb(rss)}`);
say(`watchdog rss per node (MB): ${mb(watchdogRss)}`);
say(`footprint per node, amfd rss + watchdog private (MB): ${mb(footprint)}`);
say(`node_failover samples (ms): ${nodeFo.map(round).join(' ')}`);
say(`formation after every process answers (ms): p50 ${round(pct(formation, 50))}, max ${round(Math.max(...formation))}`);
say(
  `cluster cold_start_ms=${round(pct(cold, 50))} comp_failover_p50_ms=${round(pct(comp, 50))} node_failover_p50_ms=${round(pct(nodeFo, 50))} node_failover_p99_ms=${round(pct(nodeFo, 99))} leader_failover_ms=${round(pct(leaderFo, 50))} rss_mb=${Math.max(...rss).toFixed(1)}`,
);
