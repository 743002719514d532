import { Command } from 'commander';
import { err, ok, type Result } from '../../src/util/result.js';
import { oneOf, optionParser, parseDuration } from '../args.js';
import { AGENT_KINDS, type AgentKind } from '../cluster/harness.js';
import { runScale, SCALE_DEFAULTS, type ScaleResult } from './scenario.js';

export interface ScaleFlags {
  seed: number;
  nodes: number;
  sgs: number;
  susPerSg: number;
  sisPerSg: number;
  agent: AgentKind;
  coldStartMax: number;
  failoverMax: number;
}

/**
 * `amf-sim scale`: one large cluster's cold start and one node failure, with figures. Progress
 * lines, then the last line `scale nodes=… sus=… cold_start_virtual_s=… leader_cpu_s=…
 * failover_virtual_ms=… log_entries=… snapshot_kb=… state_mb=… violations=…`; exit 1 on a violation.
 */
export function scaleCommand(): Command {
  return new Command('scale')
    .description('cold start and one node failure of a large cluster (real cluster, agent and AMF code): virtual times, leader CPU, Raft log, snapshot and state size')
    .option('--seed <n>', 'seed', optionParser(count('seed', 0)), SCALE_DEFAULTS.seed)
    .option('--nodes <k>', 'nodes (>= 3)', optionParser(count('node count', 3)), SCALE_DEFAULTS.nodes)
    .option('--sgs <n>', '2N service groups', optionParser(count('group count', 1)), SCALE_DEFAULTS.sgs)
    .option('--sus-per-sg <n>', 'service units per group (>= 2), each pinned to one node', optionParser(count('SUs per group', 2)), SCALE_DEFAULTS.susPerSg)
    .option('--sis-per-sg <n>', 'service instances per group', optionParser(count('SIs per group', 1)), SCALE_DEFAULTS.sisPerSg)
    .option('--agent <kind>', "real (default: the daemon's node agent) or sim (the simulator's executor)", optionParser(oneOf('agent', AGENT_KINDS)), 'real' as AgentKind)
    .option('--cold-start-max <d>', 'virtual time allowed for the cold start', optionParser(parseDuration), SCALE_DEFAULTS.coldStartMaxMs)
    .option('--failover-max <d>', 'virtual time allowed for the failover', optionParser(parseDuration), SCALE_DEFAULTS.failoverMaxMs)
    .action(async (flags: ScaleFlags) => {
      process.exitCode = await runScaleCommand(flags);
    });
}

export async function runScaleCommand(f: ScaleFlags, print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const r = await runScale({ seed: f.seed, nodes: f.nodes, sgs: f.sgs, susPerSg: f.susPerSg, sisPerSg: f.sisPerSg, agent: f.agent, coldStartMaxMs: f.coldStartMax, failoverMaxMs: f.failoverMax, progress: print });
  for (const v of r.violations.slice(0, 10)) print(`VIOLATION: ${v}`);
  if (r.violations.length > 10) print(`… and ${r.violations.length - 10} more violations`);
  print(scaleLine(f.nodes, r));
  return r.violations.length > 0 ? 1 : 0;
}

export function scaleLine(nodes: number, r: ScaleResult): string {
  const fix = (x: number | undefined, d: number): string => (x === undefined ? 'none' : x.toFixed(d));
  return (
    `scale nodes=${nodes} sus=${r.sus} sis=${r.sis} cold_start_virtual_s=${fix(r.coldStartMs === undefined ? undefined : r.coldStartMs / 1000, 1)} ` +
    `leader_cpu_s=${fix(r.leaderCpuS, 2)} follower_cpu_s=${fix(r.followerCpuS, 2)} cold_start_wall_s=${fix(r.coldStartWallS, 1)} ` +
    `leader_cpu_per_entry_ms=${fix(r.logEntriesColdStart > 0 ? (r.leaderCpuS * 1000) / r.logEntriesColdStart : undefined, 2)} ` +
    `victim=${r.victim ?? 'none'} victim_sis=${r.victimSis} failover_virtual_ms=${fix(r.failoverMs, 0)} ` +
    `log_entries_cold=${r.logEntriesColdStart} log_entries=${r.logEntries} snapshot_index=${r.lastSnapshotIndex} snapshot_kb=${fix(r.snapshotBytes / 1024, 0)} ` +
    `state_mb=${fix(r.heapPerNodeBytes / 2 ** 20, 1)} violations=${r.violations.length}`
  );
}

function count(what: string, min: number): (text: string) => Result<number, string> {
  return (text) => {
    const n = Number(text);
    return Number.isSafeInteger(n) && n >= min ? ok(n) : err(`bad ${what} '${text}' (an integer >= ${min})`);
  };
}
