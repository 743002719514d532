/**
 * A whole amfd cluster in the simulator: every node runs the real composition (SWIM, Raft, the
 * cluster FSM, director and node runtime) on simulated ports, with simulated components. The
 * checker (`onActive`) runs whenever a component takes an active CSI: the only step at which an SI
 * can become active twice. The engine's invariants (src/amf/invariants.ts) are checked after
 * every engine step on every replica.
 */
import type { AdminTarget } from '../../src/amf/commands.js';
import type { AdminOp } from '../../src/model/vocabulary.js';
import { reduce, type AmfState } from '../../src/amf/index.js';
import { invariantViolations } from '../../src/amf/invariants.js';
import type { AmfStepObserver } from '../../src/cluster/fsm.js';
import type { AmfModel } from '../../src/model/types.js';
import { NodeLifecycle } from '../../src/cluster/lifecycle.js';
import { createClusterNode, type ClusterNode } from '../../src/cluster/node.js';
import type { CommandExecutor, Fencer } from '../../src/cluster/executor.js';
import type { NodeService } from '../../src/cluster/node-service.js';
import { CLUSTER_DEFAULTS, type ClusterSettings } from '../../src/cluster/options.js';
import { ok, type Result } from '../../src/util/result.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import type { SimFileSystem } from '../files.js';
import { Simulation, type SimulationOptions } from '../simulation.js';
import { ClcScripts } from './clc-component.js';
import { ComponentWorld, SimExecutor, type ComponentBug } from './components.js';
import { RealAgentExecutor } from './real-agent.js';
import { registerSaComponent } from './sa-component.js';
import { RAFT_PORT } from '../raft/node.js';
import { SWIM_PORT } from '../swim/cluster.js';

/** Which executor runs the components: the simulator's own, or the daemon's node agent. */
export const AGENT_KINDS = ['sim', 'real'] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

/** The harness's node names: n1 … nK. */
export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `n${i + 1}`);
}

/** The lease and forwarding port of the simulated hosts (SWIM and Raft: as in their own simulations). */
export const RPC_PORT = 7100;

/** What a node of the harness runs besides the cluster node. */
export interface SimAppOptions {
  readonly fencer?: Fencer;
  /** The real node agent: the machine's file system and the CLC-CLI scripts. */
  readonly real?: { readonly files: SimFileSystem; readonly clc: ClcScripts };
  /** The cluster keyring (sealed channels). */
  readonly keys?: readonly Uint8Array[];
  /** Sees every engine step of this replica (the invariant checks). */
  readonly onAmfStep?: AmfStepObserver;
  /** The node services of this node (they need the real agent). */
  readonly services?: (ports: NodePorts) => readonly NodeService[];
  /** The bootstrap groups.conf the node's lifecycle commits while the cluster has none (amfd's groups_conf). */
  readonly firstConfig?: string;
}

/** One node's application: the cluster node, its lifecycle policy and its simulated components. */
export class ClusterSimApp {
  readonly node: ClusterNode;
  readonly lifecycle: NodeLifecycle;
  readonly executor: CommandExecutor;
  error: string | undefined;
  private stopping: Promise<void> | undefined;

  constructor(ports: NodePorts, world: ComponentWorld, names: readonly string[], settings: Partial<ClusterSettings>, o: SimAppOptions = {}) {
    const name = ports.nodeName;
    let agent: RealAgentExecutor | undefined;
    if (o.real) {
      agent = new RealAgentExecutor(world, name, ports, o.real.files, o.real.clc);
      void agent.started.then((s) => {
        if (!s.ok) this.error = s.error;
      });
      this.executor = agent;
    } else this.executor = new SimExecutor(world, name, ports.processes, ports.clock);
    const r = createClusterNode(ports, {
      bind: { swim: `${name}:${SWIM_PORT}`, raft: `${name}:${RAFT_PORT}`, rpc: `${name}:${RPC_PORT}` },
      join: names.map((n) => `${n}:${SWIM_PORT}`),
      bootstrapNodes: names,
      executor: this.executor,
      settings,
      ...(o.fencer ? { fencer: o.fencer } : {}),
      ...(o.keys ? { swimKeys: o.keys } : {}),
      ...(o.onAmfStep ? { onAmfStep: o.onAmfStep } : {}),
      ...(agent ? { agent: agent.agent } : {}),
      ...(o.services ? { services: o.services(ports) } : {}),
    });
    if (!r.ok) throw new Error(r.error.join('; '));
    this.node = r.value;
    const first = o.firstConfig;
    this.lifecycle = new NodeLifecycle({ node: this.node, clock: ports.clock, blobs: ports.blobs, logger: ports.logger, ...(first === undefined ? {} : { firstConfig: () => ok(first) }) });
    void this.node.start().then(async (s) => {
      if (!s.ok) this.error = s.error;
      else await this.lifecycle.start();
    });
  }

