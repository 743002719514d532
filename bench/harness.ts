/**
 * A tiny benchmark harness: warm-up runs, then N measured runs, summarised as median / p99 / min /
 * max. Each run records wall time and this process's CPU time: on a shared, loaded machine CPU
 * time is the steadier figure. Benches print their figures; tests never assert on speed.
 */
import { performance } from 'node:perf_hooks';

export interface MeasureOptions {
  /** Unmeasured runs first (JIT warm-up). Default 2. */
  readonly warmup?: number;
  /** Measured runs. Default 5. */
  readonly runs?: number;
}

export interface Stats {
  readonly runs: number;
  readonly median: number;
  readonly p99: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

export interface Sample {
  readonly wallMs: number;
  /** User + system CPU time of this process during the run. */
  readonly cpuMs: number;
}

/** Wall and CPU milliseconds of each measured run of fn. */
export async function measure(fn: () => unknown, options: MeasureOptions = {}): Promise<Sample[]> {
  for (let i = 0; i < (options.warmup ?? 2); i++) await fn();
  const samples: Sample[] = [];
  for (let i = 0; i < (options.runs ?? 5); i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    samples.push({ wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 });
  }
  return samples;
}

/** The p-th percentile (0..100) of sorted samples, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(samples: readonly number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    median: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}

/** One human-readable line: `name: median X unit, p99 Y unit (min .. max, N runs)`. */
export function formatStats(name: string, s: Stats, unit: string, digits = 1): string {
  const f = (x: number): string => x.toFixed(digits);
  return `${name}: median ${f(s.median)} ${unit}, p99 ${f(s.p99)} ${unit} (min ${f(s.min)} .. max ${f(s.max)}, ${s.runs} runs)`;
}
