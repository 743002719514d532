import { FaultPlan, type FaultCounts, type FaultSpec } from '../faults.js';
import { Simulation } from '../simulation.js';
import { GossipSet } from './gossip.js';

export interface DemoOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly durationMs: number;
  readonly faults: FaultSpec;
  readonly verbose?: boolean;
  /** Draw the network timing from the seed too (FaultPlanOptions.swarm). */
  readonly swarm?: boolean;
  /** Inject the demo's deliberate durability bug (tests of the checker). */
  readonly ackWithoutFlush?: boolean;
  /** Scripted faults on top of the plan, set up once the nodes exist (sim.at(...) steps). */
  readonly scenario?: (sim: Simulation) => void;
}

export interface DemoResult {
  /** Invariant violations; empty when the run passed. */
  readonly problems: string[];
  readonly hash: string;
  readonly events: number;
  readonly traceLines: number;
  readonly items: number;
  readonly acknowledged: number;
  readonly faults: FaultCounts;
  /** The last trace lines, for a failure report. */
  readonly tail: string[];
  /** Virtual ms from the end of the faults until every replica was equal (undefined: never). */
  readonly convergedAfterHealMs: number | undefined;
}

/**
 * One run of the gossip-set demo under a fault plan. Invariants checked at the end (after the
 * plan's heal period): every node is up, all replicas are equal, and no acknowledged (flushed)
 * item was lost.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const sim = new Simulation({ seed: options.seed, verbose: options.verbose ?? false });
  const names = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const acknowledged = new Set<string>();
  const plan = new FaultPlan(sim, options.faults, { durationMs: options.durationMs, swarm: options.swarm ?? false });
  const hooks = {
    acknowledged: (item: string) => acknowledged.add(item),
    createUntil: plan.healAt,
    ackWithoutFlush: options.ackWithoutFlush ?? false,
  };
  for (const name of names) {
    const peers = names.filter((n) => n !== name);
    sim.addNode(name, (ports) => new GossipSet(ports, peers, hooks));
  }
  plan.install();
  options.scenario?.(sim);
  const problems: string[] = [];
  const end = sim.now + options.durationMs;
  let convergedAfterHealMs: number | undefined;
  const replicas = (): Array<GossipSet | undefined> => names.map((n) => sim.app<GossipSet>(n));
  const converged = (): boolean => {
    const sets = replicas().map((r) => r?.sorted().join(','));
    return sets.every((s) => s !== undefined && s === sets[0]);
  };
  try {
    await sim.runFor(plan.healAt - sim.now);
    // Only observes: the events run are the same as one runFor to the end.
    if (await sim.runUntil(converged, end - sim.now)) convergedAfterHealMs = sim.now - plan.healAt;
    await sim.runFor(end - sim.now);
  } catch (e) {
    // A bug in the code under test (an assertion, say): a failed run like any other, replayable.
    problems.push(`exception at ${sim.now.toFixed(3)} ms: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }

  const final = replicas();
  names.forEach((n, i) => {
    if (!final[i]) problems.push(`node ${n} is down at the end`);
  });
  const reference = final.find((r) => r !== undefined)?.sorted() ?? [];
  final.forEach((r, i) => {
    if (r && r.sorted().join(',') !== reference.join(',')) {
      problems.push(`node ${names[i]} has ${r.items.size} items, node with the reference set has ${reference.length}: not converged`);
    }
  });
  const lost = [...acknowledged].filter((item) => final.some((r) => r && !r.items.has(item)));
  if (lost.length > 0) problems.push(`acknowledged items lost: ${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ', ...' : ''}`);
  return {
    problems,
    hash: sim.traceHash(),
    events: sim.scheduler.executed,
    traceLines: sim.trace.count,
    items: reference.length,
    acknowledged: acknowledged.size,
    faults: plan.counts,
    tail: sim.trace.tail(),
    convergedAfterHealMs,
  };
}
