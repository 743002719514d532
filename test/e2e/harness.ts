/**
 * Helpers of the real-process tests: a LocalCluster with a light groups.conf of sample-worker
 * components, views of who is ACTIVE where (from the API), polling, and component kills.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { GroupView } from '../../src/api/backend.js';
import { LocalCluster, ROOT, type LocalClusterOptions } from '../../scripts/local-cluster.js';
import { findMarked, OWNER_VAR } from '../../src/daemon/orphans.js';

const WORKER = `/bin/sh ${join(ROOT, 'conf/examples/sample-worker')}`;

function unit(name: string, nodes: string, rank: number): string {
  return `\tunit {\n\t\tname = ${name}\n\t\tnodes = ${nodes}\n\t\trank = ${rank}\n\t\tcomponent {\n\t\t\tname = worker\n\t\t\tcommand = ${WORKER}\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n`;
}

function si(name: string): string {
  return `\tserviceinstance {\n\t\tname = ${name}\n\t\tcsi_descriptor {\n\t\t\tcsi_name = ${name}-csi\n\t\t\ttype_name = t\n\t\t}\n\t}\n`;
}

/** N+M (2+1) `web` with SIs web-a, web-b and 2N `db` with SI db-main; restarts escalate fast. */
export function testGroupsConf(): string {
  const nodes = 'node {\n\tname = n1\n}\nnode {\n\tname = n2\n}\nnode {\n\tname = n3\n}\n';
  const esc = '\tcomponent_restart_max = 1\n\tcomponent_restart_probation = 60s\n\tunit_restart_max = 1\n\tunit_restart_probation = 60s\n';
  const web = `group {\n\tname = web\n\tmodel = nplusm\n\tpreferred-active-units = 2\n\tpreferred-standby-units = 1\n\tmaximum-active-instances = 1\n\tmaximum-standby-instances = 2\n${esc}${unit('web1', 'n1 n2 n3', 1)}${unit('web2', 'n2 n3 n1', 2)}${unit('web3', 'n3 n1 n2', 3)}${si('web-a')}${si('web-b')}}\n`;
  const db = `group {\n\tname = db\n\tmodel = 2n\n${esc}${unit('db1', 'n2 n3 n1', 1)}${unit('db2', 'n3 n1 n2', 2)}${si('db-main')}}\n`;
  return nodes + web + db;
}

export const ALL_SIS = ['web-a', 'web-b', 'db-main'];

/** The partition hook's file of a node (faults.ts). */
export const faultFile = (c: LocalCluster, node: string): string => join(c.o.workDir, `${node}.faults.json`);

/** amfd with the partition hook (amfd-faults.ts); the product's bin/amfd.js has none. */
export const FAULTS_ENTRY = join(ROOT, 'test/e2e/amfd-faults.js');

/**
 * Start a 3-node cluster; with `faults`, each node runs amfd with the partition hook reading its
 * file (empty at first); with `hosts`, each node runs in its own network namespace (netns.ts).
 */
export async function startTestCluster(prefix: string, faults = false, hosts?: LocalClusterOptions['hosts']): Promise<LocalCluster> {
  const workDir = mkdtempSync(join(tmpdir(), `amfd-e2e-${prefix}-`));
  const groups = join(workDir, 'groups.conf');
  writeFileSync(groups, testGroupsConf());
  const c = await LocalCluster.prepare({ workDir, nodes: 3, groupsConf: groups, logLevel: 'info', ...(hosts ? { hosts } : {}), ...(faults ? { entry: FAULTS_ENTRY } : {}) });
  for (const n of c.nodes) {
    if (faults) writeFileSync(faultFile(c, n.name), '[]');
    c.startNode(n.name, faults ? { AMFD_FAULT_FILE: faultFile(c, n.name) } : {});
  }
  return c;
}

export async function stopTestCluster(c: LocalCluster, keepOnFailure: boolean): Promise<number[]> {
  await c.stop();
  const left = c.strays();
  if (!keepOnFailure && process.env["AMFD_E2E_KEEP"] !== "1") rmSync(c.o.workDir, { recursive: true, force: true });
  return left;
}

/**
 * Steps of a file that shares one cluster: a failed step marks the run failed (so stopTestCluster
 * keeps the work dir), and `each` runs after every step, failed or not.
 */
