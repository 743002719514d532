import type { DurableStore } from '../../runtime/ports/storage.js';
import { packr } from './codec.js';

/**
 * Small durable key/values (hashicorp StableStore): current term, vote, commit, membership.
 * Writes are visible at once and durable after `sync()` (one flush shared with the log store).
 */
export interface StableStore {
  set(key: string, value: Uint8Array): void;
  get(key: string): Uint8Array | undefined;
  setUint64(key: string, value: number): void;
  getUint64(key: string): number;
  sync(): Promise<void>;
}

export class DurableStableStore implements StableStore {
  constructor(
    private readonly store: DurableStore,
    private readonly ns = 'raft.stable',
  ) {}

  set(key: string, value: Uint8Array): void {
    this.store.write([{ op: 'put', ns: this.ns, key, value }]);
  }

  get(key: string): Uint8Array | undefined {
    return this.store.get(this.ns, key);
  }

  setUint64(key: string, value: number): void {
    this.set(key, packr.pack(value));
  }

  /** 0 when unset (or unreadable: a number we cannot read is as good as none, and logged by callers). */
  getUint64(key: string): number {
    const raw = this.get(key);
    if (!raw) return 0;
    const v: unknown = packr.unpack(raw);
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
  }

  sync(): Promise<void> {
    return this.store.flush();
  }
}
