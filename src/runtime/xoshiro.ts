import { assert } from '../util/assert.js';
import type { Random } from './ports/random.js';

/**
 * xoshiro128** (Blackman & Vigna), a small, fast PRNG with 128 bits of state. The algorithm is frozen
 * by a golden-vector test: changing it would silently change what every recorded seed replays.
 * The state is expanded from a seed with splitmix32.
 */
export class Xoshiro128 implements Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** @param seed any 32-bit-safe integers; the same seed words always give the same stream. */
  constructor(private readonly seedWords: readonly number[]) {
    assert(seedWords.length > 0, 'xoshiro: empty seed');
    let h = 0x9e3779b9;
    for (const w of seedWords) h = mix32((h ^ (w >>> 0)) >>> 0);
    const sm = splitmix32(h);
    this.s0 = sm();
    this.s1 = sm();
    this.s2 = sm();
    this.s3 = sm();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with the given raw state, to check the algorithm against the published reference. */
  static fromState(state: readonly [number, number, number, number]): Xoshiro128 {
    const g = new Xoshiro128([0]);
    [g.s0, g.s1, g.s2, g.s3] = state.map((w) => w >>> 0) as [number, number, number, number];
    return g;
  }

  static fromSeed(seed: number): Xoshiro128 {
    assert(Number.isSafeInteger(seed), `xoshiro: seed must be a safe integer, got ${seed}`);
    return new Xoshiro128([seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0]);
  }

  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  float(): number {
    // 53 random bits from two draws, as Math.random's precision.
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  int(lo: number, hi: number): number {
    assert(Number.isInteger(lo) && Number.isInteger(hi) && hi > lo, `Random.int: bad range [${lo}, ${hi})`);
    return lo + Math.floor(this.float() * (hi - lo));
  }

  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.nextU32();
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return out;
  }

  fork(label: string): Random {
    return new Xoshiro128([...this.seedWords, fnv1a(label)]);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    return mix32(state);
  };
}

/** FNV-1a over the UTF-16 code units of s. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
