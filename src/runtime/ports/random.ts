/**
 * Seeded randomness. Every random choice in amfd comes from a Random, so a simulator seed replays
 * a run exactly. fork(label) derives an independent stream deterministically from this one's seed
 * and the label (not from how much of this stream was consumed), one per node and purpose.
 */
export interface Random {
  /** A uniform unsigned 32-bit integer. */
  nextU32(): number;
  /** A uniform float in [0, 1). */
  float(): number;
  /** A uniform integer in [lo, hi). */
  int(lo: number, hi: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** Shuffle in place (Fisher–Yates) and return the array. */
  shuffle<T>(items: T[]): T[];
  /** Fill a fresh array of n random bytes. */
  bytes(n: number): Uint8Array;
  fork(label: string): Random;
}
