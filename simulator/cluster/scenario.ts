/**
 * One seed of `amf-sim cluster`: form a cluster from cold (every node's lifecycle proposes the
 * first configuration, as amfd's groups_conf), wait until every SI is assigned, restart the node
 * holding web-app's active gracefully (its lifecycle hands the SIs over, the restart unlocks it),
 * then run the seed's fault plan (with a configuration change in the middle of it), heal, and
 * require convergence. The at-most-one-ACTIVE checker runs on every step throughout.
 */
import type { AdminTarget } from '../../src/amf/commands.js';
import type { AdminOp } from '../../src/model/vocabulary.js';
import { FaultPlan, type FaultCounts, type FaultSpec } from '../faults.js';
import type { ClusterSettings } from '../../src/cluster/options.js';
import { ComponentFaults, noComponentFaults, type ComponentFaultCounts } from './component-faults.js';
import { CLC_DIR, clcPidfile } from './clc-component.js';
import { COMPONENT_COMMAND, type ComponentBug, type ComponentStats } from './components.js';
import { SA_COMPONENT_COMMAND, SA_HEALTHCHECK_KEY } from './sa-component.js';
import { ClusterHarness, nodeNames, type AgentKind } from './harness.js';

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
  /** Default 'sim'; 'real' runs the daemon's node agent with command, SA-aware and CLC-CLI components. */
  readonly agent?: AgentKind;
  /** A deliberate bug in the simulated components (the checker must catch it). */
  readonly bug?: ComponentBug;
}

export const CLUSTER_SEED_DEFAULTS = { nodes: 5, durationMs: 30_000, convergeMs: 30_000 } as const;

export interface ClusterSeedResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly faults: FaultCounts;
  /** Real agent only: component kills, daemon-only crashes and component misbehaviour injected. */
  readonly componentFaults: ComponentFaultCounts;
  /** Real agent only: what the components did (registrations, callbacks, scripts). */
  readonly componentStats: ComponentStats;
  /** Real agent only: error reports the node agents raised (their passive monitoring at work). */
  readonly agentErrorReports: number;
  /** Virtual ms from cold start to every SI assigned. */
  readonly coldStartMs: number | undefined;
  /** Virtual ms from the heal to convergence. */
  readonly convergeMs: number | undefined;
  /** Virtual ms of the graceful restart: from SIGTERM to the node back, unlocked, and converged. */
  readonly restartMs: number | undefined;
  readonly configEpoch: number;
  /** Node incarnations declared down (lease expiry, fencing, restarts) per the leader's change log. */
  readonly nodeDowns: number;
  /** SIs that became active somewhere (cold start included). */
  readonly activations: number;
  /** Engine steps (on every replica) after which the AMF invariants were checked. */
  readonly amfStepsChecked: number;
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
  if (agent === 'real') return realClusterConfig(names, extraSi);
  const nodes = names.map((n) => `node {\n\tname = ${n}\n}\n`).join('');
  const rot = (i: number): string => [...names.slice(i), ...names.slice(0, i)].join(' ');
  const web = `group {\n\tname = web\n\tmodel = 2n\n${unit('web1', rot(0), 1, agent)}${unit('web2', rot(1), 2, agent)}${unit('web3', rot(2), 3, agent)}${si('web-ip')}${si('web-app')}${extraSi ? si('web-extra') : ''}}\n`;
  const dbUnits = names.slice(0, 4).map((n, i) => unit(`db${i + 1}`, n, i + 1, agent)).join('');
  const db = `group {\n\tname = db\n\tmodel = nplusm\n\tpreferred-active-units = 2\n\tpreferred-standby-units = 1\n\tmaximum-active-instances = 1\n\tmaximum-standby-instances = 2\n${dbUnits}${si('db-a')}${si('db-b')}}\n`;
  return nodes + web + (names.length >= 4 ? db : '');
}

/** One component block of the real-agent configuration. */
function comp(name: string, type: string, how: string): string {
  return `		component {
			name = ${name}
${how
  .split('\n')
  .map((l) => `\t\t\t${l}\n`)
  .join('')}			csi_type_name {
				name = ${type}
			}
		}
`;
}

function realUnit(name: string, nodes: string, rank: number, comps: string): string {
  return `	unit {\n\t\tname = ${name}\n\t\tnodes = ${nodes}\n\t\trank = ${rank}\n${comps}\t}\n`;
}

/** An SA-aware component: the agent spawns it, it registers over the component API. */
function saComp(su: string, name: string, type: string): string {
  return comp(name, type, `comptype = sa_aware\ncommand = ${SA_COMPONENT_COMMAND} ${su}/${name}\ninstantiate_timeout = 2000\nterminate_timeout = 1000\ncleanup_timeout = 1000`);
}

