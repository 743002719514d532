/**
 * The read views of the API built from the model and the AMF state, with the derived states
 * (SU presence and readiness, SI assignment state) computed by the engine's own functions so the
 * API never disagrees with the engine.
 */
import type { CompView, GroupView, NodeLease, NodeView, SiView, SuView } from './backend.js';
import { type Ctx, siAssignmentState, suPresence, suReadiness } from '../amf/context.js';
import { indexModel } from '../amf/model-index.js';
import type { AmfState } from '../amf/state.js';
import type { AmfModel, CompConfig } from '../model/index.js';
import type { ClusterState } from '../cluster/fsm.js';

function ctxOf(model: AmfModel, state: AmfState): Ctx {
  return { idx: indexModel(model), s: state, now: 0, commands: [], notices: [], dirty: new Set(), rev: 0 };
}

/**
 * Every SG in config order: its SUs by rank with their components (with their last CLC-CLI error
 * and their guest's heartbeat, from the cluster's state), its SIs with their assignments.
 */
export function groupViews(model: AmfModel, state: AmfState, facts: Partial<Pick<ClusterState, 'compErrors' | 'guestHeartbeats'>> = {}): GroupView[] {
  const ctx = ctxOf(model, state);
  return model.groups.map((sg) => {
    const suOrder = ctx.idx.rankedSus.get(sg.name) ?? [];
    const siOrder = ctx.idx.rankedSis.get(sg.name) ?? [];
    const units: SuView[] = [];
    for (const name of suOrder) {
      const st = state.sus[name];
      if (!st) continue;
      const configs = new Map((ctx.idx.sus.get(name)?.cfg.components ?? []).map((c) => [c.name, c]));
      units.push({
        name,
        node: st.node,
        admin: st.admin,
        oper: st.oper,
        disabledCause: st.disabledCause,
        disabledReason: st.oper === 'disabled' ? (st.disabledReason ?? null) : null,
        presence: suPresence(st),
        readiness: suReadiness(ctx, name),
        components: Object.entries(st.comps).map(([c, cs]) => {
          const e = facts.compErrors?.[`${name}/${c}`];
          const hb = facts.guestHeartbeats?.[name]?.[c];
          return {
            ...compConfig(c, configs.get(c)),
            presence: cs.presence,
            oper: cs.oper,
            attempt: cs.attempt,
            ...(e ? { lastError: { reason: e.reason, at: new Date(e.time).toISOString() } } : {}),
            ...(hb === undefined ? {} : { guestHeartbeat: { status: hb.status, reason: hb.reason, node: hb.node, since: new Date(hb.since).toISOString() } }),
          };
        }),
        assignments: siOrder.flatMap((si) => {
          const a = st.assignments[si];
          return a ? [{ si, ha: a.ha }] : [];
        }),
        escalation: { compRestarts: st.escalation.compRestarts, suRestarts: st.escalation.suRestarts },
      });
    }
    const sis: SiView[] = [];
    for (const name of siOrder) {
      const st = state.sis[name];
      if (!st) continue;
      sis.push({
        name,
        group: sg.name,
        admin: st.admin,
        assignment: siAssignmentState(ctx, name),
        assignments: suOrder.flatMap((su) => {
          const s = state.sus[su];
          const a = s?.assignments[name];
          return s && a ? [{ su, node: s.node, ha: a.ha }] : [];
        }),
      });
    }
    return { name: sg.name, model: sg.model, admin: state.sgs[sg.name]?.admin ?? sg.adminState, units, sis };
  });
}

function compConfig(name: string, c: CompConfig | undefined): Pick<CompView, 'name' | 'kind' | 'category' | 'healthchecks'> {
  return {
    name,
    kind: c?.kind.type ?? 'clccli',
    category: c?.category ?? 'sa_aware',
    healthchecks: (c?.healthchecks ?? []).map((h) => ({ key: h.key, periodMs: h.periodMs, invocation: h.invocation })),
  };
}

/** What the cluster knows of its nodes besides the AMF state (src/cluster/fsm.ts, Raft's configuration). */
export interface NodeFacts {
  /** The Raft leader this node knows. */
  readonly leader: string | null;
  /** Membership as the cluster decided it: incarnation, up, and the time of the last change (ms). */
  readonly members: Readonly<Record<string, { readonly inc: string; readonly up: boolean; readonly since: number }>>;
  /** Nodes whose lease the leader stopped renewing. */
  readonly condemned: Readonly<Record<string, string>>;
  /** Raft servers by id. */
  readonly suffrage: ReadonlyMap<string, 'voter' | 'nonvoter'>;
}

function leaseOf(f: NodeFacts, name: string): NodeLease {
  const m = f.members[name];
  if (!m || m.inc === '') return 'none';
  if (!m.up) return 'expired';
  return name in f.condemned ? 'condemned' : 'held';
}

/** Every node the AMF knows, with the SUs placed on it, its lease and its place in Raft. */
export function nodeViews(state: AmfState, facts: NodeFacts): NodeView[] {
  return Object.entries(state.nodes).map(([name, n]) => {
    const m = facts.members[name];
    return {
      name,
      up: n.up,
      admin: n.admin,
      oper: n.oper,
      disabledReason: n.oper === 'disabled' ? (n.disabledReason ?? null) : null,
      leader: name === facts.leader,
      sus: Object.entries(state.sus)
        .filter(([, su]) => su.node === name)
        .map(([su]) => su),
      lease: leaseOf(facts, name),
      incarnation: m?.inc ?? '',
      since: m && m.inc !== '' ? new Date(m.since).toISOString() : null,
      raft: name === facts.leader ? 'leader' : (facts.suffrage.get(name) ?? null),
    };
  });
}
