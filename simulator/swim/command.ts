import { Command } from 'commander';
import { oneOf, optionParser, parseDuration, replayCommand, formatDuration } from '../args.js';
import { DEFAULT_SWIM_PROFILE, SWIM_PROFILES, type SwimProfile } from '../../src/swim/config.js';
import { err, ok, type Result } from '../../src/util/result.js';
import {
  scenarioConverge,
  scenarioDetect,
  scenarioFalsePositives,
  scenarioPartition,
  type ScenarioOptions,
  type ScenarioResult,
} from './scenarios.js';

type ScenarioName = 'a' | 'b' | 'c' | 'd' | 'all';

interface SwimFlags {
  scenario: ScenarioName;
  seed: number;
  profile: SwimProfile;
  nodes?: number;
  duration?: number;
}

const SCENARIOS: Record<Exclude<ScenarioName, 'all'>, (o: ScenarioOptions) => Promise<ScenarioResult>> = {
  a: scenarioConverge,
  b: scenarioDetect,
  c: scenarioFalsePositives,
  d: scenarioPartition,
};

/**
 * `amf-sim swim`: the SWIM/Lifeguard scenarios on the real Memberlist driver. Each prints a table
 * and checks invariants; `--scenario all` ends with
 * `swim converge_1000_s=… detect_p50_s=… fp_on=… fp_off=…`. Exit status 1 on any violation.
 */
export function swimCommand(): Command {
  return new Command('swim')
    .description('SWIM membership scenarios: (a) 1000-node join, (b) crash detection, (c) Lifeguard false positives, (d) partition/heal')
    .option('--scenario <name>', 'a, b, c, d or all', optionParser(parseScenario), 'all' as ScenarioName)
    .option('--seed <n>', 'run seed', optionParser(parseSeed), 1)
    .option('--profile <p>', SWIM_PROFILES.join(', '), optionParser(oneOf('profile', SWIM_PROFILES)), DEFAULT_SWIM_PROFILE as SwimProfile)
    .option('--nodes <k>', 'cluster size for every scenario (default: a 1000, b/c 100, d 20)', optionParser(parseNodes))
    .option('--duration <d>', 'fault period of scenario c per run (default 60s)', optionParser(parseDuration))
    .action(async (flags: SwimFlags) => {
      process.exitCode = await runSwim(flags);
    });
}

export async function runSwim(flags: SwimFlags, print: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const names = flags.scenario === 'all' ? (['a', 'b', 'c', 'd'] as const) : [flags.scenario];
  const figures: Record<string, number> = {};
  const violations: string[] = [];
  for (const name of names) {
    const r = await SCENARIOS[name]({
      seed: flags.seed,
      profile: flags.profile,
      print,
      ...(flags.nodes === undefined ? {} : { nodes: flags.nodes }),
      ...(flags.duration === undefined ? {} : { durationMs: flags.duration }),
    });
    Object.assign(figures, r.figures);
    violations.push(...r.violations);
  }
  for (const v of violations) print(`VIOLATION: ${v}`);
  if (violations.length > 0) {
    const replay = { scenario: flags.scenario, seed: flags.seed, profile: flags.profile, nodes: flags.nodes, duration: flags.duration === undefined ? undefined : formatDuration(flags.duration) };
    print(`replay: ${replayCommand('swim', replay)}`);
  }
  const fmt = (k: string) => (figures[k] === undefined || Number.isNaN(figures[k]) ? 'none' : String(Math.round((figures[k] as number) * 100) / 100));
  if (flags.scenario === 'all') {
    print(`swim converge_${flags.nodes ?? 1000}_s=${fmt('converge_s')} detect_p50_s=${fmt('detect_p50_s')} fp_on=${fmt('fp_on')} fp_off=${fmt('fp_off')}`);
  } else {
    print(`swim scenario=${flags.scenario} ${Object.keys(figures).map((k) => `${k}=${fmt(k)}`).join(' ')} violations=${violations.length}`);
  }
  return violations.length > 0 ? 1 : 0;
}

function parseScenario(text: string): Result<ScenarioName, string> {
  return ['a', 'b', 'c', 'd', 'all'].includes(text) ? ok(text as ScenarioName) : err(`unknown scenario '${text}' (a, b, c, d, all)`);
}

function parseSeed(text: string): Result<number, string> {
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? ok(n) : err(`bad seed '${text}'`);
}

function parseNodes(text: string): Result<number, string> {
  const n = Number(text);
  return Number.isInteger(n) && n >= 4 && n <= 5000 ? ok(n) : err(`bad node count '${text}' (4..5000)`);
}
