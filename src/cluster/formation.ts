/**
 * Cluster formation as pure decisions (the driver is in node.ts): which servers bootstrap Raft,
 * and which single membership change the leader makes next.
 */
import type { Server } from '../raft/driver/types.js';
import type { NodeMeta } from './wire.js';

export interface MemberInfo {
  readonly name: string;
  readonly alive: boolean;
  readonly meta: NodeMeta | undefined;
}

/** An alive member that announced where its endpoints are. */
function usable(m: MemberInfo): m is MemberInfo & { readonly meta: NodeMeta } {
  return m.alive && m.meta !== undefined;
}

/**
 * The first `expect` alive servers by name bootstrap together, once no alive member is part of a
 * formed cluster (a formed cluster adds newcomers itself; bootstrapping a second one would split
 * the cluster). Null: not now, or not this node.
 */
export function bootstrapServers(self: string, members: readonly MemberInfo[], expect: number): Server[] | null {
  const alive = members.filter(usable);
  if (alive.some((m) => m.meta.formed)) return null;
  if (alive.length < expect) return null;
  const chosen = [...alive].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, expect);
  if (!chosen.some((m) => m.name === self)) return null;
  return chosen.map((m) => ({ id: m.name, address: m.meta.raft }));
}

export type MembershipChange =
  | { readonly kind: 'addVoter' | 'addNonvoter'; readonly id: string; readonly address: string }
  | { readonly kind: 'removeServer'; readonly id: string };

/**
 * The leader's next Raft membership change: remove a voter dead longer than the grace period
 * (`deadSince`: local time SWIM declared it dead or left; kept after SWIM forgets the member),
 * else add an alive member that is missing (voter while there are fewer than maxVoters, else
 * non-voter), else promote a non-voter into a free voter seat. One change at a time.
 */
export function nextMembershipChange(
  config: readonly Server[],
  members: readonly MemberInfo[],
  deadSince: ReadonlyMap<string, number>,
  self: string,
  maxVoters: number,
  graceMs: number,
  now: number,
): MembershipChange | null {
  const byName = new Map(members.map((m) => [m.name, m]));
  const voters = config.filter((s) => s.suffrage !== 'nonvoter');
  for (const v of voters) {
    const since = deadSince.get(v.id);
    if (v.id !== self && byName.get(v.id)?.alive !== true && since !== undefined && now - since >= graceMs) return { kind: 'removeServer', id: v.id };
  }
  const inConfig = new Set(config.map((s) => s.id));
  const candidates = members.filter(usable).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const m of candidates) {
    if (inConfig.has(m.name)) continue;
    return { kind: voters.length < maxVoters ? 'addVoter' : 'addNonvoter', id: m.name, address: m.meta.raft };
  }
  if (voters.length < maxVoters) {
    for (const s of config) {
      const m = byName.get(s.id);
      if (s.suffrage === 'nonvoter' && m?.alive) return { kind: 'addVoter', id: s.id, address: m.meta?.raft ?? s.address };
    }
  }
  return null;
}
