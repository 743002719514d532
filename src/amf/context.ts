/**
 * The working context of one engine step and the derived states (SU presence and readiness, SI
 * assignment state) that are computed from stored state rather than stored, so they never drift.
 */
import type { AmfCommand, AmfNotice, PresenceState, ReadinessState, SiAssignmentState } from './commands.js';
import type { ModelIndex } from './model-index.js';
import type { AmfState, SuState } from './state.js';
import { assert } from '../util/assert.js';

export interface Ctx {
  readonly idx: ModelIndex;
  /** The draft state of this step (a private copy; mutated in place). */
  readonly s: AmfState;
  readonly now: number;
  readonly commands: AmfCommand[];
  readonly notices: AmfNotice[];
  /** SGs whose assignments must be reconciled before the step ends. */
  readonly dirty: Set<string>;
  /** Bumped by every mutation of an SU, so reconcile can tell when an SG has settled. */
  rev: number;
}

export function su(ctx: Ctx, name: string): SuState {
  const st = ctx.s.sus[name];
  assert(st !== undefined, `unknown SU ${name}`);
  return st;
}

export function markSuDirty(ctx: Ctx, name: string): void {
  const e = ctx.idx.sus.get(name);
  if (e) ctx.dirty.add(e.sg.name);
  ctx.rev++;
}

/** SU presence from its components (the spec aggregates, worst first). */
export function suPresence(st: SuState): PresenceState {
  let all = 0;
  let inst = 0;
  let uninst = 0;
  const seen = new Set<PresenceState>();
  for (const c in st.comps) {
    const p = st.comps[c]!.presence;
    all++;
    if (p === 'instantiated') inst++;
    else if (p === 'uninstantiated') uninst++;
    else seen.add(p);
  }
  if (seen.has('termination-failed')) return 'termination-failed';
  if (seen.has('instantiation-failed')) return 'instantiation-failed';
  if (seen.has('restarting')) return 'restarting';
  if (seen.has('terminating')) return 'terminating';
  if (seen.has('instantiating')) return 'instantiating';
  if (all === inst) return all === 0 ? 'uninstantiated' : 'instantiated';
  if (all === uninst) return 'uninstantiated';
  return inst > 0 ? 'instantiating' : 'uninstantiated';
}

/** A node the engine may put work on: up, enabled. */
export function nodeUsable(ctx: Ctx, node: string | null): boolean {
  if (node === null) return false;
  const n = ctx.s.nodes[node];
  return n !== undefined && n.up && n.oper === 'enabled';
}

/**
 * SU readiness (spec): in service when the SU and its node are enabled, the SU is instantiated
 * (or restarting, which keeps its assignments) and the SU, its SG and its node are unlocked;
 * stopping while any of them is shutting down or a node switchover evacuates the SU.
 */
export function suReadiness(ctx: Ctx, name: string): ReadinessState {
  const st = su(ctx, name);
  const sg = ctx.s.sgs[ctx.idx.sus.get(name)!.sg.name]!;
  if (st.oper !== 'enabled' || !nodeUsable(ctx, st.node)) return 'out-of-service';
  const p = suPresence(st);
  if (p !== 'instantiated' && p !== 'restarting') return 'out-of-service';
  const node = ctx.s.nodes[st.node!]!;
  const admins = [st.admin, sg.admin, node.admin];
  if (admins.some((a) => a === 'locked' || a === 'locked-instantiation')) return 'out-of-service';
  if (admins.includes('shutting-down') || st.evacuate) return 'stopping';
  return 'in-service';
}

/** An SU may be given new assignments: in service and fully instantiated (not mid-restart). */
export function suAssignable(ctx: Ctx, name: string): boolean {
  return suReadiness(ctx, name) === 'in-service' && suPresence(su(ctx, name)) === 'instantiated';
}

/** Whether an SU should have its components running (instantiation wanted). */
export function suShouldRun(ctx: Ctx, name: string): boolean {
  const st = su(ctx, name);
  if (st.oper !== 'enabled') return false;
  const sg = ctx.s.sgs[ctx.idx.sus.get(name)!.sg.name]!;
  if (st.admin === 'locked-instantiation' || sg.admin === 'locked-instantiation') return false;
  if (st.node === null) return true;
  const node = ctx.s.nodes[st.node];
  return nodeUsable(ctx, st.node) && node!.admin !== 'locked-instantiation';
}

/** SI assignment state: fully assigned needs an active and the preferred standbys/actives. */
export function siAssignmentState(ctx: Ctx, si: string): SiAssignmentState {
  const e = ctx.idx.sis.get(si);
  if (!e) return 'unassigned';
  let active = 0;
  let standby = 0;
  for (const u of e.sg.units) {
    const a = ctx.s.sus[u.name]?.assignments[si];
    if (a?.ha === 'active') active++;
    else if (a?.ha === 'standby') standby++;
  }
  if (active === 0) return 'unassigned';
  const full = (() => {
    switch (e.sg.model) {
      case '2n':
      case 'nplusm':
        return standby >= 1;
      case 'nway':
        return standby >= e.cfg.preferredStandbyAssignments;
      case 'nwayactive':
        return active >= e.cfg.preferredActiveAssignments;
      case 'noredundancy':
        return true;
    }
  })();
  return full ? 'fully-assigned' : 'partially-assigned';
}

export function setTimer(ctx: Ctx, id: string, at: number): void {
  ctx.commands.push({ kind: 'timer-set', id, at });
}

export function cancelTimer(ctx: Ctx, id: string): void {
  ctx.commands.push({ kind: 'timer-cancel', id });
}
