/**
 * `amf-sim scale`: one cluster of N nodes with S 2N groups of K service units each, on the real
 * cluster, node agent and AMF code. It measures a cold start until every SI is active where the
 * FSM says (virtual time, and the CPU the leader's daemon spent), then crashes the non-leader node
 * holding the most actives and measures until every SI it held is active on another node. Also:
 * Raft log length, snapshot size and the heap one node's daemon holds. The at-most-one-ACTIVE
 * checker runs on every activation; the engine invariants are checked at both checkpoints.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { invariantViolations } from '../../src/amf/invariants.js';
import { COMPONENT_COMMAND } from '../cluster/components.js';
import { ClusterHarness, nodeNames, type AgentKind, type ClusterSimApp } from '../cluster/harness.js';

export interface ScaleOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly sgs: number;
  readonly susPerSg: number;
  readonly sisPerSg: number;
  /** Default 'real' (the daemon's node agent supervising `command = …` components). */
  readonly agent?: AgentKind;
  /** Virtual time allowed for the cold start and for the failover. */
  readonly coldStartMaxMs: number;
  readonly failoverMaxMs: number;
  /** Progress lines (formed, configured, assigned, crashed …) go here. */
  readonly progress?: (line: string) => void;
}

export const SCALE_DEFAULTS = { seed: 1, nodes: 8, sgs: 100, susPerSg: 10, sisPerSg: 1, coldStartMaxMs: 600_000, failoverMaxMs: 60_000 } as const;

export interface ScaleResult {
  readonly violations: readonly string[];
  readonly sus: number;
  readonly sis: number;
  /** Virtual ms from cold start (nodes booted) to every SI active where the FSM says. */
  readonly coldStartMs: number | undefined;
  /** CPU seconds the leader's daemon spent during the cold start. */
  readonly leaderCpuS: number;
  /** CPU seconds one voting follower's daemon spent during the cold start. */
  readonly followerCpuS: number;
  /** Wall seconds the cold start took in this process (all nodes). */
  readonly coldStartWallS: number;
  /** The node crashed and the SIs it held active. */
  readonly victim: string | undefined;
  readonly victimSis: number;
  /** Virtual ms from the crash to every SI it held active on another node. */
  readonly failoverMs: number | undefined;
  /** The leader's Raft last index after the cold start and at the end; its last snapshot index. */
  readonly logEntriesColdStart: number;
  readonly logEntries: number;
  readonly lastSnapshotIndex: number;
  /** The encoded FSM snapshot (what a new node receives). */
  readonly snapshotBytes: number;
  /** Heap growth per node daemon after the cold start (after a full GC). */
  readonly heapPerNodeBytes: number;
}

/**
 * S 2N groups of K SUs, each SU pinned to one node: SU j of group i runs on node (i + j) mod N,
 * so group i's active (rank 1) is on node i mod N and its standby on the next one.
 */
export function scaleConfig(names: readonly string[], sgs: number, susPerSg: number, sisPerSg: number): string {
  const out: string[] = names.map((n) => `node {\n\tname = ${n}\n}\n`);
  for (let i = 0; i < sgs; i++) {
    const g = `g${i + 1}`;
    out.push(`group {\n\tname = ${g}\n\tmodel = 2n\n`);
    for (let j = 0; j < susPerSg; j++) {
      const su = `${g}u${j + 1}`;
      out.push(`\tunit {\n\t\tname = ${su}\n\t\tnodes = ${names[(i + j) % names.length]}\n\t\trank = ${j + 1}\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tcommand = ${COMPONENT_COMMAND} ${su}/c\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n`);
    }
    for (let k = 0; k < sisPerSg; k++) out.push(`\tserviceinstance {\n\t\tname = ${g}s${k + 1}\n\t\tcsi_descriptor {\n\t\t\tcsi_name = ${g}s${k + 1}-csi\n\t\t\ttype_name = t\n\t\t}\n\t}\n`);
    out.push('}\n');
  }
  return out.join('');
}

/** A full GC, so heap figures measure what is retained (the flag is set once, in this process). */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * SIs not yet active exactly where the leader's FSM says, and really served there (the live
 * components): an SI with no active SU in the FSM counts as unassigned.
 */
function unassigned(h: ClusterHarness, only?: ReadonlySet<string>, notOn?: string): string[] {
  const l = h.leader();
  if (!l) return ['no leader'];
  const fsm = l.node.fsm;
  const assignments = fsm.assignments();
  const real = h.world.actives();
  const out: string[] = [];
  for (const g of fsm.model.groups) {
    for (const si of g.sis) {
      if (only && !only.has(si.name)) continue;
      const act = Object.entries(assignments[si.name] ?? {}).filter(([, ha]) => ha === 'active');
      const node = act.length === 1 ? (fsm.state.amf.sus[act[0]?.[0] ?? '']?.node ?? undefined) : undefined;
      const live = real.get(si.name);
      if (node === undefined || node === notOn || live?.size !== 1 || !live.has(node)) out.push(si.name);
    }
  }
  return out;
}

/** The FSM's active SIs per node. */
function activesByNode(l: ClusterSimApp): Map<string, string[]> {
  const fsm = l.node.fsm;
  const out = new Map<string, string[]>();
  for (const [si, bySu] of Object.entries(fsm.assignments())) {
    for (const [su, ha] of Object.entries(bySu)) {
      const node = fsm.state.amf.sus[su]?.node ?? undefined;
      if (ha !== 'active' || node === undefined) continue;
      out.set(node, [...(out.get(node) ?? []), si]);
    }
  }
  return out;
}

