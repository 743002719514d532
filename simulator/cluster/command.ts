import { Command, Option } from 'commander';
import { CLUSTER_DEFAULTS, LEASE_POLICIES, type LeasePolicy } from '../../src/cluster/options.js';
import { err, ok, type Result } from '../../src/util/result.js';
import { formatDuration, oneOf, optionParser, parseDuration, parseSeeds, replayCommand } from '../args.js';
import { formatFaults, parseFaults, type FaultSpec } from '../faults.js';
import { AGENT_KINDS, type AgentKind } from './harness.js';
import { noComponentFaults, type ComponentFaultCounts } from './component-faults.js';
import type { ComponentBug, ComponentStats } from './components.js';
import { CLUSTER_SEED_DEFAULTS, runClusterSeed } from './scenario.js';

export interface ClusterFlags {
  seeds: number[];
  nodes: number;
  duration: number;
  /** Unset: partition, loss, crash, pause. */
  faults?: FaultSpec;
  /** Checker self-test: `freeze` keeps actives running without a lease, so violations are expected. */
  leasePolicy: LeasePolicy;
  /** Unset: sim (the simulator's executor); real: the daemon's node agent. */
  agent?: AgentKind;
  /** A deliberate bug in the real agent's simulated components (the checker must catch it). */
  bug?: ComponentBug;
  verbose: boolean;
}

/**
 * `amf-sim cluster`: per seed, a whole amfd cluster (SWIM, Raft, FSM, director, node runtimes,
 * simulated components) forms, assigns, suffers the seed's faults with a configuration change in
 * the middle, heals and must converge; at most one node may hold a 2N / N+M SI active at any step.
 * One line per seed; the last line is `cluster seeds=N violations=V …`; exit 1 when V > 0.
 */
export function clusterCommand(): Command {
  return new Command('cluster')
    .description('run whole amfd clusters under faults; check at most one ACTIVE per SI, convergence after heal, no lost config change')
    .option('--seeds <seeds>', 'seed, range A..B or list', optionParser(parseSeeds), [1])
    .option('--nodes <k>', 'nodes per cluster (>= 3)', optionParser(parseNodes), CLUSTER_SEED_DEFAULTS.nodes)
    .option('--duration <d>', 'virtual length of the fault plan per seed (chaos, then heal)', optionParser(parseDuration), CLUSTER_SEED_DEFAULTS.durationMs)
    .option('--faults <list>', 'loss[=p],dup[=p],reorder[=p],partition,crash,pause,clog,skew', optionParser(parseFaults))
    .option('--lease-policy <policy>', "stop (default) or freeze (checker self-test: violations expected)", optionParser(oneOf('lease policy', LEASE_POLICIES)), CLUSTER_DEFAULTS.leasePolicy)
    .option('--agent <kind>', "sim (default: simulated executor) or real (the daemon's node agent with command, SA-aware and CLC-CLI components)", optionParser(oneOf('agent', AGENT_KINDS)), 'sim')
    .addOption(new Option('--bug <name>', 'with --agent real: a deliberate component bug (to see a failing run)').choices(['sa-ignores-quiesce']).hideHelp())
    .option('--verbose', 'print every trace line and node log', false)
    .action(async (flags: ClusterFlags) => {
      process.exitCode = await runClusterSeeds(flags);
    });
}

