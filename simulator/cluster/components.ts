/**
 * Simulated components for `amf-sim cluster`: every component is a process of the node's machine
 * (the simulator's ProcessRunner), and the CSIs it holds are recorded next to its pid in a world
 * table that outlives daemon crashes, so the checker sees what really runs, not what the cluster
 * believes. Each node also runs a watchdog process: when the daemon's lease runs out and the daemon
 * cannot act (paused, hung), the watchdog kills the node's components (self-fencing, like SBD).
 */
import type { AmfCommand } from '../../src/amf/commands.js';
import type { HaState } from '../../src/model/vocabulary.js';
import type { AgentReport } from '../../src/cluster/entries.js';
import type { CommandExecutor } from '../../src/cluster/executor.js';
import type { AmfModel } from '../../src/model/types.js';
import type { Clock } from '../../src/runtime/ports/clock.js';
import type { ProcessRunner, RunningProcess } from '../../src/runtime/ports/process.js';
import type { ProtectionGroupUpdate } from '../../src/client/index.js';
import type { Simulation } from '../simulation.js';

export const COMPONENT_PROGRAM = 'sim:component';
/** The same program under the path a `command = …` component names (the real-agent path). */
export const COMPONENT_COMMAND = '/usr/libexec/amf-sim/component';
const WATCHDOG_PROGRAM = 'sim:watchdog';

/** Faults injected into one component process (SA-aware ones act on them; see sa-component.ts). */
export interface CompFaults {
  /** Answers nothing any more (callbacks, healthchecks, terminate), but stays connected. */
  hung: boolean;
  /** The next this many CSI set callbacks are answered FAILED. */
  failCsiSets: number;
  /** Every CSI set callback takes this long before it is answered. */
  slowCsiMs: number;
  /** AMF-invoked healthchecks are answered FAILED. */
  sickHealthcheck: boolean;
}

export interface RunningComp {
  readonly pid: number;
  /**
   * `si/csi` → HA state the component holds. SA-aware components write it themselves when they
   * take a CSI set callback; for the others the executor records what the agent reported done.
   */
  readonly csis: Map<string, HaState>;
  readonly kind: CompKindName;
  readonly faults: CompFaults;
  /** Set by an SA-aware component once registered: it reports an error on the component API. */
  reportError?: (reason: string) => void;
}

/** How a simulated component runs: a supervised command, SA-aware (component API), or CLC-CLI scripts. */
export type CompKindName = 'command' | 'sa-aware' | 'clccli';

/** What the component kinds of the real-agent path did (so a run shows they were exercised). */
export interface ComponentStats {
  saRegistrations: number;
  /** CSI set and remove callbacks an SA-aware component received. */
  csiCallbacks: number;
  healthcheckCallbacks: number;
  quiescingCompletes: number;
  pgUpdates: number;
  /** Error reports SA-aware components made themselves. */
  componentErrorReports: number;
  /** CLC-CLI instantiate, terminate and cleanup scripts run. */
  clcScripts: number;
}

/** Deliberate bugs in the simulated components, to show the checker catches them. */
export type ComponentBug = 'sa-ignores-quiesce';

/** Per node: `su/comp` → the running component. */
export class ComponentWorld {
  /** Active CSI assignments made (a measure of how much failover a run exercised). */
  activations = 0;
  /** Error reports a node agent raised by itself (real-agent path: a supervised process died). */
  agentErrorReports = 0;
  readonly stats: ComponentStats = { saRegistrations: 0, csiCallbacks: 0, healthcheckCallbacks: 0, quiescingCompletes: 0, pgUpdates: 0, componentErrorReports: 0, clcScripts: 0 };
  /** The protection group each SA-aware component last saw (track reply, then updates): `node su/comp csi` → members. */
  readonly pgLast = new Map<string, ProtectionGroupUpdate>();
  private readonly nodes = new Map<string, Map<string, RunningComp>>();

