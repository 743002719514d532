/**
 * Faults below the cluster, for the real-agent path, at random times until the heal (seeded):
 * - a component process is SIGKILLed (the agent must see it by itself: a supervised child's
 *   exit, an SA-aware component's connection closing, a CLC-CLI component's pidfile process gone);
 * - only the daemon crashes and its components keep running (the next incarnation must reap them;
 *   until then the machine's lease watchdog is what stops them);
 * - an SA-aware component hangs (answers nothing: healthcheck and callback timeouts), fails its
 *   healthchecks, fails its next CSI set callbacks, answers CSI sets slowly (sometimes later than
 *   the agent waits), or reports an error itself on the component API;
 * - a CLC-CLI component's next CLEANUP script is slow (the component runs until it gets to it).
 */
import type { Random } from '../../src/runtime/ports/random.js';
import type { Simulation } from '../simulation.js';
import type { ClcScripts } from './clc-component.js';
import type { CompKindName, ComponentWorld, RunningComp } from './components.js';

export interface ComponentFaultCounts {
  compKills: number;
  daemonCrashes: number;
  hangs: number;
  sickHealthchecks: number;
  csiFailures: number;
  slowCsis: number;
  errorReports: number;
  slowCleanups: number;
}

export function noComponentFaults(): ComponentFaultCounts {
  return { compKills: 0, daemonCrashes: 0, hangs: 0, sickHealthchecks: 0, csiFailures: 0, slowCsis: 0, errorReports: 0, slowCleanups: 0 };
}

/** The kinds of injected fault and their weights. */
const KINDS = [
  ['kill', 45],
  ['daemon-crash', 13],
  ['hang', 8],
  ['sick-healthcheck', 8],
  ['csi-failure', 8],
  ['slow-csi', 8],
  ['error-report', 5],
  ['slow-cleanup', 5],
] as const;
type Kind = (typeof KINDS)[number][0];
const TOTAL_WEIGHT = KINDS.reduce((a, [, w]) => a + w, 0);

export class ComponentFaults {
  readonly counts: ComponentFaultCounts = noComponentFaults();
  private readonly random: Random;

  constructor(
    private readonly sim: Simulation,
    private readonly world: ComponentWorld,
    private readonly clc: ClcScripts | undefined,
    private readonly healAt: number,
    private readonly meanGapMs = 2000,
  ) {
    this.random = sim.random.fork('component-faults');
  }

  install(): void {
    const gap = -Math.log(1 - this.random.float()) * this.meanGapMs;
    if (this.sim.now + gap >= this.healAt) return;
    this.sim.at(gap, () => {
      if (this.sim.now >= this.healAt) return;
      this.inject(this.pick());
      this.install();
    });
  }

  private pick(): Kind {
    let x = this.random.float() * TOTAL_WEIGHT;
    for (const [kind, w] of KINDS) {
      if (x < w) return kind;
      x -= w;
    }
    return 'kill';
  }

  /** A random live component of an up node (of one kind, or any). */
  private victim(kind?: CompKindName): { node: string; key: string; comp: RunningComp } | undefined {
    const live = this.sim
      .nodeNames()
      .filter((n) => this.sim.isUp(n))
      .flatMap((node) => [...this.world.comps(node)].map(([key, comp]) => ({ node, key, comp })))
      .filter((v) => (kind === undefined || v.comp.kind === kind) && this.world.live(v.node).includes(v.comp));
    return live.length === 0 ? undefined : live[this.random.int(0, live.length)];
  }

  private inject(kind: Kind): void {
    switch (kind) {
      case 'kill': {
        const v = this.victim();
        if (!v) return;
        this.counts.compKills++;
        this.sim.trace.record('fault.comp-kill', v.node, v.comp.pid);
        this.sim.processTable(v.node).signal(v.comp.pid, 'SIGKILL');
        return;
      }
      case 'daemon-crash':
        return this.crashDaemon();
      case 'slow-cleanup': {
        const v = this.victim('clccli');
        if (!v || !this.clc) return;
        const ms = 500 + this.random.float() * 2500;
        this.counts.slowCleanups++;
        this.sim.trace.record('fault.slow-cleanup', v.node, v.key, Math.round(ms));
        this.clc.slowCleanup(v.node, v.key, ms);
        return;
      }
      default:
        return this.saFault(kind);
    }
  }

  private saFault(kind: 'hang' | 'sick-healthcheck' | 'csi-failure' | 'slow-csi' | 'error-report'): void {
    const v = this.victim('sa-aware');
    if (!v) return;
    this.sim.trace.record(`fault.${kind}`, v.node, v.comp.pid);
    const f = v.comp.faults;
    switch (kind) {
      case 'hang':
        this.counts.hangs++;
        f.hung = true;
        return;
      case 'sick-healthcheck':
        this.counts.sickHealthchecks++;
        f.sickHealthcheck = true;
        return;
      case 'csi-failure':
        this.counts.csiFailures++;
        f.failCsiSets += 1 + this.random.int(0, 2);
        return;
      case 'slow-csi':
        this.counts.slowCsis++;
        // Up to 3 s: the agent waits 2 s (real-agent.ts), so some answers come too late.
        f.slowCsiMs = 100 + this.random.float() * 2900;
        return;
      case 'error-report':
        if (!v.comp.reportError) return;
        this.counts.errorReports++;
        v.comp.reportError('simulated fault');
        return;
    }
  }

  private crashDaemon(): void {
    // One daemon down at a time, and only when every node is up: the plan's machine crashes keep their own quorum budget.
    const nodes = this.sim.nodeNames();
    const up = nodes.filter((n) => this.sim.isUp(n));
    if (up.length === 0 || up.length < nodes.length) return;
    const victim = up[this.random.int(0, up.length)];
    if (victim === undefined) return;
    this.counts.daemonCrashes++;
    this.sim.crash(victim, { keepProcesses: true });
    this.sim.at(500 + this.random.float() * 4500, () => {
      if (!this.sim.isUp(victim)) this.sim.start(victim);
    });
  }
}
