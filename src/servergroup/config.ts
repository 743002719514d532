/**
 * groups.conf: `server_group { … }` blocks (issue 19): a named group of components (typically vm
 * components) whose guests exchange datagrams, state-change notifications and status over their
 * messaging channels, and its placement policy. Part of the model layer (imports model/
 * primitives only).
 */
import { absolutePath, children, locOf, optional, str, type BuildContext, type CheckedBlock } from '../model/checked.js';
import type { ItemList } from '../model/items.js';
import type { SourceLoc } from '../model/loc.js';
import { nameKey, oneOf, required, textKey, type BlockSpec } from '../model/spec.js';
import { closest } from '../model/suggest.js';

/** anti-affinity: members never share a node while another node can take one; affinity: they prefer one node. */
export const SERVER_GROUP_POLICIES = ['affinity', 'anti-affinity'] as const;
export type ServerGroupPolicy = (typeof SERVER_GROUP_POLICIES)[number];

export interface ServerGroupMember {
  /** The member component, by its unit and its name in that unit. */
  readonly unit: string;
  readonly component: string;
  /**
   * The host end of the member's messaging channel: a unix stream socket that QEMU serves. Unset
   * (vm components only): the domain's messaging channel.
   */
  readonly channel?: string;
  readonly loc: SourceLoc;
}

export interface ServerGroupConfig {
  /** Unique among server groups. */
  readonly name: string;
  readonly policy: ServerGroupPolicy;
  readonly members: readonly ServerGroupMember[];
  readonly loc: SourceLoc;
}

export const SERVER_GROUP_BLOCK: BlockSpec = {
  keys: { name: required(nameKey), policy: required(oneOf(...SERVER_GROUP_POLICIES)) },
  blocks: {
    member: { keys: { unit: required(nameKey), component: required(nameKey), channel: textKey }, blocks: {} },
  },
};

/** What a member may name: the components of the model's units, and which of them are vm components. */
export interface MemberCandidates {
  /** unit name → its components: name → is a vm component. */
  readonly units: ReadonlyMap<string, ReadonlyMap<string, boolean>>;
}

export function buildServerGroups(ctx: BuildContext, blocks: readonly CheckedBlock[], candidates: MemberCandidates): ServerGroupConfig[] {
  /** `unit/component` → the group it joined first and where. */
  const joined = new Map<string, { group: string; loc: SourceLoc }>();
  return blocks.map((b) => {
    const name = str(b, 'name') ?? '';
    if (name) ctx.claim('server_group', 'server group', name, locOf(b, 'name'));
    const members = children(b, 'member').map((m) => buildMember(ctx, m, name, candidates, joined));
    if (members.length === 0) ctx.error(b.loc, `server group ${name} has no member`);
    return { name, policy: (str(b, 'policy') as ServerGroupPolicy | undefined) ?? 'anti-affinity', members, loc: b.loc };
  });
}

function buildMember(ctx: BuildContext, m: CheckedBlock, group: string, candidates: MemberCandidates, joined: Map<string, { group: string; loc: SourceLoc }>): ServerGroupMember {
  const unit = str(m, 'unit') ?? '';
  const component = str(m, 'component') ?? '';
  const what = `server group ${group}`;
  const comps = candidates.units.get(unit);
  let vm = false;
  if (unit && !comps) {
    const near = closest(unit, candidates.units.keys());
    ctx.error(locOf(m, 'unit'), `${what}: no unit "${unit}"${near !== undefined ? `; did you mean "${near}"?` : ''}`);
  } else if (comps && component) {
    const isVm = comps.get(component);
    if (isVm === undefined) {
      const near = closest(component, comps.keys());
      ctx.error(locOf(m, 'component'), `${what}: unit ${unit} has no component "${component}"${near !== undefined ? `; did you mean "${near}"?` : ` (it has: ${[...comps.keys()].join(', ')})`}`);
    } else {
      vm = isVm;
      const key = `${unit}/${component}`;
      const first = joined.get(key);
      if (first) ctx.error(m.loc, `${what}: ${key} is already a member of server group ${first.group} (line ${first.loc.line}); a component is in one server group at most`);
      else joined.set(key, { group, loc: m.loc });
    }
  }
  const channel = absolutePath(ctx, m, 'channel', `${what}: member ${unit}/${component}`);
  if (channel === undefined && comps?.has(component) && !vm) {
    ctx.error(m.loc, `${what}: member ${unit}/${component} needs "channel" (only a vm component's defaults to its domain's messaging channel)`);
  }
  return { unit, component, ...optional('channel', channel), loc: m.loc };
}

export function printServerGroup(g: ServerGroupConfig, l: ItemList): ItemList {
  l.set('name', g.name).set('policy', g.policy);
  for (const m of g.members) l.block('member', l.nested().set('unit', m.unit).set('component', m.component).set('channel', m.channel));
  return l;
}
