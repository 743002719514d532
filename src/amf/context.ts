/**
 * The working context of one engine step and the derived states (SU presence and readiness, SI
 * assignment state) that are computed from stored state rather than stored, so they never drift.
 */
import type { AmfCommand, AmfNotice } from './commands.js';
import type { PresenceState, ReadinessState, SiAssignmentState } from '../model/vocabulary.js';
import type { ModelIndex } from './model-index.js';
import { type AmfState, type SiState, type SuState, cloneSu } from './state.js';
import type { SgConfig, SiConfig } from '../model/types.js';
import { AssertionError, must } from '../util/assert.js';

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
  /** SGs reconciled in this step (their changes are reported as notices). */
  readonly touched?: Set<string>;
  /**
   * What the draft already owns: `su:NAME`, `si:NAME` (copied entries), `#su`, `#si` (copied
   * records). Absent: the draft is private and writable as is.
   */
  readonly owned?: Set<string>;
}

/**
 * The SU's state, writable: the draft shares unchanged SUs with the input state (copy on write),
 * so every mutation of an SU goes through here. Plain reads may use `ctx.s.sus[name]`.
 */
export function su(ctx: Ctx, name: string): SuState {
  const st = ctx.s.sus[name];
  if (st === undefined) throw new AssertionError(`unknown SU ${name}`);
  if (ctx.owned === undefined || ctx.owned.has(`su:${name}`)) return st;
  ownSuRecord(ctx);
  const copy = cloneSu(st);
  ctx.s.sus[name] = copy;
  ctx.owned.add(`su:${name}`);
  return copy;
}

/** The SI's state, writable (copy on write, as for SUs). */
export function si(ctx: Ctx, name: string): SiState {
  const st = ctx.s.sis[name];
  if (st === undefined) throw new AssertionError(`unknown SI ${name}`);
  if (ctx.owned === undefined || ctx.owned.has(`si:${name}`)) return st;
  ownSiRecord(ctx);
  const copy = { ...st };
  ctx.s.sis[name] = copy;
  ctx.owned.add(`si:${name}`);
  return copy;
}

/** A shallow copy of a large record: a key loop is about twice as fast as spread on V8. */
function copyRecord<T>(src: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(src)) out[k] = must(src[k], 'k is a key of src');
  return out;
}

/** The draft shares the input's SU record until the first SU write; then it gets its own. */
export function ownSuRecord(ctx: Ctx): void {
  if (ctx.owned === undefined || ctx.owned.has('#su')) return;
  ctx.s.sus = copyRecord(ctx.s.sus);
  ctx.owned.add('#su');
}

/** The draft shares the input's SI record until the first SI write; then it gets its own. */
export function ownSiRecord(ctx: Ctx): void {
  if (ctx.owned === undefined || ctx.owned.has('#si')) return;
  ctx.s.sis = copyRecord(ctx.s.sis);
  ctx.owned.add('#si');
}

/** The SU's state for reading only (it may be shared with the step's input). */
export function peek(ctx: Ctx, name: string): SuState {
  const st = ctx.s.sus[name];
  // Not assert(): its message would be built on every call of this hot path.
  if (st === undefined) throw new AssertionError(`unknown SU ${name}`);
  return st;
}

export function markSuDirty(ctx: Ctx, name: string): void {
  const e = ctx.idx.sus.get(name);
  if (e) ctx.dirty.add(e.sg.name);
  ctx.rev++;
}

