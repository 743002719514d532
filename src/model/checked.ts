/**
 * What the checker (check.ts) hands the model builders: blocks whose every value has the type
 * its schema key says, and typed access to them. Shared by build.ts and the config.ts of the
 * modules that own a block (src/vm, src/heartbeat, src/servergroup).
 */
import { assert } from '../util/assert.js';
import type { SourceLoc } from './loc.js';

export type Value = string | number | boolean | readonly string[] | { readonly provider: string; readonly agent: string };

export interface CheckedValue {
  readonly value: Value;
  readonly loc: SourceLoc;
}

export interface CheckedBlock {
  readonly name: string;
  readonly loc: SourceLoc;
  readonly values: ReadonlyMap<string, CheckedValue>;
  /** Entries of a free-form block, in order. */
  readonly free: readonly { readonly key: string; readonly value: string; readonly loc: SourceLoc }[];
  readonly blocks: readonly CheckedBlock[];
}

/** How a builder reports what is wrong (located) and claims names that must be unique. */
export interface BuildContext {
  error(loc: SourceLoc, message: string): void;
  /** Records a name in a namespace, or reports it as a duplicate of the first. */
  claim(namespace: string, what: string, name: string, loc: SourceLoc, scope?: string): void;
}

// Typed access to checked values: the checker guarantees the type for each key of the schema.
export function get<T extends Value>(b: CheckedBlock, key: string, is: (v: Value) => v is T): T | undefined {
  const v = b.values.get(key)?.value;
  if (v === undefined) return undefined;
  assert(is(v), `schema type mismatch for ${b.name}.${key}`);
  return v;
}
const isStr = (v: Value): v is string => typeof v === 'string';
const isNum = (v: Value): v is number => typeof v === 'number';
const isBool = (v: Value): v is boolean => typeof v === 'boolean';
const isList = (v: Value): v is readonly string[] => Array.isArray(v);
export const isOcf = (v: Value): v is { provider: string; agent: string } => typeof v === 'object' && !Array.isArray(v);

export const str = (b: CheckedBlock, key: string): string | undefined => get(b, key, isStr);
/** openais leaves an unset string empty; here an empty value means "not set". */
export const optStr = (b: CheckedBlock, key: string): string | undefined => str(b, key) || undefined;
export const num = (b: CheckedBlock, key: string): number | undefined => get(b, key, isNum);
export const bool = (b: CheckedBlock, key: string): boolean | undefined => get(b, key, isBool);
export const list = (b: CheckedBlock, key: string): readonly string[] | undefined => get(b, key, isList);
export const locOf = (b: CheckedBlock, key: string): SourceLoc => b.values.get(key)?.loc ?? b.loc;
export const children = (b: CheckedBlock, name: string): CheckedBlock[] => b.blocks.filter((c) => c.name === name);
export const record = (b: CheckedBlock | undefined): Record<string, string> => Object.fromEntries((b?.free ?? []).map((e) => [e.key, e.value]));
export const optional = <K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } => (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };

/** An absolute path, or an error at its key: paths the agent opens must not depend on its working directory. */
export function absolutePath(ctx: BuildContext, b: CheckedBlock, key: string, what: string): string | undefined {
  const p = optStr(b, key);
  if (p !== undefined && !p.startsWith('/')) ctx.error(locOf(b, key), `${what}: "${key}" must be an absolute path, not ${JSON.stringify(p)}`);
  return p;
}