  constructor(
    private readonly sim: Simulation,
    /** Called whenever a component takes an active CSI (the checker's step). */
    readonly onActive: () => void = () => undefined,
    readonly bug?: ComponentBug,
  ) {
    sim.programs.register(COMPONENT_PROGRAM, () => undefined);
    sim.programs.register(COMPONENT_COMMAND, () => undefined);
    sim.programs.register(WATCHDOG_PROGRAM, (ctx) => {
      const node = ctx.argv[1] ?? '';
      ctx.after(Number(ctx.argv[2]), () => {
        this.killAll(node);
        ctx.exit(0);
      });
    });
  }

  comps(node: string): Map<string, RunningComp> {
    let m = this.nodes.get(node);
    if (!m) this.nodes.set(node, (m = new Map()));
    return m;
  }

  /** Kill every component of the node (cleanup / watchdog): gone from the table at once. */
  killAll(node: string): void {
    const table = this.sim.processTable(node);
    for (const c of this.comps(node).values()) table.signal(c.pid, 'SIGKILL');
    this.comps(node).clear();
  }

  /** SI → nodes where a live component holds one of its CSIs active. */
  actives(): Map<string, Set<string>> {
    return this.activeBy((node) => node);
  }

  /**
   * SI → the service units (`node/su`) where a live component holds one of its CSIs active; a
   * process left by an earlier daemon counts as its own holder (`node/su#pid`). Two SUs of one
   * node both active are a double active too.
   */
  activeUnits(): Map<string, Set<string>> {
    return this.activeBy((node, key) => {
      const hash = key.indexOf('#');
      return `${node}/${key.slice(0, key.indexOf('/'))}${hash < 0 ? '' : key.slice(hash)}`;
    });
  }

  private activeBy(holder: (node: string, key: string) => string): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const [node, comps] of this.nodes) {
      if (!this.sim.isUp(node) && comps.size === 0) continue;
      const live = new Set(this.sim.processTable(node).livePids());
      for (const [key, c] of comps) {
        if (!live.has(c.pid)) continue;
        for (const [csi, ha] of c.csis) {
          if (ha !== 'active') continue;
          const si = csi.slice(0, csi.indexOf('/'));
          let set = out.get(si);
          if (!set) out.set(si, (set = new Set()));
          set.add(holder(node, key));
        }
      }
    }
    return out;
  }

  /**
   * Record a component process (spawned by whichever executor, or by a CLC-CLI script) under
   * `su/comp`; with `exited`, it leaves the table when it exits (else dead entries are skipped).
   */
  track(node: string, key: string, pid: number, kind: CompKindName, exited?: Promise<unknown>): RunningComp {
    const comps = this.comps(node);
    // A live process already under this name (left by an earlier daemon) stays visible to the checker.
    const old = comps.get(key);
    if (old && old.pid !== pid && this.sim.processTable(node).livePids().includes(old.pid)) comps.set(`${key}#${old.pid}`, old);
    const c: RunningComp = { pid, csis: new Map(), kind, faults: { hung: false, failCsiSets: 0, slowCsiMs: 0, sickHealthcheck: false } };
    comps.set(key, c);
    void exited?.then(() => {
      if (comps.get(key)?.pid === pid) comps.delete(key);
    });
    return c;
  }

  /** A component took (or left, `ha` undefined) a CSI: the checker runs when it became active. */
  setCsi(c: RunningComp, si: string, csi: string, ha: HaState | undefined): void {
    if (ha === undefined) {
      c.csis.delete(`${si}/${csi}`);
      return;
    }
    c.csis.set(`${si}/${csi}`, ha);
    if (ha === 'active') {
      this.activations++;
      this.onActive();
    }
  }

  /** The live components of a node (pids still running), optionally only those matching. */
  live(node: string, which: (c: RunningComp) => boolean = () => true): RunningComp[] {
    const pids = new Set(this.sim.processTable(node).livePids());
    return [...this.comps(node).values()].filter((c) => pids.has(c.pid) && which(c));
  }

  /**
   * Re-arm a node's watchdog for a lease ending at `deadline` (local ms; not finite: none held):
   * the old watchdog is killed and a new process kills every component of the node at the deadline.
   */
  rearmWatchdog(old: RunningProcess | undefined, runner: ProcessRunner, clock: Clock, node: string, deadline: number): RunningProcess | undefined {
    old?.killGroup('SIGKILL');
    if (!Number.isFinite(deadline)) return undefined;
    const r = runner.spawn({ argv: [WATCHDOG_PROGRAM, node, String(Math.max(0, deadline - clock.now()))], env: {} });
    return r.ok ? r.value : undefined;
  }
}

