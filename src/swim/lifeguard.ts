import { assert } from '../util/assert.js';

/**
 * Suspicion min timeout: mult · max(1, log10 N) · probe interval (memberlist's suspicionTimeout,
 * which uses log10 although its comment says log(N+1)).
 */
export function suspicionMinMs(mult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return Math.floor(mult * nodeScale * probeIntervalMs);
}

/**
 * Lifeguard's dynamic suspicion timeout after `confirmations` of the `k` expected independent
 * confirmations: max − (max − min) · ln(c + 1) / ln(k + 1), never below min. With k < 1 it is min.
 */
export function suspicionTimeoutMs(confirmations: number, k: number, minMs: number, maxMs: number): number {
  if (k < 1) return minMs;
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  return Math.max(minMs, Math.floor(maxMs - frac * (maxMs - minMs)));
}

/**
 * A running suspicion of one member. The accuser that started it is pre-counted, so it cannot
 * confirm itself; each further distinct accuser moves the deadline earlier, down to start + min.
 */
export class Suspicion {
  private readonly accusers = new Set<string>();
  private confirmations = 0;
  deadline: number;

  constructor(
    from: string,
    readonly incarnation: number,
    private readonly k: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly start: number,
  ) {
    assert(minMs <= maxMs, 'suspicion: min above max');
    this.accusers.add(from);
    this.deadline = start + suspicionTimeoutMs(0, k, minMs, maxMs);
  }

  /** Count an independent accuser; true if it was new (the caller then re-gossips the suspicion). */
  confirm(from: string): boolean {
    if (this.confirmations >= this.k || this.accusers.has(from)) return false;
    this.accusers.add(from);
    this.confirmations++;
    this.deadline = this.start + suspicionTimeoutMs(this.confirmations, this.k, this.minMs, this.maxMs);
    return true;
  }
}

/**
 * Lifeguard's local health multiplier: a saturating score in 0..max-1 that grows when this node
 * misses acks or nacks it expected or has to refute a suspicion of itself, and shrinks on each
 * successful probe. Timeouts are multiplied by score + 1, so a slow node slows its own accusations.
 */
export class Awareness {
  private value = 0;

  constructor(private readonly max: number) {
    assert(max >= 1, 'awareness: max must be >= 1');
  }

  get score(): number {
    return this.value;
  }

  apply(delta: number): void {
    this.value = Math.min(this.max - 1, Math.max(0, this.value + delta));
  }

  scale(ms: number): number {
    return ms * (this.value + 1);
  }
}