  /** amfd's graceful stop, as Daemon.shutdown: leave the cluster, stop the node, then the components. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.lifecycle.leave();
      await this.node.stop();
      if (this.node.settings.leasePolicy === 'stop') await (this.executor.stopAll?.() ?? this.executor.resetAll());
    })();
    return this.stopping;
  }
}

export interface ClusterHarnessOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly settings?: Partial<ClusterSettings>;
  readonly sim?: Partial<SimulationOptions>;
  /** A STONITH device: powers a node's machine off (sim.crash) and confirms. */
  readonly fencing?: boolean;
  /** Default 'sim'. 'real': every node runs the daemon's AgentExecutor/NodeAgent (components as in scenario.ts's real configuration). */
  readonly agent?: AgentKind;
  /** A deliberate bug in the simulated components (the checker must catch it). */
  readonly bug?: ComponentBug;
  /** A keyring for every node: gossip, leases, forwarded writes and Raft sealed. Default: in clear. */
  readonly keys?: readonly Uint8Array[];
  /** Node services for every node, made per node (agent 'real' only: services use the agent's hooks). */
  readonly services?: (ports: NodePorts) => readonly NodeService[];
  /** The groups.conf every node's lifecycle commits while the cluster has none (amfd's groups_conf). */
  readonly firstConfig?: string;
  /**
   * Check the engine's invariants after every step on every replica (default true). The scale
   * scenario turns it off (an O(state) check per step per replica) and checks at its checkpoints.
   */
  readonly checkEveryStep?: boolean;
}

export class ClusterHarness {
  readonly sim: Simulation;
  readonly world: ComponentWorld;
  readonly names: string[];
  readonly violations: string[] = [];
  /** Every configuration the cluster acknowledged as committed: epoch → text. */
  readonly committedConfigs = new Map<number, string>();
  /** Highest number of nodes seen active at once per SI (for reports). */
  doubleActives = 0;

  constructor(o: ClusterHarnessOptions) {
    this.sim = new Simulation({ seed: o.seed, ...o.sim });
    this.world = new ComponentWorld(this.sim, () => this.check(), o.bug);
    this.names = nodeNames(o.nodes);
    const settings = { bootstrapExpect: Math.min(CLUSTER_DEFAULTS.bootstrapExpect, o.nodes), ...o.settings };
    const fencer: Fencer | undefined = o.fencing ? { fence: (node) => this.powerOff(node) } : undefined;
    const clc = o.agent === 'real' ? new ClcScripts(this.sim, this.world) : undefined;
    if (clc) registerSaComponent(this.sim, this.world);
    this.clc = clc;
    for (const name of this.names) {
      const checkStep: AmfStepObserver = (model, before, after) => this.checkStep(name, model, before, after);
      // The machine's files exist once the node is added: read them when it boots.
      const app = (): SimAppOptions => ({
        ...(fencer ? { fencer } : {}),
        ...(clc ? { real: { files: this.sim.files(name), clc } } : {}),
        ...(o.keys ? { keys: o.keys } : {}),
        ...(o.checkEveryStep === false ? {} : { onAmfStep: checkStep }),
        ...(o.services ? { services: o.services } : {}),
        ...(o.firstConfig === undefined ? {} : { firstConfig: o.firstConfig }),
      });
      this.sim.addNode(name, (ports) => new ClusterSimApp(ports, this.world, this.names, settings, app()));
    }
  }

