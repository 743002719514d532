/**
 * groups.conf: `server_group { … }` blocks (issue 19): a named group of components (typically vm
 * components) whose guests exchange datagrams, state-change notifications and status over their
 * messaging channels, and its placement policy. Part of the model layer (imports model/
 * primitives only).
 */
import { absolutePath, children, locOf, num, optional, optStr, str, type BuildContext, type CheckedBlock } from '../model/checked.js';
import type { ItemList } from '../model/items.js';
import type { SourceLoc } from '../model/loc.js';
import { intKey, nameKey, oneOf, required, textKey, type BlockSpec } from '../model/spec.js';
import { closest } from '../model/suggest.js';

/** anti-affinity: members never share a node while another node can take one; affinity: they prefer one node. */
export const SERVER_GROUP_POLICIES = ['affinity', 'anti-affinity'] as const;
export type ServerGroupPolicy = (typeof SERVER_GROUP_POLICIES)[number];

export const SERVER_GROUP_DEFAULTS = {
  /** Messages a member's guest may send per second (StarlingX had no limit; a flood must not starve the others). */
  broadcastRate: 100,
  /** Messages it may send at once. */
  broadcastBurst: 100,
} as const;

/** The longest instance name: StarlingX's server_group_app prints `%.20s`, its host agent keeps 20 bytes. */
export const MAX_INSTANCE_NAME = 20;
/** The longest display name (nova's display names are longer; this keeps status records small). */
export const MAX_DISPLAY_NAME = 64;

export interface ServerGroupMember {
  /** The member component, by its unit and its name in that unit. */
  readonly unit: string;
  readonly component: string;
  /** What the other members see as its `source_instance` and `instance_id`; unique in the cluster. Default: the unit name. */
  readonly instance: string;
  /** Its `display_name` in status and notifications. Default: the instance name. */
  readonly displayName: string;
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
  /** Per member: messages per second its guest may send (token bucket refill). */
  readonly broadcastRate: number;
  /** Per member: messages its guest may send at once (token bucket size). */
  readonly broadcastBurst: number;
  readonly members: readonly ServerGroupMember[];
  readonly loc: SourceLoc;
}

export const SERVER_GROUP_BLOCK: BlockSpec = {
  keys: { name: required(nameKey), policy: required(oneOf(...SERVER_GROUP_POLICIES)), broadcast_rate: intKey(1), broadcast_burst: intKey(1) },
  blocks: {
    member: { keys: { unit: required(nameKey), component: required(nameKey), channel: textKey, instance: nameKey, display_name: textKey }, blocks: {} },
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
  /** instance name → the member that has it. */
  const instances = new Map<string, { key: string; loc: SourceLoc }>();
  return blocks.map((b) => {
    const name = str(b, 'name') ?? '';
    if (name) ctx.claim('server_group', 'server group', name, locOf(b, 'name'));
    const members = children(b, 'member').map((m) => buildMember(ctx, m, name, candidates, joined, instances));
    if (members.length === 0) ctx.error(b.loc, `server group ${name} has no member`);
    return {
      name,
      policy: (str(b, 'policy') as ServerGroupPolicy | undefined) ?? 'anti-affinity',
      broadcastRate: num(b, 'broadcast_rate') ?? SERVER_GROUP_DEFAULTS.broadcastRate,
      broadcastBurst: num(b, 'broadcast_burst') ?? SERVER_GROUP_DEFAULTS.broadcastBurst,
      members,
      loc: b.loc,
    };
  });
}

function buildMember(
  ctx: BuildContext,
  m: CheckedBlock,
  group: string,
  candidates: MemberCandidates,
  joined: Map<string, { group: string; loc: SourceLoc }>,
  instances: Map<string, { key: string; loc: SourceLoc }>,
): ServerGroupMember {
  const unit = str(m, 'unit') ?? '';
  const component = str(m, 'component') ?? '';
  const what = `server group ${group}`;
  const comps = candidates.units.get(unit);
  let vm = false;
  let again = false;
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
      again = first !== undefined;
      if (first) ctx.error(m.loc, `${what}: ${key} is already a member of server group ${first.group} (line ${first.loc.line}); a component is in one server group at most`);
      else joined.set(key, { group, loc: m.loc });
    }
  }
  const channel = absolutePath(ctx, m, 'channel', `${what}: member ${unit}/${component}`);
  if (channel === undefined && comps?.has(component) && !vm) {
    ctx.error(m.loc, `${what}: member ${unit}/${component} needs "channel" (only a vm component's defaults to its domain's messaging channel)`);
  }
  const given = str(m, 'instance');
  const instance = given ?? unit;
  const at = given === undefined ? m.loc : locOf(m, 'instance');
  const named = given === undefined ? `its instance name defaults to its unit name "${unit}", which` : `instance "${instance}"`;
  const holder = instances.get(instance);
  if (instance && Buffer.byteLength(instance) > MAX_INSTANCE_NAME) {
    ctx.error(at, `${what}: member ${unit}/${component}: ${named} is ${Buffer.byteLength(instance)} bytes, above ${MAX_INSTANCE_NAME}${given === undefined ? '; give the member an "instance"' : ''}`);
  } else if (holder && !again) {
    ctx.error(at, `${what}: member ${unit}/${component}: ${named} is taken by member ${holder.key} (line ${holder.loc.line}); instance names are unique${given === undefined ? '; give the member an "instance"' : ''}`);
  } else if (instance && !holder && comps?.has(component)) instances.set(instance, { key: `${unit}/${component}`, loc: m.loc });
  const displayName = optStr(m, 'display_name') ?? instance;
  if (displayName.length > MAX_DISPLAY_NAME) ctx.error(locOf(m, 'display_name'), `${what}: member ${unit}/${component}: "display_name" must be at most ${MAX_DISPLAY_NAME} characters`);
  return { unit, component, instance, displayName, ...optional('channel', channel), loc: m.loc };
}

export function printServerGroup(g: ServerGroupConfig, l: ItemList): ItemList {
  l.set('name', g.name).set('policy', g.policy);
  l.set('broadcast_rate', g.broadcastRate, SERVER_GROUP_DEFAULTS.broadcastRate).set('broadcast_burst', g.broadcastBurst, SERVER_GROUP_DEFAULTS.broadcastBurst);
  for (const m of g.members) {
    const item = l.nested().set('unit', m.unit).set('component', m.component).set('channel', m.channel);
    l.block('member', item.set('instance', m.instance, m.unit).set('display_name', m.displayName, m.instance));
  }
  return l;
}