export async function runClusterSeeds(flags: ClusterFlags, print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const faults = flags.faults ?? DEFAULT_FAULTS;
  let violations = 0;
  let failedSeeds = 0;
  const t = { downs: 0, activations: 0, crashes: 0, partitions: 0, pauses: 0 };
  // The real agent's figures are printed only on that path (the default lines stay as they were).
  const real = flags.agent === 'real';
  const agentTotals: AgentFigures = { faults: noComponentFaults(), stats: { saRegistrations: 0, csiCallbacks: 0, healthcheckCallbacks: 0, quiescingCompletes: 0, pgUpdates: 0, componentErrorReports: 0, clcScripts: 0 }, agentErrorReports: 0 };
  const agentFigures = (f: AgentFigures): string => (real ? formatAgentFigures(f) : '');
  const cold: number[] = [];
  let worstConverge = 0;
  let worstRestart = 0;
  for (const seed of flags.seeds) {
    const r = await runClusterSeed({ seed, nodes: flags.nodes, faults, durationMs: flags.duration, convergeMs: CLUSTER_SEED_DEFAULTS.convergeMs, verbose: flags.verbose, print, settings: { leasePolicy: flags.leasePolicy }, ...(flags.agent ? { agent: flags.agent } : {}), ...(flags.bug ? { bug: flags.bug } : {}) });
    t.downs += r.nodeDowns;
    t.activations += r.activations;
    t.crashes += r.faults.crashes;
    t.partitions += r.faults.partitions;
    t.pauses += r.faults.pauses;
    addCounts(agentTotals.faults, r.componentFaults);
    addCounts(agentTotals.stats, r.componentStats);
    agentTotals.agentErrorReports += r.agentErrorReports;
    if (r.coldStartMs !== undefined) cold.push(r.coldStartMs);
    worstConverge = Math.max(worstConverge, r.convergeMs ?? Infinity);
    worstRestart = Math.max(worstRestart, r.restartMs ?? Infinity);
    const ms = (x: number | undefined): string => (x === undefined ? 'none' : x.toFixed(0));
    print(
      `seed=${seed} cold_start_ms=${ms(r.coldStartMs)} restart_ms=${ms(r.restartMs)} converge_ms=${ms(r.convergeMs)} epoch=${r.configEpoch} node_downs=${r.nodeDowns} activations=${r.activations} ` +
        `partitions=${r.faults.partitions} crashes=${r.faults.crashes} pauses=${r.faults.pauses}${agentFigures({ faults: r.componentFaults, stats: r.componentStats, agentErrorReports: r.agentErrorReports })} violations=${r.violations.length} trace=${r.traceHash.slice(0, 16)}`,
    );
    if (r.violations.length > 0) {
      violations += r.violations.length;
      failedSeeds++;
      print('  last trace lines:');
      for (const line of r.traceTail.slice(-15)) print(`    ${line}`);
      for (const v of r.violations.slice(0, 10)) print(`  VIOLATION: ${v}`);
      if (r.violations.length > 10) print(`  … and ${r.violations.length - 10} more violations`);
      const replay = { seeds: String(seed), nodes: flags.nodes, duration: formatDuration(flags.duration), faults: formatFaults(faults), 'lease-policy': flags.leasePolicy === CLUSTER_DEFAULTS.leasePolicy ? undefined : flags.leasePolicy, agent: flags.agent === 'real' ? 'real' : undefined, bug: flags.bug };
      print(`  replay: ${replayCommand('cluster', replay)}`);
    }
  }
  const coldMax = cold.length > 0 ? Math.max(...cold).toFixed(0) : 'none';
  print(
    `cluster seeds=${flags.seeds.length} violations=${violations} failed_seeds=${failedSeeds} node_downs=${t.downs} activations=${t.activations} ` +
      `crashes=${t.crashes} partitions=${t.partitions} pauses=${t.pauses} max_cold_start_ms=${coldMax} max_converge_ms=${Number.isFinite(worstConverge) ? worstConverge.toFixed(0) : 'none'} max_restart_ms=${Number.isFinite(worstRestart) ? worstRestart.toFixed(0) : 'none'}${agentFigures(agentTotals)}`,
  );
  return violations > 0 ? 1 : 0;
}

interface AgentFigures {
  readonly faults: ComponentFaultCounts;
  readonly stats: ComponentStats;
  agentErrorReports: number;
}

/** What the real agent's components did and suffered, so a reader sees every kind was exercised. */
function formatAgentFigures(f: AgentFigures): string {
  const { faults: k, stats: s } = f;
  const comp_faults = k.hangs + k.sickHealthchecks + k.csiFailures + k.slowCsis + k.errorReports + k.slowCleanups;
  return (
    ` agent=real sa_registrations=${s.saRegistrations} csi_callbacks=${s.csiCallbacks} healthcheck_callbacks=${s.healthcheckCallbacks} quiescing_completes=${s.quiescingCompletes}` +
    ` pg_updates=${s.pgUpdates} clc_scripts=${s.clcScripts} comp_kills=${k.compKills} daemon_crashes=${k.daemonCrashes} comp_faults=${comp_faults}` +
    ` (hang=${k.hangs} sick_hc=${k.sickHealthchecks} csi_fail=${k.csiFailures} slow_csi=${k.slowCsis} error_report=${k.errorReports} slow_cleanup=${k.slowCleanups})` +
    ` agent_error_reports=${f.agentErrorReports}`
  );
}

function addCounts<T extends object>(into: T, from: T): void {
  const a = into as Record<string, number>;
  for (const [key, v] of Object.entries(from as Record<string, number>)) a[key] = (a[key] ?? 0) + v;
}

const DEFAULT_FAULTS: FaultSpec = (() => {
  const f = parseFaults('partition,loss,crash,pause');
  if (!f.ok) throw new Error(f.error);
  return f.value;
})();

function parseNodes(text: string): Result<number, string> {
  const n = Number(text);
  return Number.isInteger(n) && n >= 3 && n <= 50 ? ok(n) : err(`bad node count '${text}' (3..50)`);
}

