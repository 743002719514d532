import { randomBytes } from 'node:crypto';
import type { Random } from '../ports/random.js';
import { Xoshiro128 } from '../xoshiro.js';

/** The daemon's Random: xoshiro128** seeded with 128 bits from the OS CSPRNG. */
export function createNodeRandom(): Random {
  const seed = randomBytes(16);
  return new Xoshiro128([seed.readUInt32LE(0), seed.readUInt32LE(4), seed.readUInt32LE(8), seed.readUInt32LE(12)]);
}
