import type { NodePorts } from '../../src/runtime/node-ports.js';
import type { SwimConfig } from '../../src/swim/config.js';
import type { SwimEvent } from '../../src/swim/core.js';
import { Memberlist } from '../../src/swim/memberlist.js';
import { assert } from '../../src/util/assert.js';
import type { LinkFaults } from '../network.js';
import { Simulation } from '../simulation.js';

export const SWIM_PORT = 7946;

export const addressOf = (name: string): string => `${name}:${SWIM_PORT}`;

export interface SwimClusterOptions {
  readonly seed: number;
  readonly config: SwimConfig;
  readonly link?: Partial<LinkFaults>;
  readonly keys?: readonly Uint8Array[];
}

/** A membership event as one node saw it. */
export interface Observation {
  readonly observer: string;
  readonly event: SwimEvent;
}

/**
 * Many real Memberlist drivers on one Simulation. Nodes are added with the seeds they join
 * through and when; every event any node raises is handed to `onEvent`.
 */
export class SwimCluster {
  readonly sim: Simulation;
  readonly names: string[] = [];
  private readonly lists = new Map<string, Memberlist>();
  private readonly observers: Array<(o: Observation) => void> = [];
  private readonly bootFailures: string[] = [];

  constructor(private readonly options: SwimClusterOptions) {
    this.sim = new Simulation({ seed: options.seed, traceKeep: 0, ...(options.link ? { link: options.link } : {}) });
  }

  onEvent(fn: (o: Observation) => void): void {
    this.observers.push(fn);
  }

  /** Start node `name`; `joinAfterMs` after boot it joins through `seeds` (none: it is the first). */
  add(name: string, seeds: readonly string[] = [], joinAfterMs = 0): void {
    this.names.push(name);
    this.sim.addNode(name, (ports: NodePorts) => {
      void this.boot(name, ports, seeds, joinAfterMs);
      return {};
    });
  }

  private async boot(name: string, ports: NodePorts, seeds: readonly string[], joinAfterMs: number): Promise<void> {
    const r = await Memberlist.start(ports, {
      name,
      bind: addressOf(name),
      config: this.options.config,
      ...(this.options.keys ? { keys: this.options.keys } : {}),
    });
    if (!r.ok) {
      this.bootFailures.push(`${name}: ${r.error}`);
      return;
    }
    const ml = r.value;
    this.lists.set(name, ml);
    ml.onEvent((event) => {
      for (const o of this.observers) o({ observer: name, event });
    });
    if (seeds.length > 0) ports.clock.setTimer(joinAfterMs, () => void ml.join(seeds.map(addressOf)));
  }

  /** The running Memberlist of a node (undefined while down or booting). */
  list(name: string): Memberlist | undefined {
    return this.sim.isUp(name) ? this.lists.get(name) : undefined;
  }

  crash(name: string): void {
    this.sim.crash(name);
    this.lists.delete(name);
  }

  /** Every node in `expected` that is up sees exactly the members of `expected` as alive. */
  converged(expected: readonly string[]): boolean {
    for (const name of expected) {
      const ml = this.list(name);
      if (!ml) return false;
      const c = ml.countByState();
      if (c.alive !== expected.length) return false;
    }
    // Counts match: check the names (rarely reached, so the O(N²) pass is cheap overall).
    const want = new Set(expected);
    for (const name of expected) {
      const ml = this.list(name) as Memberlist;
      for (const m of ml.members()) if (m.state === 'alive' && !want.has(m.name)) return false;
    }
    return true;
  }

  /**
   * Boot failures (bind errors) and app callbacks that threw (the simulated socket reports them and
   * goes on, as the Node one does); a scenario fails when there are any. Call it at the end.
   */
  failures(): string[] {
    const threw = this.sim.handlerErrors.map((e) => `${e.node}: ${e.where} threw: ${String((e.error as Error | undefined)?.stack ?? e.error)}`);
    return [...this.bootFailures, ...threw.slice(0, 3)];
  }

  /** Sum a core statistic or the health score over the running nodes. */
  sum(f: (ml: Memberlist) => number): number {
    let s = 0;
    for (const name of this.names) {
      const ml = this.list(name);
      if (ml) s += f(ml);
    }
    return s;
  }
}

/** The value at quantile q of sorted numbers (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  assert(sorted.length > 0, 'quantile of nothing');
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}
