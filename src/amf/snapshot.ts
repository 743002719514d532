/**
 * Observable states of every entity, flattened, so a step can report what changed as notices by
 * comparing before and after (one place, instead of a notice at every mutation).
 */
import type { AmfNotice, EntityKind, HaState } from './commands.js';
import { type Ctx, siAssignmentState, suPresence, suReadiness } from './context.js';
import type { ModelIndex } from './model-index.js';
import type { AmfState } from './state.js';

export interface Snapshot {
  /** `entity|name|attr` → value, in model order. */
  readonly attrs: Map<string, string>;
  /** `si|su` → HA state. */
  readonly assignments: Map<string, HaState>;
}

export function snapshot(idx: ModelIndex, s: AmfState): Snapshot {
  const ctx: Ctx = { idx, s, now: 0, commands: [], notices: [], dirty: new Set(), rev: 0 };
  const attrs = new Map<string, string>();
  const put = (e: EntityKind, name: string, attr: string, v: string): void => void attrs.set(`${e}|${name}|${attr}`, v);
  for (const [name, n] of Object.entries(s.nodes)) {
    put('node', name, 'membership', n.up ? 'up' : 'down');
    put('node', name, 'oper', n.oper);
    put('node', name, 'admin', n.admin);
  }
  const assignments = new Map<string, HaState>();
  for (const sg of idx.model.groups) {
    const sgSt = s.sgs[sg.name];
    if (sgSt) put('sg', sg.name, 'admin', sgSt.admin);
    for (const u of sg.units) {
      const st = s.sus[u.name];
      if (!st) continue;
      put('su', u.name, 'presence', suPresence(st));
      put('su', u.name, 'oper', st.oper);
      put('su', u.name, 'readiness', suReadiness(ctx, u.name));
      put('su', u.name, 'admin', st.admin);
      put('su', u.name, 'node', st.node ?? '-');
      for (const [c, cs] of Object.entries(st.comps)) {
        put('comp', `${u.name}/${c}`, 'presence', cs.presence);
        put('comp', `${u.name}/${c}`, 'oper', cs.oper);
      }
      for (const [si, a] of Object.entries(st.assignments)) assignments.set(`${si}|${u.name}`, a.ha);
    }
    for (const si of sg.sis) {
      const st = s.sis[si.name];
      if (!st) continue;
      put('si', si.name, 'admin', st.admin);
      put('si', si.name, 'assignment', siAssignmentState(ctx, si.name));
    }
  }
  return { attrs, assignments };
}

export function diffNotices(a: Snapshot, b: Snapshot): AmfNotice[] {
  const out: AmfNotice[] = [];
  for (const [key, to] of b.attrs) {
    const from = a.attrs.get(key);
    if (from === undefined || from === to) continue;
    const [entity, name, attr] = key.split('|') as [EntityKind, string, string];
    out.push({ kind: 'state-change', entity, name, attr, from, to });
  }
  for (const [key, to] of b.assignments) {
    const from = a.assignments.get(key) ?? null;
    if (from === to) continue;
    const [si, su] = key.split('|') as [string, string];
    out.push({ kind: 'assignment', si, su, from, to });
  }
  for (const [key, from] of a.assignments) {
    if (b.assignments.has(key)) continue;
    const [si, su] = key.split('|') as [string, string];
    out.push({ kind: 'assignment', si, su, from, to: null });
  }
  return out;
}
