import { randomInt } from 'node:crypto';
import { Command, Option } from 'commander';
import { formatDuration, optionParser, parseDuration, parseSeeds, replayCommand } from '../args.js';
import { formatFaults, NO_FAULTS, parseFaults, type FaultSpec } from '../faults.js';
import { err, ok, type Result } from '../../src/util/result.js';
import { runDemo } from './run.js';

interface RunFlags {
  seed?: number[];
  nodes: number;
  duration: number;
  faults: FaultSpec;
  verbose: boolean;
  swarm: boolean;
  bug?: 'ack-without-flush';
}

/**
 * `amf-sim run`: the gossip-set demo under faults. Prints, per seed, the seed, a summary and
 * `trace=<hash>` as the last line; a failing seed prints its replay command and exits 1.
 */
export function runCommand(): Command {
  return new Command('run')
    .description('run the demo protocol (a gossip-replicated set) under injected faults and check it converges')
    .option('--seed <seeds>', 'seed, range A..B or list (default: a random seed)', optionParser(parseSeeds))
    .option('--nodes <k>', 'number of nodes', optionParser(parseCount), 5)
    .addOption(new Option('--duration <d>', 'virtual run time, e.g. 60s').argParser(optionParser(parseDuration)).default(60_000, '60s'))
    .addOption(
      new Option('--faults <list>', 'loss=0.1,dup=0.01,reorder,partition,crash,pause,clog,skew')
        .argParser(optionParser(parseFaults))
        .default(NO_FAULTS, 'none'),
    )
    .option('--swarm', 'also draw the network timing (latency, jitter) from the seed', false)
    .option('--verbose', 'print every trace line and node log', false)
    .addOption(new Option('--bug <name>', 'inject a deliberate demo bug (to see a failing run)').choices(['ack-without-flush']).hideHelp())
    .action(async (flags: RunFlags) => {
      process.exitCode = await runSeeds(flags);
    });
}

async function runSeeds(flags: RunFlags): Promise<number> {
  const seeds = flags.seed ?? [randomInt(0, 2 ** 31)];
  for (const seed of seeds) {
    const r = await runDemo({
      seed,
      nodes: flags.nodes,
      durationMs: flags.duration,
      faults: flags.faults,
      verbose: flags.verbose,
      swarm: flags.swarm,
      ackWithoutFlush: flags.bug === 'ack-without-flush',
    });
    const f = r.faults;
    console.log(
      `seed=${seed} nodes=${flags.nodes} duration=${formatDuration(flags.duration)} faults=${formatFaults(flags.faults)}` +
        (flags.swarm ? ' swarm' : ''),
    );
    console.log(
      `events=${r.events} trace-lines=${r.traceLines} items=${r.items} acknowledged=${r.acknowledged} ` +
        `partitions=${f.partitions} crashes=${f.crashes} pauses=${f.pauses} clogs=${f.clogs} skews=${f.skews} ` +
        `converged-after-heal=${r.convergedAfterHealMs === undefined ? 'never' : `${r.convergedAfterHealMs.toFixed(0)}ms`}`,
    );
    if (r.problems.length > 0) {
      console.log('last trace lines:');
      for (const line of r.tail.slice(-20)) console.log(`  ${line}`);
      for (const p of r.problems) console.log(`FAIL: ${p}`);
      const replay = { seed, nodes: flags.nodes, duration: formatDuration(flags.duration), faults: formatFaults(flags.faults), swarm: flags.swarm, bug: flags.bug };
      console.log(`replay: ${replayCommand('run', replay)}`);
      console.log(`trace=${r.hash}`);
      return 1;
    }
    console.log(`trace=${r.hash}`);
  }
  return 0;
}

function parseCount(text: string): Result<number, string> {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= 10_000 ? ok(n) : err(`bad node count '${text}'`);
}