  /** The CLC-CLI scripts (real agent only). */
  readonly clc: ClcScripts | undefined;

  /** Fences performed (node names, in order). */
  readonly fenced: string[] = [];

  private powerOff(node: string): Promise<Result<void, string>> {
    // A power switch answers after a short delay; the machine is off when it says so.
    return new Promise((resolve) =>
      this.sim.at(50, () => {
        if (this.sim.isUp(node)) this.sim.crash(node);
        this.fenced.push(node);
        resolve(ok(undefined));
      }),
    );
  }

  /**
   * amfd's graceful stop of a node (SIGTERM): hand-over and stop in virtual time, then its process
   * exits (the machine stays up). False if the stop did not finish within maxMs (it exits anyway).
   */
  async gracefulStop(name: string, maxMs = 20_000): Promise<boolean> {
    const a = this.app(name);
    if (!a) return false;
    let done = false;
    void a.shutdown().then(() => (done = true));
    const finished = await this.sim.runUntil(() => done, maxMs);
    if (this.sim.isUp(name)) this.sim.crash(name, { keepProcesses: true });
    return finished;
  }

  app(name: string): ClusterSimApp | undefined {
    return this.sim.app<ClusterSimApp>(name);
  }

  apps(): ClusterSimApp[] {
    return this.names.map((n) => this.app(n)).filter((a): a is ClusterSimApp => a !== undefined);
  }

  /** The node that is Raft leader with the highest term, if any. */
  leader(): ClusterSimApp | undefined {
    let best: ClusterSimApp | undefined;
    for (const a of this.apps()) {
      if (a.node.raft?.state() !== 'leader') continue;
      if (!best || (a.node.raft.currentTerm ?? 0) > (best.node.raft?.currentTerm ?? 0)) best = a;
    }
    return best;
  }

  /** Formation done: a leader whose Raft configuration holds every node. */
  formed(): boolean {
    const l = this.leader();
    return l !== undefined && (l.node.raft?.getConfiguration().length ?? 0) === this.names.length;
  }

  /** Propose a configuration on the current leader until it commits (or maxMs passes). */
  async setConfig(text: string, maxMs = 20_000): Promise<boolean> {
    const deadline = this.sim.now + maxMs;
    while (this.sim.now < deadline) {
      const l = this.leader();
      if (l) {
        const epoch = l.node.fsm.state.epoch;
        let done: boolean | undefined;
        void l.node.setConfig(text, epoch).then((r) => {
          done = r.ok && r.result.ok;
          if (r.ok && r.result.ok && r.result.epoch !== undefined) this.committedConfigs.set(r.result.epoch, text);
        });
        await this.sim.runUntil(() => done !== undefined, 5000);
        if (done) return true;
        // Refused at once (an election, a transfer in progress): let time pass before retrying.
        await this.sim.runFor(100);
      } else await this.sim.runFor(200);
    }
    return false;
  }

  /** An admin operation through the current leader: undefined once applied, else why not. */
  async admin(op: AdminOp, target: AdminTarget, maxMs = 5000): Promise<string | undefined> {
    const l = this.leader();
    if (!l) return 'no leader';
    let out: { error?: string } | undefined;
    void l.node.admin(op, target).then((r) => (out = !r.ok ? { error: r.error } : r.result.ok ? {} : { error: r.result.error }));
    if (!(await this.sim.runUntil(() => out !== undefined, maxMs))) return `no answer within ${maxMs} ms`;
    return out?.error;
  }

  /** The engine's invariants after every step on every replica (each broken one reported once). */
  private checkStep(node: string, model: AmfModel, before: AmfState, after: AmfState): void {
    this.amfStepsChecked++;
    for (const v of invariantViolations(model, after, before)) {
      if (this.amfBroken.has(v)) continue;
      this.amfBroken.add(v);
      this.violations.push(`t=${this.sim.now.toFixed(0)} ${node}: AMF invariant: ${v}`);
    }
  }

  private readonly amfBroken = new Set<string>();
  /** Engine steps whose invariants were checked (all replicas). */
  amfStepsChecked = 0;

