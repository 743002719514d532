/**
 * Cluster formation as pure decisions (the driver is in node.ts): which servers bootstrap Raft,
 * and which single membership change the leader makes next.
 *
 * Raft membership does not follow gossip alone (issue 25: a forged SWIM `alive` made the leader
 * add a voter within 2 s). A seat comes from the committed state: voters are the nodes the
 * committed configuration names and those an operator admitted as voters (an `admit` log entry);
 * anyone else SWIM knows may at most be a non-voter, and only when admitted as one or when the
 * configuration says `allow_joins`. hashicorp/raft leaves the choice to its user; Consul makes a
 * server a voter only after it joined with the gossip key (and ACLs) and `bootstrap_expect`
 * servers agreed on it. Here the configuration is that agreement.
 */
import type { AmfModel } from '../model/index.js';
import type { Server } from '../raft/driver/types.js';
import type { NodeMeta } from './wire.js';

export type Suffrage = 'voter' | 'nonvoter';

/** Who may hold which Raft seat, from the committed state. */
export interface SeatPolicy {
  /** Nodes the committed configuration names (its `node` blocks and the nodes its units name). */
  readonly configured: ReadonlySet<string>;
  /** Seats an operator admitted nodes to (committed `admit` entries). */
  readonly admitted: Readonly<Record<string, Suffrage>>;
  /** groups.conf `cluster { allow_joins = true }`: any other member may join as a non-voter. */
  readonly allowJoins: boolean;
}

/** The nodes a configuration names: its `node` blocks, and the nodes its units are bound to. */
export function configuredNodes(model: AmfModel): Set<string> {
  const names = new Set(model.nodes.map((n) => n.name));
  for (const g of model.groups) for (const u of g.units) for (const n of u.nodes) names.add(n);
  return names;
}

/** The seat `id` may hold (undefined: none; a voter seat may also be taken as a non-voter). */
export function seatOf(policy: SeatPolicy, id: string): Suffrage | undefined {
  if (policy.configured.has(id) || policy.admitted[id] === 'voter') return 'voter';
  if (policy.admitted[id] === 'nonvoter' || policy.allowJoins) return 'nonvoter';
  return undefined;
}

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
 * the cluster). `allowed`, when not empty: only those may be chosen (the nodes of the
 * configuration this node bootstraps with), so a stranger that gossips first cannot take a seat.
 * Null: not now, or not this node.
 */
export function bootstrapServers(self: string, members: readonly MemberInfo[], expect: number, allowed: ReadonlySet<string> = new Set()): Server[] | null {
  const alive = members.filter(usable).filter((m) => allowed.size === 0 || allowed.has(m.name));
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
 * The leader's next Raft membership change, one at a time: remove a voter dead longer than the
 * grace period (`deadSince`: local time SWIM declared it dead or left; kept after SWIM forgets
 * the member); else remove a server that holds a seat the policy does not give it (a voter no
 * longer named, a non-voter no longer allowed; a voter that may only be a non-voter comes back
 * as one next) once the policy names anyone at all (before the first configuration only the
 * bootstrap servers sit); else add an alive member with a seat (a voter while there are fewer
 * than maxVoters, else a non-voter); else promote a non-voter into a free voter seat.
 */
export function nextMembershipChange(
  config: readonly Server[],
  members: readonly MemberInfo[],
  deadSince: ReadonlyMap<string, number>,
  self: string,
  maxVoters: number,
  graceMs: number,
  now: number,
  policy: SeatPolicy,
): MembershipChange | null {
  const byName = new Map(members.map((m) => [m.name, m]));
  const voters = config.filter((s) => s.suffrage !== 'nonvoter');
  for (const v of voters) {
    const since = deadSince.get(v.id);
    if (v.id !== self && byName.get(v.id)?.alive !== true && since !== undefined && now - since >= graceMs) return { kind: 'removeServer', id: v.id };
  }
  const namesAnyone = policy.configured.size > 0 || Object.values(policy.admitted).includes('voter');
  if (namesAnyone) {
    for (const s of config) {
      const seat = seatOf(policy, s.id);
      if (s.id !== self && (seat === undefined || (seat === 'nonvoter' && s.suffrage !== 'nonvoter'))) return { kind: 'removeServer', id: s.id };
    }
  }
  const inConfig = new Set(config.map((s) => s.id));
  const candidates = members.filter(usable).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const m of candidates) {
    const seat = seatOf(policy, m.name);
    if (inConfig.has(m.name) || seat === undefined) continue;
    return { kind: seat === 'voter' && voters.length < maxVoters ? 'addVoter' : 'addNonvoter', id: m.name, address: m.meta.raft };
  }
  if (voters.length < maxVoters) {
    for (const s of config) {
      const m = byName.get(s.id);
      if (s.suffrage === 'nonvoter' && m?.alive && seatOf(policy, s.id) === 'voter') return { kind: 'addVoter', id: s.id, address: m.meta?.raft ?? s.address };
    }
  }
  return null;
}
