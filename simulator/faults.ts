import type { Random } from '../src/runtime/ports/random.js';
import { assert } from '../src/util/assert.js';
import { err, ok, type Result } from '../src/util/result.js';
import type { Simulation } from './simulation.js';

/** Which faults a run injects: link fault rates, and which node/network events the plan schedules. */
export interface FaultSpec {
  readonly loss: number;
  readonly dup: number;
  readonly reorder: number;
  readonly partition: boolean;
  readonly crash: boolean;
  readonly pause: boolean;
  readonly clog: boolean;
  /** Clocks: each node's runs up to MAX_DRIFT fast or slow, and wall clocks get stepped. */
  readonly skew: boolean;
}

export const NO_FAULTS: FaultSpec = { loss: 0, dup: 0, reorder: 0, partition: false, crash: false, pause: false, clog: false, skew: false };

/** Rates used when a rate fault is named without a value ("loss" means loss=0.05). */
const DEFAULT_RATES = { loss: 0.05, dup: 0.01, reorder: 0.05 } as const;
const EVENTS = ['partition', 'crash', 'pause', 'clog', 'skew'] as const;
/** Clock-rate error drawn per node under `skew`: ±1000 ppm, ten times a poor crystal's. */
const MAX_DRIFT = 0.001;

/**
 * Parse "loss=0.1,dup=0.01,reorder,partition,crash,pause,clog" ("" or "none": no faults).
 * Rates are probabilities in [0, 1].
 */
export function parseFaults(text: string): Result<FaultSpec, string> {
  const spec: { -readonly [K in keyof FaultSpec]: FaultSpec[K] } = { ...NO_FAULTS };
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'none') return ok(spec);
  for (const item of trimmed.split(',')) {
    const [name = '', value] = item.trim().split('=', 2);
    if (name === 'loss' || name === 'dup' || name === 'reorder') {
      const rate = value === undefined ? DEFAULT_RATES[name] : Number(value);
      if (!Number.isFinite(rate) || rate < 0 || rate > 1) return err(`faults: ${name} must be a rate in [0, 1], got '${value}'`);
      spec[name] = rate;
    } else if ((EVENTS as readonly string[]).includes(name)) {
      if (value !== undefined) return err(`faults: ${name} takes no value`);
      spec[name as (typeof EVENTS)[number]] = true;
    } else {
      return err(`faults: unknown fault '${name}' (known: loss[=p], dup[=p], reorder[=p], ${EVENTS.join(', ')})`);
    }
  }
  return ok(spec);
}

/** The canonical text of a spec (what parseFaults reads back); "none" when empty. */
export function formatFaults(spec: FaultSpec): string {
  const parts: string[] = [];
  for (const r of ['loss', 'dup', 'reorder'] as const) if (spec[r] > 0) parts.push(`${r}=${spec[r]}`);
  for (const e of EVENTS) if (spec[e]) parts.push(e);
  return parts.length > 0 ? parts.join(',') : 'none';
}

export interface FaultPlanOptions {
  /** Length of the run; faults stop at durationMs - healMs, then everything heals. */
  readonly durationMs: number;
  /** The final fault-free period (default: max(10 s, 25 % of the run)). */
  readonly healMs?: number;
  /** Mean gap between injected node/network events (exponential; default 3 s). */
  readonly meanGapMs?: number;
  /** At most this many nodes down at once (default: a minority, floor((n - 1) / 2)). */
  readonly maxDown?: number;
  /**
   * Swarm testing: draw this run's network timing from the seed too (base latency 0.1–5 ms,
   * jitter mean 0–10 ms, reorder hold-back 1–50 ms), so seeds explore timings as well as faults.
   */
  readonly swarm?: boolean;
}

export interface FaultCounts {
  partitions: number;
  crashes: number;
  pauses: number;
  clogs: number;
  skews: number;
}

/**
 * Random faults from the run seed, on a schedule (Jepsen's nemesis, TigerBeetle's swarm): link
 * fault rates during the chaos phase, and partitions, crashes (each followed by a restart),
 * pauses, clogs and wall-clock steps at random times (with skew, every clock also drifts); then a heal period with no faults, in which the system under
 * test must converge.
 */
export class FaultPlan {
  readonly counts: FaultCounts = { partitions: 0, crashes: 0, pauses: 0, clogs: 0, skews: 0 };
  readonly healAt: number;
  private readonly random: Random;
  private readonly meanGapMs: number;
  private maxDown = 0;
  private readonly maxDownOption: number | undefined;
  private readonly swarm: boolean;
  private partitioned = false;
  private healed = false;

