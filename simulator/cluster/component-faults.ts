/**
 * Faults below the cluster, for the real-agent path: a component process is SIGKILLed (the agent
 * must see it through its supervised child's exit and report it), or only the daemon crashes and
 * its components keep running (the next incarnation must reap them; until then the machine's lease
 * watchdog is what stops them). Seeded, at random times until the heal.
 */
import type { Random } from '../../src/runtime/ports/random.js';
import type { Simulation } from '../simulation.js';
import type { ComponentWorld } from './components.js';

export interface ComponentFaultCounts {
  compKills: number;
  daemonCrashes: number;
}

export class ComponentFaults {
  readonly counts: ComponentFaultCounts = { compKills: 0, daemonCrashes: 0 };
  private readonly random: Random;

  constructor(
    private readonly sim: Simulation,
    private readonly world: ComponentWorld,
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
      this.inject();
      this.install();
    });
  }

  private inject(): void {
    const nodes = this.sim.nodeNames();
    const up = nodes.filter((n) => this.sim.isUp(n));
    if (this.random.float() < 0.75) {
      const live = up.flatMap((n) => {
        const pids = new Set(this.sim.processTable(n).livePids());
        return [...this.world.comps(n).values()].filter((c) => pids.has(c.pid)).map((c) => ({ node: n, pid: c.pid }));
      });
      if (live.length === 0) return;
      const victim = live[this.random.int(0, live.length)];
      if (!victim) return;
      this.counts.compKills++;
      this.sim.trace.record('fault.comp-kill', victim.node, victim.pid);
      this.sim.processTable(victim.node).signal(victim.pid, 'SIGKILL');
      return;
    }
    // One daemon down at a time, and only when every node is up: the plan's machine crashes keep their own quorum budget.
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
