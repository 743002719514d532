/**
 * Server groups as the messaging core sees them: a named set of members (components, one
 * messaging channel each) under a placement policy, with the per-member broadcast rate limit.
 * Instance names are unique in the cluster (a component belongs to at most one server group), so
 * an instance name alone names a member and its group.
 */

export type SgPolicy = 'affinity' | 'anti-affinity';

export interface SgMember {
  /** What peers see as `source_instance` and `instance_id` (≤ 20 characters). */
  readonly instance: string;
  readonly su: string;
  readonly comp: string;
  /** `display_name` in status and notifications. */
  readonly displayName: string;
  /** The host end of the member's messaging channel (a unix stream socket path). */
  readonly channel: string;
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

/** The longest instance name: server_group_app prints `%.20s`, host_agent keeps 20 bytes. */
export const MAX_INSTANCE_LEN = 20;

/** Member by instance name, with its group. */
export function indexMembers(groups: readonly ServerGroup[]): Map<string, { readonly group: ServerGroup; readonly member: SgMember }> {
  const out = new Map<string, { group: ServerGroup; member: SgMember }>();
  for (const group of groups) for (const member of group.members) out.set(member.instance, { group, member });
  return out;
}