/** An openais CLC-CLI component: scripts in clccli_path, the process watched through its pidfile. */
function clcComp(su: string, name: string, type: string): string {
  return comp(
    name,
    type,
    `comptype = non_proxied_non_sa_aware\nclccli_path = ${CLC_DIR}\ninstantiate = instantiate\nterminate = terminate\ncleanup = cleanup\npidfile = ${clcPidfile(su, name)}\ninstantiate_timeout = 2000\ncleanup_timeout = 5000`,
  );
}

/** A supervised `command = …` component. */
function cmdComp(su: string, name: string, type: string): string {
  return comp(name, type, `command = ${COMPONENT_COMMAND} ${su}/${name}`);
}

function realSi(name: string, csis: ReadonlyArray<readonly [string, string]>): string {
  const d = csis.map(([csi, type]) => `\t\tcsi_descriptor {\n\t\t\tcsi_name = ${csi}\n\t\t\ttype_name = ${type}\n\t\t}\n`).join('');
  return `	serviceinstance {\n\t\tname = ${name}\n${d}\t}\n`;
}

/**
 * The real agent's groups.conf: every kind of component in every kind of group. web (2N, node
 * groups, re-homed): SA-aware components with an AMF-invoked healthcheck; db (N+M 2+1, one SU per
 * node): CLC-CLI components with a pidfile; cache (N-Way-Active, 3 SUs): a command component and
 * an SA-aware one in each SU, each SI with a CSI for both.
 */
export function realClusterConfig(names: readonly string[], extraSi = false): string {
  const nodes = names.map((n) => `node {\n\tname = ${n}\n}\n`).join('');
  const hc = `healthcheck {\n\tkey = ${SA_HEALTHCHECK_KEY}\n\tperiod = 1000\n\tmaximum_duration = 500\n}\n`;
  const rot = (i: number): string => [...names.slice(i), ...names.slice(0, i)].join(' ');
  const webUnits = [1, 2, 3].map((i) => realUnit(`web${i}`, rot(i - 1), i, saComp(`web${i}`, 's', 't'))).join('');
  const webSis = ['web-ip', 'web-app', ...(extraSi ? ['web-extra'] : [])].map((n) => realSi(n, [[`${n}-csi`, 't']])).join('');
  const web = `group {\n\tname = web\n\tmodel = 2n\n${webUnits}${webSis}}\n`;
  const dbUnits = names.slice(0, 4).map((n, i) => realUnit(`db${i + 1}`, n, i + 1, clcComp(`db${i + 1}`, 'c', 't'))).join('');
  const dbSis = ['db-a', 'db-b'].map((n) => realSi(n, [[`${n}-csi`, 't']])).join('');
  const db = `group {\n\tname = db\n\tmodel = nplusm\n\tpreferred-active-units = 2\n\tpreferred-standby-units = 1\n\tmaximum-active-instances = 1\n\tmaximum-standby-instances = 2\n${dbUnits}${dbSis}}\n`;
  const cacheUnits = names.slice(-3).map((n, i) => realUnit(`cache${i + 1}`, n, i + 1, cmdComp(`cache${i + 1}`, 'c', 'tc') + saComp(`cache${i + 1}`, 's', 'ts'))).join('');
  const cacheSis = ['cache-a', 'cache-b'].map((n) => realSi(n, [[`${n}-c`, 'tc'], [`${n}-s`, 'ts']])).join('');
  const cache = `group {\n\tname = cache\n\tmodel = nwayactive\n${cacheUnits}${cacheSis}}\n`;
  return hc + nodes + web + (names.length >= 4 ? db : '') + cache;
}

/**
 * Real agent: admin operations during the chaos take the graceful paths. An SI swap (the active
 * SU is quiesced, then becomes standby) at 1/4; a shutdown of the SU active for web-app (its
 * components are set quiescing and answer quiescing-complete) at 3/8, unlocked at 5/8. Each is
 * best effort (refused during an election). Returns the SU shut down, if any.
 */
function adminDuringChaos(h: ClusterHarness, spanMs: number): () => string | undefined {
  const admin = (op: AdminOp, target: AdminTarget): void => void h.leader()?.node.admin(op, target);
  let shut: string | undefined;
  h.sim.at(spanMs / 4, () => admin('si-swap', { type: 'si', name: 'web-ip' }));
  h.sim.at((spanMs * 3) / 8, () => {
    const assigned = h.leader()?.node.fsm.assignments()['web-app'] ?? {};
    shut = Object.keys(assigned).find((su) => assigned[su] === 'active');
    if (shut !== undefined) admin('shutdown', { type: 'su', name: shut });
  });
  h.sim.at((spanMs * 5) / 8, () => shut !== undefined && admin('unlock', { type: 'su', name: shut }));
  return () => shut;
}

