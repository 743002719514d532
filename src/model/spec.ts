/**
 * The vocabulary of the groups.conf schema: value types, key and block specifications and their
 * constructors. schema.ts assembles the language from it, and the modules that own a block
 * (src/vm, src/heartbeat, src/servergroup: their config.ts) describe their blocks with it.
 */
export type ValueType =
  /** Any text (one quoted string, or the rest of the line). */
  | { readonly kind: 'string' }
  /** One word: no spaces, quotes, braces or `#`. */
  | { readonly kind: 'name' }
  /** One or more names separated by spaces. */
  | { readonly kind: 'names' }
  /** A command line: words, quotes group. */
  | { readonly kind: 'argv' }
  | { readonly kind: 'int'; readonly min: number }
  /** Milliseconds; `ms`, `s`, `m` and `h` suffixes accepted. */
  | { readonly kind: 'duration'; readonly min: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** `provider:agent`. */
  | { readonly kind: 'ocf' };

export interface KeySpec {
  readonly type: ValueType;
  readonly required?: boolean;
}

export interface BlockSpec {
  readonly keys: Readonly<Record<string, KeySpec>>;
  readonly blocks: Readonly<Record<string, BlockSpec>>;
  /** Free-form `NAME = value` entries (env, attributes). */
  readonly freeform?: 'env' | 'attribute';
  /** At most one such block per parent. */
  readonly single?: boolean;
}

export const INT_MAX = 1_000_000;
/** Node's timers hold at most 2^31-1 ms (about 24.8 days). */
export const DURATION_MAX = 2_147_483_647;

export const textKey: KeySpec = { type: { kind: 'string' } };
export const nameKey: KeySpec = { type: { kind: 'name' } };
export const namesKey: KeySpec = { type: { kind: 'names' } };
export const boolKey: KeySpec = { type: { kind: 'bool' } };
export const intKey = (min: number): KeySpec => ({ type: { kind: 'int', min } });
export const durationKey = (min: number): KeySpec => ({ type: { kind: 'duration', min } });
export const oneOf = (...values: string[]): KeySpec => ({ type: { kind: 'enum', values } });
export const required = (spec: KeySpec): KeySpec => ({ ...spec, required: true });