  constructor(
    private readonly sim: Simulation,
    readonly spec: FaultSpec,
    options: FaultPlanOptions,
  ) {
    const healMs = options.healMs ?? Math.max(10_000, options.durationMs / 4);
    assert(healMs >= 0, 'fault plan: negative heal period');
    this.healAt = sim.now + Math.max(0, options.durationMs - healMs);
    this.random = sim.random.fork('faults');
    this.meanGapMs = options.meanGapMs ?? 3000;
    this.maxDownOption = options.maxDown;
    this.swarm = options.swarm ?? false;
  }

  /** Apply the link faults now and schedule the node/network events and the final heal (add nodes first). */
  install(): void {
    this.maxDown = this.maxDownOption ?? Math.floor((this.sim.nodeNames().length - 1) / 2);
    const { loss, dup, reorder } = this.spec;
    this.sim.links.setDefaults({ loss, dup, reorder });
    this.sim.trace.record('faults.start', formatFaults(this.spec));
    if (this.swarm) {
      const timing = { latencyMs: this.span(0.1, 5), jitterMs: this.span(0, 10), reorderDelayMs: this.span(1, 50) };
      this.sim.links.setDefaults(timing);
      this.sim.trace.record('faults.swarm', ...Object.entries(timing).map(([k, v]) => `${k}=${v.toFixed(3)}`));
    }
    if (this.spec.skew) {
      for (const n of this.sim.nodeNames()) this.sim.setClock(n, { rate: 1 + this.span(-MAX_DRIFT, MAX_DRIFT) });
    }
    if (EVENTS.some((e) => this.spec[e])) this.scheduleNext();
    this.sim.at(this.healAt - this.sim.now, () => this.healAll());
  }

  private scheduleNext(): void {
    const gap = -Math.log(1 - this.random.float()) * this.meanGapMs;
    if (this.sim.now + gap >= this.healAt) return;
    this.sim.at(gap, () => {
      if (this.healed) return;
      this.inject();
      this.scheduleNext();
    });
  }

  private inject(): void {
    const kinds = EVENTS.filter((e) => this.spec[e]);
    const kind = kinds[this.random.int(0, kinds.length)];
    const nodes = this.sim.nodeNames();
    const up = nodes.filter((n) => this.sim.isUp(n));
    const pick = (list: string[]): string | undefined => (list.length === 0 ? undefined : list[this.random.int(0, list.length)]);
    switch (kind) {
      case 'partition':
        if (this.partitioned || nodes.length < 2) return;
        this.partition(nodes);
        return;
      case 'crash': {
        const victim = pick(up);
        if (victim === undefined || nodes.length - up.length >= this.maxDown) return;
        this.counts.crashes++;
        this.sim.crash(victim);
        this.sim.at(this.span(500, 10_000), () => {
          if (!this.sim.isUp(victim)) this.sim.start(victim);
        });
        return;
      }
      case 'pause': {
        const victim = pick(up);
        if (victim === undefined) return;
        this.counts.pauses++;
        this.sim.pause(victim, this.span(100, 3000));
        return;
      }
      case 'skew': {
        const victim = pick(nodes);
        if (victim === undefined) return;
        this.counts.skews++;
        this.sim.setClock(victim, { stepWallMs: this.span(-5000, 5000) });
        return;
      }
      case 'clog': {
        const victim = pick(nodes);
        if (victim === undefined) return;
        this.counts.clogs++;
        this.sim.clog(victim, this.span(100, 3000));
        return;
      }
      default:
        return;
    }
  }

  /** One of: isolate a node, a random split, a one-way cut; healed after 1..10 s. */
  private partition(nodes: string[]): void {
    this.counts.partitions++;
    this.partitioned = true;
    const shape = this.random.int(0, 3);
    const shuffled = this.random.shuffle([...nodes]);
    if (shape === 0) this.sim.isolate(shuffled[0] as string);
    else if (shape === 1) {
      const cut = this.random.int(1, nodes.length);
      this.sim.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
    } else this.sim.cut(shuffled[0] as string, shuffled[1] as string);
    this.sim.at(this.span(1000, 10_000), () => {
      if (this.healed) return;
      this.partitioned = false;
      this.sim.heal();
    });
  }

  private healAll(): void {
    this.healed = true;
    this.sim.links.setDefaults({ loss: 0, dup: 0, reorder: 0 });
    this.sim.heal();
    for (const n of this.sim.nodeNames()) if (!this.sim.isUp(n)) this.sim.start(n);
    this.sim.trace.record('faults.healed');
  }

  private span(lo: number, hi: number): number {
    return lo + this.random.float() * (hi - lo);
  }
}
