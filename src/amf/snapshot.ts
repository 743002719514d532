/**
 * Notices of what a step changed, by comparing the input state with the new one for the nodes and
 * the SGs the step touched (one place, instead of a notice at every mutation). Cost is
 * proportional to the touched SGs, not to the cluster.
 */
import type { AmfNotice, EntityKind } from './commands.js';
import { type Ctx, siAssignmentState, suPresence, suReadiness } from './context.js';
import type { ModelIndex } from './model-index.js';
import type { AmfState, SuState } from './state.js';
import { must } from '../util/assert.js';

function viewOf(idx: ModelIndex, s: AmfState): Ctx {
  return { idx, s, now: 0, commands: [], notices: [], dirty: new Set(), rev: 0 };
}

export function diffNotices(idx: ModelIndex, before: AmfState, after: AmfState, sgs: Iterable<string>): AmfNotice[] {
  const out: AmfNotice[] = [];
  const a = viewOf(idx, before);
  const b = viewOf(idx, after);
  const change = (entity: EntityKind, name: string, attr: string, from: string | undefined, to: string | undefined): void => {
    if (from !== undefined && to !== undefined && from !== to) out.push({ kind: 'state-change', entity, name, attr, from, to });
  };
  for (const [name, n] of Object.entries(after.nodes)) {
    const o = before.nodes[name];
    if (!o || o === n) continue;
    change('node', name, 'membership', o.up ? 'up' : 'down', n.up ? 'up' : 'down');
    change('node', name, 'oper', o.oper, n.oper);
    change('node', name, 'admin', o.admin, n.admin);
  }
  const nodeSame = (n: string | null): boolean => {
    if (n === null) return true;
    const x = before.nodes[n];
    const y = after.nodes[n];
    return x === y || (x !== undefined && y !== undefined && x.up === y.up && x.oper === y.oper && x.admin === y.admin);
  };
  for (const name of sgs) {
    const sg = idx.sgs.get(name);
    if (!sg) continue;
    const sgSame = before.sgs[name]?.admin === after.sgs[name]?.admin;
    // Only SIs whose assignments changed can change assignment state.
    const moved = new Set<string>();
    change('sg', name, 'admin', before.sgs[name]?.admin, after.sgs[name]?.admin);
    for (const u of sg.units) {
      const o = before.sus[u.name];
      const n = after.sus[u.name];
      if (!o || !n) continue;
      // An SU the step did not write can only have changed readiness (through its node or SG).
      if (o === n && sgSame && nodeSame(n.node)) continue; // nothing it depends on changed
      const readiness = suReadiness(b, u.name);
      if (o === n) {
        change('su', u.name, 'readiness', suReadiness(a, u.name), readiness);
        continue;
      }
      change('su', u.name, 'presence', suPresence(o), suPresence(n));
      change('su', u.name, 'oper', o.oper, n.oper);
      change('su', u.name, 'readiness', suReadiness(a, u.name), readiness);
      change('su', u.name, 'admin', o.admin, n.admin);
      change('su', u.name, 'node', o.node ?? '-', n.node ?? '-');
      // A migration's phases: `moving to n2`, `adopting on n2`, then `-` once over.
      const mig = (m: SuState['migration']): string => (m === undefined ? '-' : m.phase === 'moving' ? `moving to ${m.to}` : `adopting on ${m.to}`);
      change('su', u.name, 'migration', mig(o.migration), mig(n.migration));
      for (const c in n.comps) {
        const oc = o.comps[c];
        const nc = must(n.comps[c], 'a component of the model has no state');
        if (!oc || (oc.presence === nc.presence && oc.oper === nc.oper)) continue;
        change('comp', `${u.name}/${c}`, 'presence', oc.presence, nc.presence);
        change('comp', `${u.name}/${c}`, 'oper', oc.oper, nc.oper);
      }
      for (const si in n.assignments) {
        const from = o.assignments[si]?.ha ?? null;
        const to = must(n.assignments[si], 'an assignment listed is missing').ha;
        if (from === to) continue;
        out.push({ kind: 'assignment', si, su: u.name, from, to });
        moved.add(si);
      }
      for (const si in o.assignments) {
        if (si in n.assignments) continue;
        out.push({ kind: 'assignment', si, su: u.name, from: must(o.assignments[si], 'an assignment listed is missing').ha, to: null });
        moved.add(si);
      }
    }
    for (const si of sg.sis) {
      const x = before.sis[si.name];
      const y = after.sis[si.name];
      if (x !== y) change('si', si.name, 'admin', x?.admin, y?.admin);
      if (moved.has(si.name) && x && y) change('si', si.name, 'assignment', siAssignmentState(a, si.name), siAssignmentState(b, si.name));
    }
  }
  return out;
}
