/**
 * A member's status, derived from the committed AMF state alone, so that every node computes the
 * same record for the same log prefix. The record is shaped like the instance info of nova's
 * notifications (what StarlingX guests received): `instance_id`, `display_name`, `hostname`,
 * `host`, `node`, `state`, `state_description`, `launched_at`, plus `server_group` and the AMF
 * `ha_state`. `state` uses nova's words where one fits (docs/server-groups.md has the mapping).
 */
import type { HaState, PresenceState } from '../model/vocabulary.js';
import type { AmfState, SuState } from '../amf/state.js';
import type { ServerGroup, SgMember } from './group.js';

export type MemberState = 'building' | 'active' | 'rebooting' | 'stopping' | 'stopped' | 'error';

export interface MemberStatus {
  readonly instance_id: string;
  readonly display_name: string;
  readonly hostname: string;
  readonly server_group: string;
  /** The node hosting the member (null: not placed). */
  readonly host: string | null;
  readonly node: string | null;
  readonly state: MemberState;
  /** The AMF presence state, and why the member is in error when it is. */
  readonly state_description: string;
  readonly ha_state: HaState | null;
  /** When the member last became instantiated (ISO 8601), null when not known. */
  readonly launched_at: string | null;
}

const STATE_OF: Record<PresenceState, MemberState> = {
  uninstantiated: 'stopped',
  instantiating: 'building',
  instantiated: 'active',
  restarting: 'rebooting',
  terminating: 'stopping',
  'instantiation-failed': 'error',
  'termination-failed': 'error',
};

/** The strongest HA state the member's CSIs hold (the SU's, for assignments without CSI detail). */
const HA_RANK: Record<HaState, number> = { active: 4, quiescing: 3, quiesced: 2, standby: 1 };

function haStateOf(su: SuState, comp: string): HaState | null {
  let best: HaState | null = null;
  for (const a of Object.values(su.assignments)) {
    const mine = a.csis === undefined || Object.values(a.csis).includes(comp);
    if (mine && (best === null || HA_RANK[a.ha] > HA_RANK[best])) best = a.ha;
  }
  return best;
}

export function memberStatus(group: ServerGroup, m: SgMember, amf: AmfState, launchedAt: ReadonlyMap<string, number>): MemberStatus {
  const su = amf.sus[m.su];
  const comp = su?.comps[m.comp];
  const host = su?.node ?? null;
  const presence: PresenceState = comp?.presence ?? 'uninstantiated';
  let state = STATE_OF[presence];
  let description: string = presence;
  if (host !== null && amf.nodes[host]?.up === false) {
    // The engine marks everything on a lost node uninstantiated at once; peers need to know why.
    state = 'error';
    description = `${presence}; host ${host} lost`;
  } else if (comp?.oper === 'disabled' && state !== 'error') {
    state = 'error';
    description = `${presence}; disabled`;
  }
  const launched = launchedAt.get(m.instance);
  return {
    instance_id: m.instance,
    display_name: m.displayName,
    hostname: m.displayName,
    server_group: group.name,
    host,
    node: host,
    state,
    state_description: description,
    ha_state: su ? haStateOf(su, m.comp) : null,
    launched_at: launched === undefined ? null : new Date(launched).toISOString(),
  };
}

/** Every member's status, by instance name, in configuration order. */
export function groupStatuses(groups: readonly ServerGroup[], amf: AmfState, launchedAt: ReadonlyMap<string, number>): Map<string, MemberStatus> {
  const out = new Map<string, MemberStatus>();
  for (const g of groups) for (const m of g.members) out.set(m.instance, memberStatus(g, m, amf, launchedAt));
  return out;
}
