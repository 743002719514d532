/**
 * Semantic diff of two models: which entities were added or removed, and for the others each
 * attribute that changed, old → new. It compares the explicit printed form, so attribute names are
 * the config keys an operator knows, and a changed default (e.g. a group's maxima growing with
 * its SIs) is still reported.
 */
import type { BlockNode, DocItem } from './document.js';
import { modelToDocument } from './print.js';
import { scalarText } from './text.js';
import type { AmfModel } from './types.js';

export type EntityType = 'cluster' | 'node' | 'group' | 'unit' | 'component' | 'serviceinstance' | 'csi' | 'healthcheck' | 'servergroup';

export interface EntityRef {
  readonly type: EntityType;
  /** Names from the top: ['webtier', 'SU_2', 'comp_a'] for a component. */
  readonly path: readonly string[];
  /** How the entity reads in text: `SU_2`, `SU_2/comp_a`, `node n1`, `healthcheck hc1`. */
  readonly label: string;
}

export type ModelChange =
  | { readonly op: 'add' | 'remove'; readonly entity: EntityRef }
  | {
      readonly op: 'modify';
      readonly entity: EntityRef;
      /** The config key (`node`, `env.PATH`, `csi_type_name`). */
      readonly attribute: string;
      /** The value as text; undefined when the attribute is not set on that side. */
      readonly old?: string;
      readonly new?: string;
    };

const BLOCK_TYPE: Readonly<Record<string, EntityType>> = {
  cluster: 'cluster',
  node: 'node',
  group: 'group',
  unit: 'unit',
  component: 'component',
  serviceinstance: 'serviceinstance',
  csi_descriptor: 'csi',
  healthcheck: 'healthcheck',
  server_group: 'servergroup',
};

/** Nested blocks that are part of their parent's attributes rather than entities of their own. */
const LIST_BLOCKS: Readonly<Record<string, (b: BlockNode) => string>> = {
  csi_type_name: (b) => valueOf(b, 'name') ?? '',
  name_value: (b) => `${valueOf(b, 'name') ?? ''}=${valueOf(b, 'value') ?? ''}`,
  member: (b) => `${valueOf(b, 'unit') ?? ''}/${valueOf(b, 'component') ?? ''}${valueOf(b, 'channel') === undefined ? '' : `=${valueOf(b, 'channel') ?? ''}`}`,
};

/** Blocks whose mere presence means something (a component with guest heartbeat, even with no keys). */
const PRESENCE_BLOCKS = new Set(['guest_heartbeat']);

function valueOf(b: BlockNode, key: string): string | undefined {
  for (const item of b.items) if (item.kind === 'entry' && item.key === key) return scalarText(item.raw);
  return undefined;
}

interface Flat {
  readonly attrs: Map<string, string>;
  readonly children: Map<string, { readonly ref: EntityRef; readonly block: BlockNode }>;
}

function flatten(items: readonly DocItem[], parent: readonly string[]): Flat {
  const attrs = new Map<string, string>();
  const children = new Map<string, { ref: EntityRef; block: BlockNode }>();
  const lists = new Map<string, string[]>();
  for (const item of items) {
    if (item.kind === 'entry') attrs.set(item.key, scalarText(item.raw));
    if (item.kind !== 'block') continue;
    const type = BLOCK_TYPE[item.name];
    const listed = LIST_BLOCKS[item.name];
    if (listed) {
      lists.set(item.name, [...(lists.get(item.name) ?? []), listed(item)]);
    } else if (type === undefined) {
      // env, attributes, vm, guest_heartbeat: their entries are the parent's attributes.
      if (PRESENCE_BLOCKS.has(item.name)) attrs.set(item.name, 'present');
      for (const e of item.items) if (e.kind === 'entry') attrs.set(`${item.name}.${e.key}`, scalarText(e.raw));
    } else {
      const name = valueOf(item, type === 'healthcheck' ? 'key' : type === 'csi' ? 'csi_name' : 'name') ?? '';
      const ref = entityRef(type, [...parent, name]);
      children.set(`${item.name}:${name}`, { ref, block: item });
    }
  }
  for (const [k, v] of lists) attrs.set(k, v.join(' '));
  return { attrs, children };
}

function entityRef(type: EntityType, path: readonly string[]): EntityRef {
  const name = path[path.length - 1] ?? '';
  switch (type) {
    case 'cluster':
      return { type, path: [], label: 'cluster' };
    case 'node':
      return { type, path, label: `node ${name}` };
    case 'healthcheck':
      return { type, path, label: path.length === 1 ? `healthcheck ${name}` : `${path.slice(1, -1).join('/')}/healthcheck ${name}` };
    case 'servergroup':
      return { type, path, label: `server group ${name}` };
    case 'component':
    case 'csi':
      // Units and SIs have cluster-wide names, so the group is left out.
      return { type, path, label: path.slice(1).join('/') };
    case 'group':
    case 'unit':
    case 'serviceinstance':
      return { type, path, label: name };
  }
}

export function diffModels(a: AmfModel, b: AmfModel): ModelChange[] {
  const changes: ModelChange[] = [];
  const walk = (oldItems: readonly DocItem[], newItems: readonly DocItem[], path: readonly string[], self?: EntityRef): void => {
    const before = flatten(oldItems, path);
    const after = flatten(newItems, path);
    if (self) {
      const keys = [...before.attrs.keys(), ...[...after.attrs.keys()].filter((k) => !before.attrs.has(k))];
      for (const attribute of keys) {
        const o = before.attrs.get(attribute);
        const n = after.attrs.get(attribute);
        if (o === n) continue;
        changes.push({ op: 'modify', entity: self, attribute, ...(o !== undefined ? { old: o } : {}), ...(n !== undefined ? { new: n } : {}) });
      }
    }
    for (const [id, { ref, block }] of before.children) {
      const other = after.children.get(id);
      if (!other) changes.push({ op: 'remove', entity: ref });
      else walk(block.items, other.block.items, ref.path, ref);
    }
    for (const [id, { ref }] of after.children) if (!before.children.has(id)) changes.push({ op: 'add', entity: ref });
  };
  walk(modelToDocument(a, { explicit: true }).items, modelToDocument(b, { explicit: true }).items, []);
  return changes;
}

/** `SU_2 modify: node changed :: "n1" -> "n3"`. */
export function formatChange(c: ModelChange): string {
  if (c.op !== 'modify') return `${c.entity.label} ${c.op}`;
  return `${c.entity.label} modify: ${c.attribute} changed :: ${showValue(c.old)} -> ${showValue(c.new)}`;
}

function showValue(v: string | undefined): string {
  if (v === undefined) return '(unset)';
  return /^\d+$|^(true|false)$/.test(v) ? v : JSON.stringify(v);
}