  /** At most one service unit holds an SI active (2N and N+M groups), at every step. */
  check(): void {
    const l = this.leader() ?? this.apps()[0];
    if (!l) return;
    const model = l.node.fsm.model;
    const guarded = new Set(model.groups.filter((g) => g.model === '2n' || g.model === 'nplusm').flatMap((g) => g.sis.map((s) => s.name)));
    for (const [si, units] of this.world.activeUnits()) {
      if (!guarded.has(si) || units.size <= 1) continue;
      this.doubleActives = Math.max(this.doubleActives, units.size);
      this.violations.push(`t=${this.sim.now.toFixed(0)} SI ${si} is ACTIVE on ${[...units].sort().join(' and ')}`);
    }
  }

  /**
   * Converged: every node up and on the leader's epoch; every 2N / N+M SI assigned as the
   * reduction says for the SUs in service, and really active exactly on the node the FSM says.
   * Returns the reasons it is not (empty: converged).
   */
  convergence(): string[] {
    const problems: string[] = [];
    const l = this.leader();
    if (!l) return ['no leader'];
    for (const n of this.names) {
      const a = this.app(n);
      if (!a) problems.push(`${n} is down`);
      else if (a.node.fsm.state.epoch !== l.node.fsm.state.epoch) problems.push(`${n} is at epoch ${a.node.fsm.state.epoch}, the leader at ${l.node.fsm.state.epoch}`);
      else if (l.node.fsm.state.nodes[n]?.up !== true) problems.push(`${n} is not up in the FSM`);
    }
    const fsm = l.node.fsm;
    const assignments = fsm.assignments();
    const actives = this.world.actives();
    const units = this.world.activeUnits();
    for (const g of fsm.model.groups) {
      if (g.model === 'nwayactive') {
        // Every SU the FSM has active really serves the SI, and no other.
        for (const si of g.sis) {
          const said = Object.entries(assignments[si.name] ?? {})
            .filter(([, ha]) => ha === 'active')
            .map(([su]) => `${fsm.state.amf.sus[su]?.node ?? '-'}/${su}`)
            .sort();
          const real = [...(units.get(si.name) ?? [])].sort();
          if (said.join() !== real.join()) problems.push(`SI ${si.name}: FSM says active on [${said.join(',')}], really on [${real.join(',')}]`);
        }
      }
      if (g.model !== '2n' && g.model !== 'nplusm') continue;
      const inService = g.units.filter((u) => {
        const st = fsm.state.amf.sus[u.name];
        return st !== undefined && st.admin === 'unlocked' && st.oper === 'enabled';
      }).length;
      const r = reduce({ sis: g.sis.length, inService, pa: g.preferredActiveUnits, ps: g.preferredStandbyUnits, ma: g.maximumActiveInstances, ms: g.maximumStandbyInstances });
      for (const si of g.sis) {
        const a = Object.entries(assignments[si.name] ?? {});
        const act = a.filter(([, ha]) => ha === 'active').map(([su]) => su);
        const stb = a.filter(([, ha]) => ha === 'standby');
        if (r.active > 0 && act.length !== 1) problems.push(`SI ${si.name}: ${act.length} active SUs in the FSM`);
        if (r.standby > 0 && stb.length !== 1) problems.push(`SI ${si.name}: ${stb.length} standby SUs in the FSM (reduction ${r.level}: ${r.active}+${r.standby})`);
        const node = act[0] !== undefined ? fsm.state.amf.sus[act[0]]?.node : undefined;
        const real = [...(actives.get(si.name) ?? [])];
        if (act.length === 1 && (real.length !== 1 || real[0] !== node)) problems.push(`SI ${si.name}: FSM says active on ${node ?? '-'}, really active on [${real.join(',')}]`);
      }
    }
    const last = Math.max(0, ...this.committedConfigs.keys());
    if (last > 0 && (fsm.state.epoch < last || (fsm.state.epoch === last && fsm.state.configText !== this.committedConfigs.get(last)))) {
      problems.push(`committed configuration epoch ${last} lost (leader at epoch ${fsm.state.epoch})`);
    }
    return problems;
  }
}