/** SU presence from its components (the spec aggregates, worst first). Hot: no allocation. */
export function suPresence(st: SuState): PresenceState {
  let all = 0;
  let inst = 0;
  let uninst = 0;
  let termFailed = false;
  let instFailed = false;
  let restarting = false;
  let terminating = false;
  let instantiating = false;
  for (const c in st.comps) {
    const p = must(st.comps[c], 'a component of the model has no state').presence;
    all++;
    if (p === 'instantiated') inst++;
    else if (p === 'uninstantiated') uninst++;
    else if (p === 'termination-failed') termFailed = true;
    else if (p === 'instantiation-failed') instFailed = true;
    else if (p === 'restarting') restarting = true;
    else if (p === 'terminating') terminating = true;
    else instantiating = true;
  }
  if (termFailed) return 'termination-failed';
  if (instFailed) return 'instantiation-failed';
  if (restarting) return 'restarting';
  if (terminating) return 'terminating';
  if (instantiating) return 'instantiating';
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

/** A node an escalation may still rely on: usable and unlocked. */
export function nodeInService(ctx: Ctx, node: string): boolean {
  return nodeUsable(ctx, node) && ctx.s.nodes[node]?.admin === 'unlocked';
}

/** The nodes that may host the SU: its own list, else the model's nodes, else any node known. */
export function allowedNodes(ctx: Ctx, suName: string): readonly string[] {
  const e = must(ctx.idx.sus.get(suName), 'an SU not in the model');
  return e.cfg.nodes.length > 0 ? e.cfg.nodes : ctx.idx.nodeNames.length > 0 ? ctx.idx.nodeNames : Object.keys(ctx.s.nodes).sort();
}

/**
 * SU readiness (spec): in service when the SU and its node are enabled, the SU is instantiated
 * (or restarting, which keeps its assignments) and the SU, its SG and its node are unlocked;
 * stopping while any of them is shutting down or a node switchover evacuates the SU.
 */
export function suReadiness(ctx: Ctx, name: string): ReadinessState {
  const st = peek(ctx, name);
  const sg = must(ctx.s.sgs[must(ctx.idx.sus.get(name), 'an SU not in the model').sg.name], 'an SG of the model has no state');
  if (st.oper !== 'enabled' || !nodeUsable(ctx, st.node)) return 'out-of-service';
  const p = suPresence(st);
  if (p !== 'instantiated' && p !== 'restarting') return 'out-of-service';
  const node = must(ctx.s.nodes[must(st.node, 'an SU in service is placed on a node')], 'a node in use has no state');
  const admins = [st.admin, sg.admin, node.admin];
  if (admins.some((a) => a === 'locked' || a === 'locked-instantiation')) return 'out-of-service';
  if (admins.includes('shutting-down') || st.evacuate) return 'stopping';
  return 'in-service';
}

/** An SU may be given new assignments: in service and fully instantiated (not mid-restart). */
export function suAssignable(ctx: Ctx, name: string): boolean {
  return suReadiness(ctx, name) === 'in-service' && suPresence(peek(ctx, name)) === 'instantiated';
}

/** Whether an SU should have its components running (instantiation wanted). */
export function suShouldRun(ctx: Ctx, name: string): boolean {
  const st = peek(ctx, name);
  if (st.oper !== 'enabled') return false;
  const sg = must(ctx.s.sgs[must(ctx.idx.sus.get(name), 'an SU not in the model').sg.name], 'an SG of the model has no state');
  if (st.admin === 'locked-instantiation' || sg.admin === 'locked-instantiation') return false;
  if (st.node === null) return true;
  const node = ctx.s.nodes[st.node];
  return nodeUsable(ctx, st.node) && must(node, 'a usable node has state').admin !== 'locked-instantiation';
}

/** SI assignment state: fully assigned needs an active and the preferred standbys (or actives, N-Way-Active). */
export function siAssignmentState(ctx: Ctx, si: string): SiAssignmentState {
  const e = ctx.idx.sis.get(si);
  if (!e) return 'unassigned';
  let active = 0;
  let standby = 0;
  for (const u of e.sg.units) {
    const h = ctx.s.sus[u.name]?.assignments[si]?.ha;
    if (h === 'active') active++;
    else if (h === 'standby') standby++;
  }
  if (active === 0) return 'unassigned';
  return fullyAssigned(e.sg, e.cfg, active, standby) ? 'fully-assigned' : 'partially-assigned';
}

function fullyAssigned(sg: SgConfig, si: SiConfig, active: number, standby: number): boolean {
  switch (sg.model) {
    case '2n':
    case 'nplusm':
      return standby >= 1;
    case 'nway':
      return standby >= si.preferredStandbyAssignments;
    case 'nwayactive':
      return active >= si.preferredActiveAssignments;
    case 'noredundancy':
      return true;
  }
}

export function setTimer(ctx: Ctx, id: string, at: number): void {
  ctx.commands.push({ kind: 'timer-set', id, at });
}

export function cancelTimer(ctx: Ctx, id: string): void {
  ctx.commands.push({ kind: 'timer-cancel', id });
}
