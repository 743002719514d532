/**
 * What holds after every engine step, whatever the input: a violation is a bug in the engine,
 * never bad input. The tests (the harness in checked mode: scenarios, properties) and the
 * simulator (every step on every replica) check them; amfd itself does not pay for them.
 *
 * - Serving: in 2N, N+M, N-Way and No-Redundancy at most one SU may be serving an SI (active,
 *   quiescing, or quiesced but not yet confirmed); N-Way-Active and No-Redundancy hold no standby.
 * - The SG's limits: per SU at most Ma active and Ms standby SIs (N+M, N-Way, N-Way-Active), one
 *   SI per SU in No-Redundancy, at most Pa SUs with actives in N+M (Pa as the reduction uses it).
 * - Placement: an SU holding any assignment is placed on a node that is up.
 * - Readiness and admin: an SU is given an active or standby assignment (or changes to one) only
 *   while it is in service; an SI gets a new active only while it is unlocked.
 * - Bookkeeping: oper disabled exactly when a cause is recorded, a reason only while disabled (SUs
 *   and nodes); type faults carry a time and non-negative counts; a failed presence disables the
 *   SU; an armed retry belongs to an instantiation in progress; a fenced node is up; escalation
 *   counters, attempts and failover counts are non-negative integers, levels 0 or 1; an SI swap
 *   names an SU of the SI's group that holds it quiesced; the CSIs waited for are the SU's own.
 */
import { type Ctx, suReadiness } from './context.js';
import { indexModel } from './model-index.js';
import { preferredActive } from './reduction.js';
import type { AmfState, Assignment, SuState } from './state.js';
import type { AmfModel, SgConfig } from '../model/types.js';
import { AssertionError } from '../util/assert.js';

const count = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0;
const time = (t: unknown): boolean => t === null || (typeof t === 'number' && Number.isFinite(t));

/** Possibly still serving the SI: an active, a quiescing, or a quiesced one not yet confirmed. */
function serving(a: Assignment | undefined): boolean {
  return a !== undefined && (a.ha === 'active' || a.ha === 'quiescing' || (a.ha === 'quiesced' && a.waiting.length > 0));
}

function suBookkeeping(name: string, st: SuState, s: AmfState, out: string[]): void {
  const e = st.escalation;
  if (!count(e.compRestarts) || !count(e.suRestarts) || (e.level !== 0 && e.level !== 1)) out.push(`SU ${name}: escalation ${JSON.stringify(e)}`);
  if (!time(e.compProbationEnd) || !time(e.suProbationEnd)) out.push(`SU ${name}: probation ends ${e.compProbationEnd}, ${e.suProbationEnd}`);
  if ((st.oper === 'enabled') !== (st.disabledCause === null)) out.push(`SU ${name}: oper ${st.oper} with disabled cause ${st.disabledCause}`);
  if (st.oper === 'enabled' && st.disabledReason !== undefined) out.push(`SU ${name}: enabled with a disabled reason (${st.disabledReason})`);
  for (const [c, cs] of Object.entries(st.comps)) {
    if (!count(cs.attempt)) out.push(`component ${name}/${c}: attempt ${cs.attempt}`);
    if ((cs.presence === 'instantiation-failed' || cs.presence === 'termination-failed') && st.oper !== 'disabled') out.push(`component ${name}/${c} is ${cs.presence} in an enabled SU`);
    if (cs.retryAt !== null && cs.presence !== 'instantiating' && cs.presence !== 'restarting') out.push(`component ${name}/${c}: a retry is armed while it is ${cs.presence}`);
  }
  const assigned = Object.entries(st.assignments);
  if (assigned.length > 0 && (st.node === null || s.nodes[st.node]?.up !== true)) out.push(`SU ${name} holds ${assigned.map(([si]) => si).join(', ')} on ${st.node === null ? 'no node' : `node ${st.node}, which is down`}`);
  for (const [si, a] of assigned) {
    const csis = a.csis === undefined ? undefined : new Set(Object.keys(a.csis));
    if (new Set(a.waiting).size !== a.waiting.length || (csis !== undefined && a.waiting.some((c) => !csis.has(c)))) out.push(`SU ${name}: ${si} waits for ${a.waiting.join(', ')}`);
  }
}

