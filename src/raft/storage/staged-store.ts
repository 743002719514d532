import type { DurableKey, DurableOp, DurableStore, RangeOptions } from '../../runtime/ports/storage.js';

/**
 * Collects the writes of one Ready (entries, hard state, addresses) into one batch, so each
 * durability point is one store transaction and one flush. Reads see staged writes (they commit
 * the batch first), so nothing can observe a stale value.
 */
export class StagedStore implements DurableStore {
  private staged: DurableOp[] = [];

  constructor(private readonly inner: DurableStore) {}

  get(ns: string, key: DurableKey): Uint8Array | undefined {
    this.commit();
    return this.inner.get(ns, key);
  }

  range(ns: string, options?: RangeOptions): Array<{ key: DurableKey; value: Uint8Array }> {
    this.commit();
    return this.inner.range(ns, options);
  }

  write(ops: readonly DurableOp[]): void {
    for (const o of ops) this.staged.push(o);
  }

  flush(): Promise<void> {
    this.commit();
    return this.inner.flush();
  }

  close(): Promise<void> {
    this.commit();
    return this.inner.close();
  }

  private commit(): void {
    if (this.staged.length === 0) return;
    const ops = this.staged;
    this.staged = [];
    this.inner.write(ops);
  }
}
