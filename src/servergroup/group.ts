/**
 * Server groups as the messaging core sees them: the `server_group` blocks of the committed
 * configuration (config.ts) with each member's channel resolved (a vm member without `channel`
 * uses its domain's `cgcs.messaging` channel). Instance names are unique in the cluster (a
 * component belongs to at most one server group), so an instance name alone names a member and
 * its group.
 */
import type { AmfModel } from '../model/types.js';
import type { Result } from '../util/result.js';
import type { ServerGroupPolicy } from './config.js';

/** The virtio-serial port name StarlingX guests open (/dev/virtio-ports/cgcs.messaging). */
export const MESSAGING_CHANNEL = 'cgcs.messaging';

export type SgPolicy = ServerGroupPolicy;

export interface SgMember {
  /** What peers see as `source_instance` and `instance_id`. */
  readonly instance: string;
  readonly su: string;
  readonly comp: string;
  /** `display_name` in status and notifications. */
  readonly displayName: string;
  /** The host end of the member's messaging channel (undefined: it could not be found; see problems). */
  readonly channel: string | undefined;
}

export interface ServerGroup {
  readonly name: string;
  readonly policy: SgPolicy;
  readonly members: readonly SgMember[];
  /** Broadcasts a member may send per second (token bucket refill). */
  readonly broadcastRate: number;
  /** Broadcasts a member may send at once (token bucket size). */
  readonly broadcastBurst: number;
}

/** Member by instance name, with its group. */
export function indexMembers(groups: readonly ServerGroup[]): Map<string, { readonly group: ServerGroup; readonly member: SgMember }> {
  const out = new Map<string, { group: ServerGroup; member: SgMember }>();
  for (const group of groups) for (const member of group.members) out.set(member.instance, { group, member });
  return out;
}

/**
 * The configuration's server groups with their channels: `channel` when given, else the messaging
 * channel of the member's vm domain (`domainChannel(xml path)`). What cannot be resolved is
 * reported; that member stays in its group (status and notifications) without a channel.
 */
export function resolveServerGroups(model: AmfModel, domainChannel: (domainXml: string) => Result<string, string>): { groups: ServerGroup[]; problems: string[] } {
  const problems: string[] = [];
  const kinds = new Map(model.groups.flatMap((g) => g.units.flatMap((u) => u.components.map((c) => [`${u.name}/${c.name}`, c.kind] as const))));
  const groups = model.serverGroups.map((g) => ({
    name: g.name,
    policy: g.policy,
    broadcastRate: g.broadcastRate,
    broadcastBurst: g.broadcastBurst,
    members: g.members.map((m): SgMember => {
      let channel = m.channel;
      const kind = kinds.get(`${m.unit}/${m.component}`);
      if (channel === undefined && kind?.type === 'vm') {
        const r = domainChannel(kind.domainXml);
        if (r.ok) channel = r.value;
        else problems.push(`server group ${g.name}: member ${m.unit}/${m.component}: ${kind.domainXml}: ${r.error}`);
      }
      return { instance: m.instance, su: m.unit, comp: m.component, displayName: m.displayName, channel };
    }),
  }));
  return { groups, problems };
}
