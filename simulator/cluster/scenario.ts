/**
 * One seed of `amf-sim cluster`: form a cluster from cold, commit a configuration, wait until every
 * SI is assigned, then run the seed's fault plan (with a configuration change in the middle of it),
 * heal, and require convergence. The at-most-one-ACTIVE checker runs on every step throughout.
 */
import { FaultPlan, type FaultCounts, type FaultSpec } from '../faults.js';
import type { ClusterSettings } from '../../src/cluster/options.js';
import { ComponentFaults, type ComponentFaultCounts } from './component-faults.js';
import { COMPONENT_COMMAND } from './components.js';
import { ClusterHarness, type AgentKind } from './harness.js';

export interface ClusterSeedOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly faults: FaultSpec;
  /** Virtual length of the fault plan (chaos, then heal). */
  readonly durationMs: number;
  /** After the heal, the cluster must converge within this long. */
  readonly convergeMs: number;
  readonly verbose?: boolean;
  readonly print?: (line: string) => void;
  /** Overrides of the cluster settings (e.g. leasePolicy 'freeze': the checker must then find double actives). */
  readonly settings?: Partial<ClusterSettings>;
  /** Default 'sim'; 'real' runs the daemon's node agent with `command = …` components. */
  readonly agent?: AgentKind;
}

export const CLUSTER_SEED_DEFAULTS = { nodes: 5, durationMs: 30_000, convergeMs: 30_000 } as const;

export interface ClusterSeedResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly faults: FaultCounts;
  /** Real agent only: component kills and daemon-only crashes injected. */
  readonly componentFaults: ComponentFaultCounts;
  /** Real agent only: error reports the node agents raised (their passive monitoring at work). */
  readonly agentErrorReports: number;
  /** Virtual ms from cold start to every SI assigned. */
  readonly coldStartMs: number | undefined;
  /** Virtual ms from the heal to convergence. */
  readonly convergeMs: number | undefined;
  readonly configEpoch: number;
  /** Node incarnations declared down (lease expiry, fencing, restarts) per the leader's change log. */
  readonly nodeDowns: number;
  /** SIs that became active somewhere (cold start included). */
  readonly activations: number;
  readonly traceHash: string;
  readonly traceTail: readonly string[];
}

function unit(name: string, nodes: string, rank: number, agent: AgentKind): string {
  // The real agent supervises a scripted program that runs until killed; the sim executor needs no scripts.
  const how = agent === 'real' ? `command = ${COMPONENT_COMMAND} ${name}/c` : 'instantiate = clc\n\t\t\tcleanup = clc';
  return `	unit {
		name = ${name}
		nodes = ${nodes}
		rank = ${rank}
		component {
			name = c
			${how}
			csi_type_name {
				name = t
			}
		}
	}
`;
}

function si(name: string): string {
  return `	serviceinstance {
		name = ${name}
		csi_descriptor {
			csi_name = ${name}-csi
			type_name = t
		}
	}
`;
}

/**
 * The simulated cluster's groups.conf: a 2N group whose SUs may run on any node (node groups, so
 * they are re-homed) and an N+M group (2+1) with one SU pinned per node. `extraSi` adds an SI: the
 * configuration change made during the faults.
 */
export function clusterConfig(names: readonly string[], extraSi = false, agent: AgentKind = 'sim'): string {
  const nodes = names.map((n) => `node {\n\tname = ${n}\n}\n`).join('');
  const rot = (i: number): string => [...names.slice(i), ...names.slice(0, i)].join(' ');
  const web = `group {\n\tname = web\n\tmodel = 2n\n${unit('web1', rot(0), 1, agent)}${unit('web2', rot(1), 2, agent)}${unit('web3', rot(2), 3, agent)}${si('web-ip')}${si('web-app')}${extraSi ? si('web-extra') : ''}}\n`;
  const dbUnits = names.slice(0, 4).map((n, i) => unit(`db${i + 1}`, n, i + 1, agent)).join('');
  const db = `group {\n\tname = db\n\tmodel = nplusm\n\tpreferred-active-units = 2\n\tpreferred-standby-units = 1\n\tmaximum-active-instances = 1\n\tmaximum-standby-instances = 2\n${dbUnits}${si('db-a')}${si('db-b')}}\n`;
  return nodes + web + (names.length >= 4 ? db : '');
}

export async function runClusterSeed(o: ClusterSeedOptions): Promise<ClusterSeedResult> {
  const h = new ClusterHarness({ seed: o.seed, nodes: o.nodes, ...(o.settings ? { settings: o.settings } : {}), ...(o.agent ? { agent: o.agent } : {}), sim: { verbose: o.verbose ?? false, ...(o.print ? { print: o.print } : {}) } });
  const { sim } = h;
  const violations = h.violations;
  const start = sim.now;
  let coldStartMs: number | undefined;
  let convergeMs: number | undefined;
  let faults: FaultCounts = { partitions: 0, crashes: 0, pauses: 0, clogs: 0, skews: 0 };
  let componentFaults: ComponentFaultCounts = { compKills: 0, daemonCrashes: 0 };
  if (!(await sim.runUntil(() => h.formed(), 20_000))) violations.push('formation: no leader with every node in its configuration after 20 s');
  else if (!(await h.setConfig(clusterConfig(h.names, false, o.agent)))) violations.push('the first configuration did not commit');
  else if (!(await sim.runUntil(() => h.convergence().length === 0, 20_000))) violations.push(`cold start: not converged after 20 s: ${h.convergence().slice(0, 3).join('; ')}`);
  else coldStartMs = sim.now - start;

  if (coldStartMs !== undefined) {
    const plan = new FaultPlan(sim, o.faults, { durationMs: o.durationMs });
    plan.install();
    const compFaults = o.agent === 'real' ? new ComponentFaults(sim, h.world, plan.healAt) : undefined;
    compFaults?.install();
    // A configuration change in the middle of the chaos: once committed, it must survive.
    const changeAt = sim.now + (plan.healAt - sim.now) / 2;
    await sim.runFor(changeAt - sim.now);
    await h.setConfig(clusterConfig(h.names, true, o.agent), Math.max(0, plan.healAt - sim.now));
    if (sim.now < plan.healAt) await sim.runFor(plan.healAt - sim.now);
    faults = plan.counts;
    if (compFaults) componentFaults = compFaults.counts;
    // The plan restarts what it crashed; a node still down at the heal comes back now.
    await sim.runFor(100);
    for (const n of h.names) if (!sim.isUp(n)) sim.start(n);
    const healed = sim.now;
    if (await sim.runUntil(() => h.convergence().length === 0, o.convergeMs)) convergeMs = sim.now - healed;
    else violations.push(`after heal: not converged within ${o.convergeMs} ms: ${h.convergence().slice(0, 4).join('; ')}`);
  }
  for (const a of h.apps()) if (a.error) violations.push(`${a.node.name}: start failed: ${a.error}`);
  for (const e of sim.handlerErrors.slice(0, 3)) violations.push(`${e.node}: ${e.where} threw: ${String((e.error as Error)?.stack ?? e.error)}`);
  const leader = h.leader();
  return {
    seed: o.seed,
    violations,
    faults,
    componentFaults,
    coldStartMs,
    convergeMs,
    configEpoch: leader?.node.fsm.state.epoch ?? 0,
    nodeDowns: leader?.node.changes(0).filter((c) => c.field === 'incarnation' && c.new?.startsWith('down')).length ?? 0,
    activations: h.world.activations,
    agentErrorReports: h.world.agentErrorReports,
    traceHash: sim.traceHash(),
    traceTail: sim.trace.tail(),
  };
}
