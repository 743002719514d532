/** Keys within a namespace are ordered: numbers numerically, before strings, strings bytewise. */
export type DurableKey = number | string;

export type DurableOp =
  | { readonly op: 'put'; readonly ns: string; readonly key: DurableKey; readonly value: Uint8Array }
  | { readonly op: 'del'; readonly ns: string; readonly key: DurableKey }
  /** Delete every key of ns in [from, to) (to omitted: to the end). */
  | { readonly op: 'delRange'; readonly ns: string; readonly from: DurableKey; readonly to?: DurableKey };

/** The keys in [start, end), ascending, or descending with reverse (the interval is the same). */
export interface RangeOptions {
  /** Inclusive. */
  readonly start?: DurableKey;
  /** Exclusive. */
  readonly end?: DurableKey;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/**
 * A namespaced, ordered key/value store with atomic batches and an explicit durability point.
 * `write` applies a batch atomically and makes it visible to reads at once; it is durable (survives
 * a crash or power loss) only once a later `flush()` has resolved. Raft acknowledges nothing before that.
 */
export interface DurableStore {
  /** Keys are finite numbers or non-empty strings; values are copied in and out. */
  get(ns: string, key: DurableKey): Uint8Array | undefined;
  range(ns: string, options?: RangeOptions): Array<{ key: DurableKey; value: Uint8Array }>;
  write(ops: readonly DurableOp[]): void;
  /** Resolves when every write made before the call is durable. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Named blobs (snapshot files). write() is atomic and durable when it resolves: write to a temp
 * file, fsync, rename, fsync the directory. A crash leaves either the old blob or the new one.
 * Names are plain file names (no '/', not '.' or '..', not empty); a bad name rejects (a caller bug).
 * remove() of a missing blob is a no-op.
 */
export interface BlobStore {
  write(name: string, data: Uint8Array): Promise<void>;
  read(name: string): Promise<Uint8Array | undefined>;
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
}
