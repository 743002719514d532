import { Command } from 'commander';
import { formatDuration, optionParser, parseDuration, parseSeeds, replayCommand } from '../args.js';
import { formatFaults, parseFaults, type FaultSpec } from '../faults.js';
import { err, ok, type Result } from '../../src/util/result.js';
import { MUTATIONS, RAFT_SEED_DEFAULTS, runRaftSeed, type Mutation } from './scenario.js';

interface RaftFlags {
  seeds: number[];
  nodes: number;
  duration: number;
  clients: number;
  /** Unset: every fault (partition, loss, dup, reorder, crash, pause). */
  faults?: FaultSpec;
  verbose: boolean;
  mutation?: Mutation;
}

/**
 * `amf-sim raft`: per seed, a cluster of the real Raft driver under faults, KV clients, a heal,
 * then election safety, log matching, leader completeness, state-machine safety, linearizability
 * and liveness. One line per seed; a failing seed prints what broke and its replay command. The
 * last line is `raft seeds=N violations=V …`; the exit status is 1 when V > 0.
 */
export function raftCommand(): Command {
  return new Command('raft')
    .description('run Raft clusters of the real driver under faults and check safety, linearizability and liveness')
    .option('--seeds <seeds>', 'seed, range A..B or list', optionParser(parseSeeds), [1])
    .option('--nodes <k>', 'servers per cluster', optionParser(parseCount), RAFT_SEED_DEFAULTS.nodes)
    .option('--duration <d>', 'virtual run time per seed (chaos, then heal)', optionParser(parseDuration), RAFT_SEED_DEFAULTS.durationMs)
    .option('--clients <k>', 'concurrent KV clients', optionParser(parseCount), RAFT_SEED_DEFAULTS.clients)
    .option('--faults <list>', 'loss[=p],dup[=p],reorder[=p],partition,crash,pause,clog', optionParser(parseFaults))
    .option('--verbose', 'print every trace line and node log', false)
    .option('--mutation <bug>', `checker self-test: inject a bug (${MUTATIONS.join(', ')}) and expect violations`, optionParser(parseMutation))
    .action(async (flags: RaftFlags) => {
      process.exitCode = await runSeeds(flags);
    });
}

export async function runSeeds(flags: RaftFlags, print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const faults = flags.faults ?? DEFAULT_FAULTS;
  let violations = 0;
  let failedSeeds = 0;
  const totals = { ok: 0, info: 0, fail: 0, elections: 0, unknown: 0, crashes: 0, powerCuts: 0, partitions: 0, pauses: 0, snapshots: 0, installs: 0 };
  let worstLiveness = 0;
  for (const seed of flags.seeds) {
    const r = await runRaftSeed({ seed, nodes: flags.nodes, durationMs: flags.duration, clients: flags.clients, faults, livenessBoundMs: RAFT_SEED_DEFAULTS.livenessBoundMs, verbose: flags.verbose, print, mutation: flags.mutation });
    totals.ok += r.ops.ok;
    totals.info += r.ops.info;
    totals.fail += r.ops.fail;
    totals.elections += r.elections;
    totals.unknown += r.unknownPartitions;
    totals.crashes += r.faults.crashes;
    totals.powerCuts += r.powerCuts;
    totals.partitions += r.faults.partitions;
    totals.pauses += r.faults.pauses;
    totals.snapshots += r.snapshots.taken;
    totals.installs += r.snapshots.installed;
    worstLiveness = Math.max(worstLiveness, r.livenessMs ?? Infinity);
    print(
      `seed=${seed} ok=${r.ops.ok} fail=${r.ops.fail} info=${r.ops.info} elections=${r.elections} ` +
        `partitions=${r.faults.partitions} crashes=${r.faults.crashes} power_cuts=${r.powerCuts} pauses=${r.faults.pauses} ` +
        `snapshots=${r.snapshots.taken}/${r.snapshots.installed} liveness_ms=${r.livenessMs === undefined ? 'none' : r.livenessMs.toFixed(0)} violations=${r.violations.length} trace=${r.traceHash.slice(0, 16)}`,
    );
    if (r.violations.length > 0) {
      violations += r.violations.length;
      failedSeeds++;
      print('  last trace lines:');
      for (const line of r.traceTail.slice(-20)) print(`    ${line}`);
      for (const v of r.violations.slice(0, 10)) print(`  VIOLATION: ${v}`);
      if (r.violations.length > 10) print(`  … and ${r.violations.length - 10} more violations`);
      const replay = { seeds: String(seed), nodes: flags.nodes, duration: formatDuration(flags.duration), clients: flags.clients, faults: formatFaults(faults), mutation: flags.mutation };
      print(`  replay: ${replayCommand('raft', replay)}`);
    }
  }
  print(
    `raft seeds=${flags.seeds.length} violations=${violations} failed_seeds=${failedSeeds} ok_ops=${totals.ok} info_ops=${totals.info} ` +
      `elections=${totals.elections} crashes=${totals.crashes} power_cuts=${totals.powerCuts} partitions=${totals.partitions} pauses=${totals.pauses} ` +
      `snapshots=${totals.snapshots} snapshot_installs=${totals.installs} ` +
      `max_heal_to_write_ms=${Number.isFinite(worstLiveness) ? worstLiveness.toFixed(0) : 'none'} lin_unknown=${totals.unknown}`,
  );
  return violations > 0 ? 1 : 0;
}

const DEFAULT_FAULTS: FaultSpec = (() => {
  const f = parseFaults('partition,loss,dup,reorder,crash,pause');
  if (!f.ok) throw new Error(f.error);
  return f.value;
})();

function parseCount(text: string): Result<number, string> {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= 1000 ? ok(n) : err(`bad count '${text}'`);
}

function parseMutation(text: string): Result<Mutation, string> {
  const m = MUTATIONS.find((x) => x === text);
  return m ? ok(m) : err(`unknown mutation '${text}' (known: ${MUTATIONS.join(', ')})`);
}
