import { assert } from '../util/assert.js';

interface Item {
  readonly key: string;
  readonly bytes: Uint8Array;
  transmits: number;
}

/** The smallest membership update (dead, one-character names) is 7 bytes: stop below that. */
const MIN_ITEM = 7;
/** Stop looking for something that fits once this many items in a row did not. */
const MAX_MISSES = 16;

/**
 * Updates waiting to be piggybacked, each sent at most `limit` times (memberlist's
 * TransmitLimitedQueue). Fewest-sent first, so fresh news spreads before old news is repeated.
 * A new update about a member replaces any queued one about the same member (keyed by name).
 */
export class BroadcastQueue {
  private readonly byKey = new Map<string, Item>();
  /** buckets[t] holds the items sent t times, in insertion order. */
  private readonly buckets: Array<Set<Item>> = [];

  get size(): number {
    return this.byKey.size;
  }

  enqueue(key: string, bytes: Uint8Array): void {
    this.remove(key);
    const item: Item = { key, bytes, transmits: 0 };
    this.byKey.set(key, item);
    this.bucket(0).add(item);
  }

  /** How often the update queued under key was sent, or undefined when none is queued. */
  transmits(key: string): number | undefined {
    return this.byKey.get(key)?.transmits;
  }

  remove(key: string): void {
    const old = this.byKey.get(key);
    if (!old) return;
    this.byKey.delete(key);
    this.buckets[old.transmits]?.delete(old);
  }

  /**
   * Take updates whose encoded sizes (plus `perItem` overhead each) fit in `budget` bytes, counting
   * one transmission for each; an update sent `limit` times leaves the queue.
   */
  take(budget: number, limit: number, perItem = 0): Uint8Array[] {
    assert(limit >= 1, 'broadcast queue: limit must be >= 1');
    const taken: Item[] = [];
    let left = budget;
    let misses = 0;
    outer: for (const bucket of this.buckets) {
      if (!bucket) continue;
      for (const item of bucket) {
        const cost = item.bytes.length + perItem;
        if (cost <= left) {
          taken.push(item);
          left -= cost;
          misses = 0;
        } else if (++misses >= MAX_MISSES) {
          break outer;
        }
        if (left < MIN_ITEM) break outer;
      }
    }
    for (const item of taken) {
      this.buckets[item.transmits]?.delete(item);
      item.transmits++;
      if (item.transmits >= limit) this.byKey.delete(item.key);
      else this.bucket(item.transmits).add(item);
    }
    return taken.map((i) => i.bytes);
  }

  private bucket(t: number): Set<Item> {
    let b = this.buckets[t];
    if (!b) {
      for (let i = this.buckets.length; i <= t; i++) this.buckets[i] = new Set();
      b = this.buckets[t] as Set<Item>;
    }
    return b;
  }
}