function sgLimits(sg: SgConfig, s: AmfState, out: string[]): void {
  let activeSus = 0;
  for (const u of sg.units) {
    const as = Object.values(s.sus[u.name]?.assignments ?? {});
    const active = as.filter((a) => a.ha === 'active').length;
    const standby = as.filter((a) => a.ha === 'standby').length;
    if (active > 0) activeSus++;
    if ((sg.model === 'nplusm' || sg.model === 'nway' || sg.model === 'nwayactive') && active > sg.maximumActiveInstances) out.push(`SU ${u.name} holds ${active} active SIs, above Ma ${sg.maximumActiveInstances}`);
    if ((sg.model === 'nplusm' || sg.model === 'nway') && standby > sg.maximumStandbyInstances) out.push(`SU ${u.name} holds ${standby} standby SIs, above Ms ${sg.maximumStandbyInstances}`);
    if ((sg.model === 'nwayactive' || sg.model === 'noredundancy') && standby > 0) out.push(`SU ${u.name} holds a standby assignment in ${sg.model}`);
    if (sg.model === 'noredundancy' && as.length > 1) out.push(`SU ${u.name} holds ${as.length} SIs in No-Redundancy`);
  }
  if (sg.model === 'nplusm') {
    const pa = preferredActive({ sis: sg.sis.length, pa: sg.preferredActiveUnits, ma: sg.maximumActiveInstances });
    if (activeSus > pa) out.push(`SG ${sg.name}: ${activeSus} SUs hold actives, above Pa ${pa} (as the reduction uses it)`);
  }
  if (sg.model === 'nwayactive') return;
  for (const si of sg.sis) {
    const on = sg.units.filter((u) => serving(s.sus[u.name]?.assignments[si.name])).map((u) => u.name);
    if (on.length > 1) out.push(`SI ${si.name} (${sg.model}) is served by ${on.join(' and ')}`);
  }
}

/** Assignments that became active or standby in the step went to SUs in service (and unlocked SIs). */
function transitions(ctx: Ctx, before: AmfState, out: string[]): void {
  for (const [name, st] of Object.entries(ctx.s.sus)) {
    const was = before.sus[name];
    if (was === st) continue; // copy on write: untouched by the step
    for (const [si, a] of Object.entries(st.assignments)) {
      if ((a.ha !== 'active' && a.ha !== 'standby') || was?.assignments[si]?.ha === a.ha) continue;
      if (!ctx.idx.sus.has(name)) continue;
      const r = suReadiness(ctx, name);
      if (r !== 'in-service') out.push(`SU ${name} was given ${si} ${a.ha} while ${r}`);
      const admin = ctx.s.sis[si]?.admin;
      if (a.ha === 'active' && admin !== 'unlocked') out.push(`SI ${si} was given an active on ${name} while ${admin}`);
    }
  }
}

/** Every invariant the state breaks (empty: none). `before`: the step's input state, for the transition checks. */
export function invariantViolations(model: AmfModel, state: AmfState, before?: AmfState): string[] {
  const out: string[] = [];
  const idx = indexModel(model);
  for (const [name, st] of Object.entries(state.sus)) suBookkeeping(name, st, state, out);
  for (const [name, n] of Object.entries(state.nodes)) {
    if (!count(n.failovers) || !time(n.probationEnd)) out.push(`node ${name}: failovers ${n.failovers}, probation end ${n.probationEnd}`);
    if (n.fencing && !n.up) out.push(`node ${name} is fencing while down`);
    if (n.oper === 'enabled' && n.disabledReason !== undefined) out.push(`node ${name}: enabled with a disabled reason (${n.disabledReason})`);
  }
  for (const [name, sg] of Object.entries(state.sgs)) {
    for (const [comp, byNode] of Object.entries(sg.faults ?? {})) {
      for (const [node, f] of Object.entries(byNode)) {
        if (!time(f.at) || f.at === null || !count(f.counted) || !time(f.under)) out.push(`SG ${name}: type fault ${comp}@${node} ${JSON.stringify(f)}`);
      }
    }
  }
  for (const [name, si] of Object.entries(state.sis)) {
    if (si.swapFrom === null) continue;
    const e = idx.sis.get(name);
    if (e === undefined || !e.sg.units.some((u) => u.name === si.swapFrom) || state.sus[si.swapFrom]?.assignments[name]?.ha !== 'quiesced') {
      out.push(`SI ${name}: a swap from ${si.swapFrom}, which does not hold it quiesced`);
    }
  }
  for (const sg of model.groups) sgLimits(sg, state, out);
  if (before !== undefined) transitions({ idx, s: state, now: 0, commands: [], notices: [], dirty: new Set(), rev: 0 }, before, out);
  return out;
}

/** Throws (AssertionError listing them) if the state breaks an invariant. */
export function checkInvariants(model: AmfModel, state: AmfState, before?: AmfState): void {
  const v = invariantViolations(model, state, before);
  if (v.length > 0) throw new AssertionError(`AMF invariants broken: ${v.join('; ')}`);
}