/** Run the harness until cond holds, looking every stepMs of virtual time (cond is O(cluster)). */
async function pollUntil(h: ClusterHarness, cond: () => boolean, stepMs: number, maxMs: number): Promise<boolean> {
  const deadline = h.sim.now + maxMs;
  while (!cond()) {
    if (h.sim.now >= deadline) return false;
    await h.sim.runFor(Math.min(stepMs, deadline - h.sim.now));
  }
  return true;
}

function checkInvariants(h: ClusterHarness, when: string): void {
  const l = h.leader();
  if (!l) return;
  for (const v of invariantViolations(l.node.fsm.model, l.node.fsm.state.amf)) h.violations.push(`${when}: AMF invariant: ${v}`);
}

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const progress = o.progress ?? (() => undefined);
  const names = nodeNames(o.nodes);
  const firstConfig = scaleConfig(names, o.sgs, o.susPerSg, o.sisPerSg);
  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const h = new ClusterHarness({ seed: o.seed, nodes: o.nodes, firstConfig, agent: o.agent ?? 'real', checkEveryStep: false, sim: { meterCpu: true } });
  const { sim, violations } = h;
  const wall0 = process.hrtime.bigint();
  const cpuOf = (node: string | undefined): number => (node === undefined ? 0 : (sim.cpuMicros.get(node) ?? 0) / 1e6);
  let coldStartMs: number | undefined;
  let leaderName: string | undefined;
  let followerName: string | undefined;
  let coldWall = 0;
  let leaderCpuS = 0;
  let followerCpuS = 0;
  let logEntriesColdStart = 0;
  let heapPerNodeBytes = 0;
  if (!(await pollUntil(h, () => h.formed(), 100, 60_000))) violations.push('formation: no leader with every node in its configuration after 60 s');
  else {
    progress(`formed t=${sim.now} ms leader=${h.leader()?.node.name}`);
    if (!(await pollUntil(h, () => (h.leader()?.node.fsm.state.epoch ?? 0) >= 1, 100, 60_000))) violations.push('the first configuration did not commit within 60 s');
    else {
      progress(`configured t=${sim.now} ms`);
      if (!(await pollUntil(h, () => unassigned(h).length === 0, 100, o.coldStartMaxMs))) {
        const left = unassigned(h);
        violations.push(`cold start: ${left.length} SIs not active after ${o.coldStartMaxMs} ms: ${left.slice(0, 5).join(', ')}`);
      } else {
        coldStartMs = sim.now;
        coldWall = Number(process.hrtime.bigint() - wall0) / 1e9;
        const l = h.leader();
        leaderName = l?.node.name;
        followerName = l?.node.raft?.getConfiguration().find((s) => s.suffrage === 'voter' && s.id !== leaderName)?.id;
        leaderCpuS = cpuOf(leaderName);
        followerCpuS = cpuOf(followerName);
        logEntriesColdStart = Number(l?.node.raft?.stats().lastIndex ?? 0);
        checkInvariants(h, 'after cold start');
        collect();
        heapPerNodeBytes = Math.max(0, process.memoryUsage().heapUsed - heapBefore) / o.nodes;
        progress(`assigned t=${sim.now} ms wall=${coldWall.toFixed(1)} s leader_cpu=${leaderCpuS.toFixed(2)} s`);
      }
    }
  }

  let victim: string | undefined;
  let victimSis: string[] = [];
  let failoverMs: number | undefined;
  const l = h.leader();
  if (coldStartMs !== undefined && l) {
    const byNode = [...activesByNode(l)].filter(([n]) => n !== l.node.name).sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
    [victim, victimSis] = byNode[0] ?? [undefined, []];
    if (victim !== undefined) {
      const only = new Set(victimSis);
      const crashedAt = sim.now;
      sim.crash(victim);
      progress(`crashed ${victim} (${victimSis.length} SIs active) t=${crashedAt} ms`);
      if (await pollUntil(h, () => unassigned(h, only, victim).length === 0, 10, o.failoverMaxMs)) failoverMs = sim.now - crashedAt;
      else violations.push(`failover: ${unassigned(h, only, victim).length} of ${only.size} SIs of ${victim} not active elsewhere after ${o.failoverMaxMs} ms`);
      checkInvariants(h, 'after failover');
    }
  }
  for (const a of h.apps()) if (a.error) violations.push(`${a.node.name}: start failed: ${a.error}`);
  for (const e of sim.handlerErrors.slice(0, 3)) violations.push(`${e.node}: ${e.where} threw: ${String((e.error as Error)?.stack ?? e.error)}`);
  const end = h.leader();
  const stats = end?.node.raft?.stats();
  const snapshot = end ? await end.node.fsm.snapshot().persist() : new Uint8Array();
  return {
    violations,
    sus: o.sgs * o.susPerSg,
    sis: o.sgs * o.sisPerSg,
    coldStartMs,
    leaderCpuS,
    followerCpuS,
    coldStartWallS: coldWall,
    victim,
    victimSis: victimSis.length,
    failoverMs,
    logEntriesColdStart,
    logEntries: Number(stats?.lastIndex ?? 0),
    lastSnapshotIndex: Number(stats?.lastSnapshotIndex ?? 0),
    snapshotBytes: snapshot.length,
    heapPerNodeBytes,
  };
}