/** Delay of every simulated agent operation (a CLC-CLI script, a CSI callback). */
const OP_MS = 10;

export class SimExecutor implements CommandExecutor {
  private readonly listeners: Array<(r: AgentReport) => void> = [];
  private readonly expectedExit = new Set<number>();
  private watchdog: RunningProcess | undefined;

  constructor(
    private readonly world: ComponentWorld,
    private readonly node: string,
    private readonly processes: ProcessRunner,
    private readonly clock: Clock,
  ) {}

  onReport(listener: (r: AgentReport) => void): void {
    this.listeners.push(listener);
  }

  setModel(_model: AmfModel): void {}

  /** The daemon's lease now ends at this local time: re-arm the watchdog for it. */
  leaseUntil(deadline: number): void {
    this.watchdog = this.world.rearmWatchdog(this.watchdog, this.processes, this.clock, this.node, deadline);
  }

  resetAll(): Promise<void> {
    for (const c of this.world.comps(this.node).values()) this.expectedExit.add(c.pid);
    this.world.killAll(this.node);
    return new Promise((resolve) => this.clock.setTimer(OP_MS, resolve));
  }

  private report(r: AgentReport): void {
    this.clock.setTimer(OP_MS, () => {
      for (const l of this.listeners) l(r);
    });
  }

  execute(cmd: AmfCommand): void {
    if (cmd.kind === 'timer-set' || cmd.kind === 'timer-cancel' || cmd.kind === 'node-fence') return;
    const { su, comp } = cmd;
    const key = `${su}/${comp}`;
    const comps = this.world.comps(this.node);
    const running = comps.get(key);
    switch (cmd.kind) {
      case 'comp-instantiate': {
        if (running) return this.report({ kind: 'comp-instantiated', su, comp });
        const p = this.processes.spawn({ argv: [COMPONENT_PROGRAM, key], env: {} });
        if (!p.ok) return this.report({ kind: 'comp-instantiate-failed', su, comp, reason: p.error.kind });
        const pid = p.value.pid;
        this.world.track(this.node, key, pid, 'command', p.value.exited);
        void p.value.exited.then(() => {
          if (this.expectedExit.delete(pid)) return;
          for (const l of this.listeners) l({ kind: 'error-report', su, comp, recovery: 'no-recommendation', source: 'process-died', reason: 'process died' });
        });
        return this.report({ kind: 'comp-instantiated', su, comp });
      }
      case 'comp-terminate':
      case 'comp-cleanup':
        if (running) {
          this.expectedExit.add(running.pid);
          comps.delete(key);
          this.processes.signal(running.pid, 'SIGKILL');
        }
        return this.report({ kind: 'comp-terminated', su, comp });
      case 'csi-set':
        if (!running) return this.report({ kind: 'csi-set-failed', su, comp, si: cmd.si, csi: cmd.csi, haState: cmd.haState, reason: 'not running' });
        this.world.setCsi(running, cmd.si, cmd.csi, cmd.haState);
        this.report({ kind: 'csi-set-done', su, comp, si: cmd.si, csi: cmd.csi, haState: cmd.haState });
        if (cmd.haState === 'quiescing') this.report({ kind: 'quiescing-complete', su, comp, si: cmd.si, csi: cmd.csi });
        return;
      case 'csi-remove':
        if (running) this.world.setCsi(running, cmd.si, cmd.csi, undefined);
        return this.report({ kind: 'csi-remove-done', su, comp, si: cmd.si, csi: cmd.csi });
      case 'comp-migrate':
        return this.report({ kind: 'comp-migrate-failed', su, comp, reason: 'the simulator runs no virtual machines' });
      case 'healthcheck-start':
      case 'healthcheck-stop':
        return;
    }
  }
}