/**
 * amfd's graceful restart of the node holding web-app's active: it must hand every SI over before
 * it leaves, and come back unlocked. Returns the virtual ms until converged again.
 */
async function gracefulRestart(h: ClusterHarness): Promise<number | undefined> {
  const { sim, violations } = h;
  const fsm = h.leader()?.node.fsm;
  const su = Object.entries(fsm?.assignments()['web-app'] ?? {}).find(([, ha]) => ha === 'active')?.[0];
  const node = su === undefined ? undefined : fsm?.state.amf.sus[su]?.node;
  if (!node) return undefined;
  const start = sim.now;
  if (!(await h.gracefulStop(node))) violations.push(`graceful restart: ${node} did not stop within 20 s`);
  const held = Object.entries(h.leader()?.node.fsm.state.amf.sus ?? {}).filter(([, s]) => s.node === node && Object.keys(s.assignments).length > 0);
  if (held.length > 0) violations.push(`graceful restart: ${node} left with ${held.map(([name]) => name).join(', ')} still assigned`);
  await sim.runFor(1000);
  sim.start(node);
  const unlocked = (): boolean => h.leader()?.node.fsm.state.amf.nodes[node]?.admin === 'unlocked';
  if (!(await sim.runUntil(unlocked, 20_000))) violations.push(`graceful restart: ${node} not unlocked 20 s after it came back`);
  else if (!(await sim.runUntil(() => h.convergence().length === 0, 20_000))) violations.push(`graceful restart: not converged after 20 s: ${h.convergence().slice(0, 3).join('; ')}`);
  else return sim.now - start;
  return undefined;
}

export async function runClusterSeed(o: ClusterSeedOptions): Promise<ClusterSeedResult> {
  const firstConfig = clusterConfig(nodeNames(o.nodes), false, o.agent);
  const h = new ClusterHarness({ seed: o.seed, nodes: o.nodes, firstConfig, ...(o.settings ? { settings: o.settings } : {}), ...(o.agent ? { agent: o.agent } : {}), ...(o.bug ? { bug: o.bug } : {}), sim: { verbose: o.verbose ?? false, ...(o.print ? { print: o.print } : {}) } });
  const { sim } = h;
  const violations = h.violations;
  const start = sim.now;
  let coldStartMs: number | undefined;
  let convergeMs: number | undefined;
  let restartMs: number | undefined;
  let faults: FaultCounts = { partitions: 0, crashes: 0, pauses: 0, clogs: 0, skews: 0 };
  let componentFaults = noComponentFaults();
  if (!(await sim.runUntil(() => h.formed(), 20_000))) violations.push('formation: no leader with every node in its configuration after 20 s');
  else if (!(await sim.runUntil(() => (h.leader()?.node.fsm.state.epoch ?? 0) >= 1, 20_000))) violations.push('the first configuration did not commit');
  else {
    h.committedConfigs.set(1, firstConfig);
    if (!(await sim.runUntil(() => h.convergence().length === 0, 20_000))) violations.push(`cold start: not converged after 20 s: ${h.convergence().slice(0, 3).join('; ')}`);
    else {
      coldStartMs = sim.now - start;
      restartMs = await gracefulRestart(h);
    }
  }

  if (coldStartMs !== undefined && restartMs !== undefined) {
    const plan = new FaultPlan(sim, o.faults, { durationMs: o.durationMs });
    plan.install();
    const compFaults = o.agent === 'real' ? new ComponentFaults(sim, h.world, h.clc, plan.healAt) : undefined;
    compFaults?.install();
    const shutDown = o.agent === 'real' ? adminDuringChaos(h, plan.healAt - sim.now) : undefined;
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
    // An SU shut down during the chaos whose unlock did not commit is unlocked now (refused if it is unlocked).
    const shut = shutDown?.();
    if (shut !== undefined) await h.admin('unlock', { type: 'su', name: shut });
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
    restartMs,
    configEpoch: leader?.node.fsm.state.epoch ?? 0,
    nodeDowns: leader?.node.changes(0).filter((c) => c.field === 'incarnation' && c.new?.startsWith('down')).length ?? 0,
    activations: h.world.activations,
    agentErrorReports: h.world.agentErrorReports,
    componentStats: { ...h.world.stats },
    amfStepsChecked: h.amfStepsChecked,
    traceHash: sim.traceHash(),
    traceTail: sim.trace.tail(),
  };
}