export function clusterSteps(each?: (name: string, t: TestContext) => Promise<void>): { run: { failed: boolean }; step: (name: string, fn: (t: TestContext) => Promise<void>) => Promise<void> } {
  const run = { failed: false };
  const step = (name: string, fn: (t: TestContext) => Promise<void>): Promise<void> =>
    test(name, async (t) => {
      try {
        await fn(t);
      } catch (e) {
        run.failed = true;
        throw e;
      } finally {
        await each?.(name, t);
      }
    });
  return { run, step };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** SI → the SUs (with nodes) that hold it ACTIVE, as one node's replica says. */
export function actives(groups: readonly GroupView[]): Map<string, Array<{ su: string; node: string | null }>> {
  const out = new Map<string, Array<{ su: string; node: string | null }>>();
  for (const g of groups) for (const s of g.sis) out.set(s.name, s.assignments.filter((a) => a.ha === 'active').map((a) => ({ su: a.su, node: a.node })));
  return out;
}

export async function groupsOn(c: LocalCluster, node: string): Promise<readonly GroupView[] | undefined> {
  return (await c.get<{ groups: GroupView[] }>(node, '/v1/groups'))?.groups;
}

/** The leader's view: every SI with exactly one ACTIVE on a node in `allowed`. */
export async function allActiveOn(c: LocalCluster, via: readonly string[], allowed: readonly string[]): Promise<Map<string, string> | undefined> {
  for (const n of via) {
    const st = await c.get<{ raft: { role: string } }>(n, '/status');
    if (st?.raft.role !== 'leader') continue;
    const g = await groupsOn(c, n);
    if (!g) return undefined;
    const out = new Map<string, string>();
    for (const [si, list] of actives(g)) {
      const node = list[0]?.node;
      if (list.length !== 1 || !node || !allowed.includes(node)) return undefined;
      out.set(si, node);
    }
    return ALL_SIS.every((s) => out.has(s)) ? out : undefined;
  }
  return undefined;
}

export async function leaderOf(c: LocalCluster, via: readonly string[]): Promise<string | undefined> {
  for (const n of via) {
    const st = await c.get<{ raft: { role: string; leader: string | null } }>(n, '/status');
    if (st?.raft.leader) return st.raft.leader;
  }
  return undefined;
}

/** The group-leading pid of component `su/worker` of this cluster (a sample-worker shell), on `node` if given. */
export function componentPid(c: LocalCluster, su: string, node?: string): number | undefined {
  const dn = `safComp=worker,safSu=${su},`;
  const owned = new Set(findMarked(OWNER_VAR, (v) => (node === undefined ? v.includes(`@${c.o.workDir}/`) : v === `${node}@${join(c.o.workDir, node)}`)));
  const pids = findMarked('SA_AMF_COMPONENT_DN', (v) => v.startsWith(dn)).filter((p) => owned.has(p));
  return pids.find((p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === p;
    } catch {
      return false;
    }
  });
}

/** Alive and not a zombie (a paused amfd cannot reap the components its watchdog killed). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export interface Victim {
  readonly victim: string;
  readonly majority: string[];
  /** Its SUs that hold an SI active, with their component's pid. */
  readonly mine: ReadonlyArray<{ si: string; su: string; pid: number }>;
}

/** A non-leader node holding an ACTIVE SI (once every SI is active), with those SIs and pids. */
export async function pickVictim(c: LocalCluster, nodes: readonly string[]): Promise<Victim> {
  const placed = await waitFor('every SI active', 40_000, () => allActiveOn(c, nodes, nodes));
  const leader = await waitFor('a leader', 10_000, () => leaderOf(c, nodes));
  const victim = nodes.find((n) => n !== leader && [...placed.values()].includes(n)) ?? [...placed.values()][0]!;
  const g = (await groupsOn(c, victim))!;
  const mine = [...actives(g)].flatMap(([si, list]) => list.filter((a) => a.node === victim).map((a) => ({ si, su: a.su, pid: componentPid(c, a.su, victim) ?? 0 })));
  assert.ok(mine.length > 0, `${victim} holds an active SI`);
  for (const m of mine) assert.ok(m.pid > 0, `${m.su} runs on ${victim}`);
  return { victim, majority: nodes.filter((n) => n !== victim), mine };
}

/**
 * Poll every 20 ms until the majority has every SI of the victim ACTIVE on one of its nodes; by
 * then the victim must run none of those SUs' components (the old pids, or any new one). The
 * majority's view is read first, then the processes: a component alive after the view showed
 * its SI elsewhere is a real overlap. Returns when (ms after the call) each was first seen.
 */
export async function watchFailover(c: LocalCluster, v: Victim): Promise<{ stoppedAt: number; startedAt: number }> {
  const t0 = Date.now();
  let stoppedAt: number | undefined;
  let startedAt: number | undefined;
  const overlaps: string[] = [];
  while (Date.now() - t0 < 30_000 && startedAt === undefined) {
    const view = await allActiveOn(c, v.majority, v.majority);
    const living = v.mine.filter((m) => alive(m.pid) || componentPid(c, m.su, v.victim) !== undefined);
    if (living.length === 0) stoppedAt ??= Date.now() - t0;
    if (view) {
      startedAt = Date.now() - t0;
      for (const m of living) overlaps.push(`${m.si}: ${m.su} on ${v.victim} still running when the majority had it ACTIVE on ${view.get(m.si)}`);
    }
    await sleep(20);
  }
  assert.deepEqual(overlaps, []);
  assert.ok(stoppedAt !== undefined, `${v.victim}'s active components stopped`);
  assert.ok(startedAt !== undefined, 'the majority made the SIs active');
  assert.ok(stoppedAt <= startedAt, `stopped at ${stoppedAt} ms, active elsewhere at ${startedAt} ms`);
  return { stoppedAt, startedAt };
}

/**
 * The partition scenario (issue 8): cut a node that holds an active SI off from the other two
 * (`cut` makes the split, `heal` mends it); its actives must stop before the majority makes those
 * SIs active, strictly (watchFailover). Then heal and wait for it to be back up.
 */
export async function minorityStopsFirst(c: LocalCluster, nodes: readonly string[], cut: (victim: string, majority: readonly string[]) => void, heal: () => void): Promise<{ stoppedAt: number; startedAt: number }> {
  const v = await pickVictim(c, nodes);
  cut(v.victim, v.majority);
  const t = await watchFailover(c, v);
  assert.ok(t.stoppedAt < t.startedAt, `stopped at ${t.stoppedAt} ms, started at ${t.startedAt} ms`);
  // Heal: the minority node rejoins as a new incarnation.
  heal();
  await waitFor(`${v.victim} back up`, 30_000, async () => {
    const view = await c.get<{ nodes: Array<{ name: string; up: boolean }> }>(v.majority[0]!, '/v1/nodes');
    return view?.nodes.find((x) => x.name === v.victim)?.up ? true : undefined;
  });
  return t;
}
