/**
 * Structural check of a document against the schema: unknown blocks and keys (with "did you
 * mean"), duplicates, required keys, and the type of every value. Produces typed blocks for the
 * model builder; every problem becomes a located ConfigError.
 */
import type { CheckedBlock, CheckedValue, Value } from './checked.js';
import type { BlockNode, ConfigDocument, DocItem, EntryNode } from './document.js';
import { ConfigError } from './errors.js';
import type { SourceLoc } from './loc.js';
import { ROOT, walkSchema } from './schema.js';
import { DURATION_MAX, INT_MAX, type BlockSpec, type ValueType } from './spec.js';
import { closest } from './suggest.js';
import { scalarText, splitWords } from './text.js';

const NAME = /^[^\s"#{}\\=]+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Where each key and each block name is allowed, for "belongs in …" hints. */
const homes = { key: new Map<string, Set<string>>(), block: new Map<string, Set<string>>() };
walkSchema((blockName, spec) => {
  const where = blockName === '' ? 'the top level' : blockName;
  const note = (map: Map<string, Set<string>>, word: string): void => {
    map.set(word, (map.get(word) ?? new Set<string>()).add(where));
  };
  for (const word of Object.keys(spec.keys)) note(homes.key, word);
  for (const word of Object.keys(spec.blocks)) note(homes.block, word);
});

export function checkDocument(doc: ConfigDocument, errors: ConfigError[]): CheckedBlock {
  return checkBlock('', { file: doc.file, line: 1, col: 1 }, doc.items, ROOT, errors);
}

function where(blockName: string): string {
  return blockName === '' ? 'at the top level' : `in ${blockName}`;
}

function unknownHint(word: string, spec: BlockSpec, kind: 'key' | 'block'): string {
  const list = (set: Set<string>): string => [...set].sort().join(' or ');
  const elsewhere = homes[kind].get(word);
  if (elsewhere) return ` ("${word}" belongs in ${list(elsewhere)})`;
  const near = closest(word, Object.keys(kind === 'key' ? spec.keys : spec.blocks));
  if (near !== undefined) return `; did you mean "${near}"?`;
  const anywhere = closest(word, homes[kind].keys());
  const home = anywhere !== undefined ? homes[kind].get(anywhere) : undefined;
  return anywhere !== undefined && home ? `; did you mean "${anywhere}" (allowed in ${list(home)})?` : '';
}

function checkBlock(
  blockName: string,
  loc: SourceLoc,
  items: readonly DocItem[],
  spec: BlockSpec,
  errors: ConfigError[],
): CheckedBlock {
  const values = new Map<string, CheckedValue>();
  const free: { key: string; value: string; loc: SourceLoc }[] = [];
  const firstSeen = new Map<string, SourceLoc>();
  const blocks: CheckedBlock[] = [];
  const singles = new Map<string, SourceLoc>();

  for (const item of items) {
    if (item.kind === 'entry') {
      const seen = firstSeen.get(item.key);
      if (seen) {
        errors.push(ConfigError.at(item.loc, `duplicate key "${item.key}" ${where(blockName)} (first set at line ${seen.line})`));
        continue;
      }
      firstSeen.set(item.key, item.loc);
      if (spec.freeform) {
        checkFree(item, blockName, spec.freeform, free, errors);
        continue;
      }
      const keySpec = spec.keys[item.key];
      if (!keySpec) {
        const asBlock = spec.blocks[item.key] ? `; "${item.key}" is a block here: write "${item.key} {"` : '';
        errors.push(ConfigError.at(item.loc, `unknown key "${item.key}" ${where(blockName)}${asBlock || unknownHint(item.key, spec, 'key')}`));
        continue;
      }
      const value = convert(item, keySpec.type, errors);
      if (value !== undefined) values.set(item.key, { value, loc: item.valueLoc });
    } else if (item.kind === 'block') {
      checkChild(item, blockName, spec, singles, blocks, errors);
    }
  }
  for (const [key, keySpec] of Object.entries(spec.keys)) {
    if (keySpec.required && !firstSeen.has(key)) {
      errors.push(ConfigError.at(loc, `${blockName} is missing the required key "${key}"`));
    }
  }
  return { name: blockName, loc, values, free, blocks };
}

function checkChild(
  item: BlockNode,
  blockName: string,
  spec: BlockSpec,
  singles: Map<string, SourceLoc>,
  blocks: CheckedBlock[],
  errors: ConfigError[],
): void {
  const childSpec = spec.blocks[item.name];
  if (!childSpec) {
    const asKey = spec.keys[item.name] ? `; "${item.name}" is a key here: write "${item.name} = value"` : '';
    errors.push(ConfigError.at(item.loc, `unknown block "${item.name}" ${where(blockName)}${asKey || unknownHint(item.name, spec, 'block')}`));
    return;
  }
  if (childSpec.single) {
    const first = singles.get(item.name);
    if (first) {
      errors.push(ConfigError.at(item.loc, `only one "${item.name}" block is allowed ${where(blockName)} (first at line ${first.line})`));
      return;
    }
    singles.set(item.name, item.loc);
  }
  blocks.push(checkBlock(item.name, item.loc, item.items, childSpec, errors));
}

function checkFree(
  item: EntryNode,
  blockName: string,
  kind: 'env' | 'attribute',
  free: { key: string; value: string; loc: SourceLoc }[],
  errors: ConfigError[],
): void {
  if (kind === 'env' && !ENV_NAME.test(item.key)) {
    errors.push(ConfigError.at(item.loc, `invalid environment variable name "${item.key}" in ${blockName} (letters, digits and _, not starting with a digit)`));
    return;
  }
  free.push({ key: item.key, value: scalarText(item.raw), loc: item.valueLoc });
}

function convert(item: EntryNode, type: ValueType, errors: ConfigError[]): Value | undefined {
  const fail = (message: string): undefined => {
    errors.push(ConfigError.at(item.valueLoc, message));
    return undefined;
  };
  const text = scalarText(item.raw);
  const key = item.key;
  if (type.kind === 'string') return text;
  if (text === '' && type.kind !== 'argv') return fail(`"${key}" needs a value`);
  switch (type.kind) {
    case 'name':
      return NAME.test(text) ? text : fail(`invalid name ${JSON.stringify(text)} for "${key}" (no spaces, quotes, braces, "#" or "=")`);
    case 'names': {
      const words = splitWords(item.raw);
      const bad = words.find((w) => !NAME.test(w));
      if (bad !== undefined) return fail(`invalid name ${JSON.stringify(bad)} in "${key}" (no spaces, quotes, braces, "#" or "=")`);
      const dup = words.find((w, i) => words.indexOf(w) !== i);
      if (dup !== undefined) return fail(`"${dup}" is listed twice in "${key}"`);
      return words;
    }
    case 'argv': {
      const words = splitWords(item.raw);
      return words.length > 0 ? words : fail(`"${key}" needs a program to run`);
    }
    case 'int': {
      if (!/^\d+$/.test(text)) return fail(`"${key}" must be a whole number, not ${JSON.stringify(text)}`);
      const n = Number(text);
      if (n < type.min) return fail(`"${key}" must be at least ${type.min}, not ${n}`);
      if (n > INT_MAX) return fail(`"${key}" must be at most ${INT_MAX}, not ${text}`);
      return n;
    }
    case 'duration': {
      const m = /^(\d+)(ms|s|m|h)?$/.exec(text);
      if (!m) return fail(`"${key}" must be a time in milliseconds (or with a unit: 500ms, 10s, 5m, 1h), not ${JSON.stringify(text)}`);
      const scale = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'] ?? 1;
      const n = Number(m[1]) * scale;
      if (n < type.min) return fail(`"${key}" must be at least ${type.min} ms, not ${n}`);
      if (n > DURATION_MAX) return fail(`"${key}" must be at most ${DURATION_MAX} ms, not ${text}`);
      return n;
    }
    case 'bool': {
      const v = text.toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(v)) return true;
      if (['false', 'no', 'off', '0'].includes(v)) return false;
      return fail(`"${key}" must be true or false, not ${JSON.stringify(text)}`);
    }
    case 'enum': {
      // Enum words are matched whole (openais read "non_proxied_non_sa_aware" as "sa_aware").
      // Case and the "_" / "-" spelling of multi-word values do not matter.
      const v = text.toLowerCase();
      const found = type.values.find((x) => x === v || x.replace(/-/g, '_') === v);
      if (found !== undefined) return found;
      const near = closest(v, type.values);
      const hint = near !== undefined ? `; did you mean "${near}"?` : '';
      return fail(`invalid ${key} ${JSON.stringify(text)}: expected one of ${type.values.join(', ')}${hint}`);
    }
    case 'ocf': {
      const m = /^([A-Za-z0-9_.-]+):([A-Za-z0-9_.-]+)$/.exec(text);
      if (!m) return fail(`"${key}" must be provider:agent (e.g. heartbeat:IPaddr2), not ${JSON.stringify(text)}`);
      return { provider: m[1] as string, agent: m[2] as string };
    }
  }
}
