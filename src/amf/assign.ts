/**
 * Assignment of SIs to in-service SUs by the SG's redundancy model. Existing assignments are
 * kept (as in openais 1.1.4 and OpenSAF); the planner only promotes standbys and adds what is
 * missing. Choices follow SU rank (then config order) and SI rank (sponsors first).
 */
import type { HaState } from '../model/vocabulary.js';
import type { Assignment } from './state.js';
import { type Ctx, suAssignable, suReadiness, peek } from './context.js';
import { removeAssignment, setAssignment } from './lifecycle.js';
import { type Reduction, quota, reduce } from './reduction.js';
import type { SgConfig } from '../model/types.js';
import { unreachable, must } from '../util/assert.js';

interface Load {
  active: number;
  standby: number;
  any: number;
}

/**
 * A view of one SG for the model planners, with an index of its assignments (SI → SU → HA) kept
 * in step with every change the planner makes: the planners ask these questions constantly.
 */
interface View {
  readonly ctx: Ctx;
  readonly sg: SgConfig;
  /** Assignable SUs, by rank. */
  readonly sus: readonly string[];
  /** SUs that keep their assignments (in service, possibly restarting), by rank. */
  readonly kept: readonly string[];
  /** Assignable SIs, sponsors first then by rank. */
  readonly sis: readonly string[];
  readonly book: Map<string, Map<string, Assignment>>;
  readonly loads: Map<string, Load>;
  /** SIs that may not get a new active (see `isBlocked`); the planners never change this. */
  readonly blocked: ReadonlySet<string>;
}

function count(l: Load, h: HaState, by: number): void {
  l.any += by;
  if (h === 'active') l.active += by;
  else if (h === 'standby') l.standby += by;
}

function index(ctx: Ctx, sg: SgConfig): Pick<View, 'book' | 'loads'> {
  const book = new Map<string, Map<string, Assignment>>();
  const loads = new Map<string, Load>();
  for (const u of sg.units) {
    const l: Load = { active: 0, standby: 0, any: 0 };
    loads.set(u.name, l);
    const as = peek(ctx, u.name).assignments;
    for (const si in as) {
      const a = must(as[si], 'an assignment listed is missing');
      let m = book.get(si);
      if (!m) book.set(si, (m = new Map()));
      m.set(u.name, a);
      count(l, a.ha, 1);
    }
  }
  return { book, loads };
}

function assign(v: View, su: string, si: string, h: HaState): void {
  const old = v.book.get(si)?.get(su);
  if (old) count(must(v.loads.get(su), 'every SU of the SG has a load'), old.ha, -1);
  setAssignment(v.ctx, su, si, h);
  let m = v.book.get(si);
  if (!m) v.book.set(si, (m = new Map()));
  m.set(su, must(peek(v.ctx, su).assignments[si], 'an assignment listed is missing'));
  count(must(v.loads.get(su), 'every SU of the SG has a load'), h, 1);
}

function unassign(v: View, su: string, si: string): void {
  const old = v.book.get(si)?.get(su);
  if (!old) return;
  count(must(v.loads.get(su), 'every SU of the SG has a load'), old.ha, -1);
  removeAssignment(v.ctx, su, si);
  must(v.book.get(si), 'every SI of the SG has a book entry').delete(su);
}

function ha(v: View, su: string, si: string): HaState | undefined {
  return v.book.get(si)?.get(su)?.ha;
}

function load(v: View, su: string, which: 'active' | 'standby'): number {
  return must(v.loads.get(su), 'every SU of the SG has a load')[which];
}

function holdsAny(v: View, su: string): boolean {
  return must(v.loads.get(su), 'every SU of the SG has a load').any > 0;
}

function hosts(v: View, su: string, si: string): boolean {
  return v.ctx.idx.holders(su, si) !== null;
}

function holders(v: View, si: string, which: HaState, among: readonly string[]): string[] {
  return among.filter((su) => ha(v, su, si) === which);
}

function hasActive(v: View, si: string): boolean {
  for (const a of v.book.get(si)?.values() ?? []) if (a.ha === 'active') return true;
  return false;
}

/**
 * An SI is blocked from getting a new active while another SU may still serve it: an active or
 * quiescing assignment on an SU that is not assignable, or a quiesced one not yet confirmed.
 */
function isBlocked(book: View['book'], assignable: ReadonlySet<string>, si: string): boolean {
  for (const [su, a] of book.get(si) ?? []) {
    if (a.ha === 'quiescing') return true;
    if (a.ha === 'quiesced' && a.waiting.length > 0) return true;
    if (a.ha === 'active' && !assignable.has(su)) return true;
  }
  return false;
}

function blocked(v: View, si: string): boolean {
  return v.blocked.has(si);
}

/** Every SI this one depends on has an active assignment. */
function sponsorsActive(v: View, si: string): boolean {
  const cfg = must(v.ctx.idx.sis.get(si), 'an SI not in the model').cfg;
  return cfg.dependsOn.every((dep) => {
    if (v.book.has(dep) || v.sis.includes(dep)) return hasActive(v, dep);
    const e = v.ctx.idx.sis.get(dep);
    return e !== undefined && e.sg.units.some((u) => v.ctx.s.sus[u.name]?.assignments[dep]?.ha === 'active');
  });
}

/** SIs that want an active now: none yet, not blocked, sponsors active. */
function wantActive(v: View): string[] {
  return v.sis.filter((si) => !hasActive(v, si) && !blocked(v, si) && sponsorsActive(v, si));
}

/** Fill `sus` in order, each up to its quota of SIs from `left` (N+M distribution). */
function fill(v: View, sus: readonly string[], slots: number, left: string[], max: number, which: 'active' | 'standby'): void {
  let used = 0;
  for (const su of sus) {
    if (left.length === 0 || used >= slots) break;
    used++;
    let take = Math.min(quota(left.length, slots - used + 1, max), max - load(v, su, which));
    for (let i = 0; i < left.length && take > 0; ) {
      const si = must(left[i], 'i is within left');
      if (hosts(v, su, si) && ha(v, su, si) === undefined) {
        assign(v, su, si, which);
        left.splice(i, 1);
        take--;
      } else i++;
    }
  }
}

function plan2n(v: View): void {
  if (v.sis.some((si) => blocked(v, si))) return; // 2N moves the SG's SIs together
  const activeSu =
    v.kept.find((su) => load(v, su, 'active') > 0) ??
    v.sus.find((su) => load(v, su, 'standby') > 0) ??
    v.sus.find((su) => !holdsAny(v, su));
  if (activeSu === undefined) return;
  for (const si of wantActive(v)) if (hosts(v, activeSu, si)) assign(v, activeSu, si, 'active');
  if (v.sis.some((si) => must(v.ctx.s.sis[si], 'an SI of the model has no state').swapFrom !== null)) return;
  const standbySu =
    v.kept.find((su) => su !== activeSu && load(v, su, 'standby') > 0) ?? v.sus.find((su) => su !== activeSu && !holdsAny(v, su));
  if (standbySu === undefined) return;
  for (const si of v.sis) {
    if (ha(v, activeSu, si) !== 'active' || holders(v, si, 'standby', v.kept).length > 0) continue;
    if (hosts(v, standbySu, si)) assign(v, standbySu, si, 'standby');
  }
}

/** The reduction for an SG as it stands (also used by `amfctl config plan`). */
export function nplusmReduction(sg: SgConfig, sis: number, inService: number): Reduction {
  return reduce({
    sis,
    inService,
    pa: sg.preferredActiveUnits,
    ps: sg.preferredStandbyUnits,
    ma: sg.maximumActiveInstances,
    ms: sg.maximumStandbyInstances,
  });
}

function planNplusM(v: View): void {
  const sg = v.sg;
  const red = nplusmReduction(sg, v.sis.length, v.sus.length);
  const activeSus = (): string[] => v.kept.filter((su) => load(v, su, 'active') > 0);
  // SUs on their way out still hold actives until they are down; they count toward Pa.
  const leaving = sg.units.filter((u) => !v.kept.includes(u.name) && load(v, u.name, 'active') > 0).length;
  // 1. Standbys of SIs that lost their active take over, within Pa and Ma.
  const promoted = new Set<string>();
  // A standby SU is promoted for all the SIs it backs of a failed SU at once, so it waits while
  // any SI it backs is still held by an SU being stopped.
  const waiting = new Map<string, boolean>();
  const waits = (su: string): boolean => {
    let w = waiting.get(su);
    if (w === undefined) waiting.set(su, (w = v.blocked.size > 0 && v.sis.some((x) => ha(v, su, x) === 'standby' && blocked(v, x))));
    return w;
  };
  let activeCount = activeSus().length + leaving;
  for (const si of wantActive(v)) {
    const sb = holders(v, si, 'standby', v.sus).find((su) => {
      if (waits(su)) return false;
      const isActive = load(v, su, 'active') > 0;
      return (isActive || activeCount < red.pa) && load(v, su, 'active') < sg.maximumActiveInstances;
    });
    if (sb === undefined) continue;
    if (load(v, sb, 'active') === 0) activeCount++;
    assign(v, sb, si, 'active');
    promoted.add(sb);
  }
  // An N+M SU is all-active or all-standby: a promoted SU gives up its other standbys.
  for (const su of promoted) {
    for (const si of Object.keys(peek(v.ctx, su).assignments)) {
      if (ha(v, su, si) === 'standby') unassign(v, su, si);
    }
  }
  // 2. Actives: existing active SUs first, then free SUs, up to the reduction's count.
  const actives = activeSus();
  const free = (): string[] => v.sus.filter((su) => !holdsAny(v, su));
  const orphans = wantActive(v).filter((si) => !holders(v, si, 'standby', v.kept).some(waits));
  const slots = Math.min(Math.max(red.active, actives.length), Math.max(actives.length, red.pa - leaving));
  fill(v, [...actives, ...free()], slots, orphans, sg.maximumActiveInstances, 'active');
  // 3. Standbys for actively assigned SIs, on SUs with no active assignment (not during a swap:
  // the old active SU becomes the standby).
  if (v.sis.some((si) => must(v.ctx.s.sis[si], 'an SI of the model has no state').swapFrom !== null)) return;
  const standbys = v.kept.filter((su) => load(v, su, 'standby') > 0 && load(v, su, 'active') === 0);
  const needStandby = v.sis.filter((si) => hasActive(v, si) && holders(v, si, 'standby', v.kept).length === 0);
  fill(v, [...standbys, ...free()], Math.max(red.standby, standbys.length), needStandby, sg.maximumStandbyInstances, 'standby');
}

/** Candidates for a new assignment of `si`, best first: rank, then load, then config order. */
function pick(v: View, si: string, which: 'active' | 'standby', max: number): string | undefined {
  const limit = v.sg.preferredAssignedUnits;
  const assignedUnits = v.kept.filter((su) => holdsAny(v, su)).length;
  let best: string | undefined;
  let bestKey: [number, number, number] | undefined;
  for (const su of v.sus) {
    if (ha(v, su, si) !== undefined || !hosts(v, su, si)) continue;
    const l = load(v, su, which);
    if (l >= max) continue;
    if (limit > 0 && assignedUnits >= limit && !holdsAny(v, su)) continue;
    const e = must(v.ctx.idx.sus.get(su), 'an SU not in the model');
    const key: [number, number, number] = [e.cfg.rank, l, e.order];
    if (!bestKey || key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
      best = su;
      bestKey = key;
    }
  }
  return best;
}

function planNway(v: View): void {
  const { maximumActiveInstances: ma, maximumStandbyInstances: ms } = v.sg;
  for (const si of wantActive(v)) {
    const sb = holders(v, si, 'standby', v.sus).find((su) => load(v, su, 'active') < ma);
    const target = sb ?? pick(v, si, 'active', ma);
    if (target !== undefined) assign(v, target, si, 'active');
  }
  for (const si of v.sis) {
    if (!hasActive(v, si) || must(v.ctx.s.sis[si], 'an SI of the model has no state').swapFrom !== null) continue;
    const want = must(v.ctx.idx.sis.get(si), 'an SI not in the model').cfg.preferredStandbyAssignments;
    while (holders(v, si, 'standby', v.kept).length < want) {
      const target = pick(v, si, 'standby', ms);
      if (target === undefined) break;
      assign(v, target, si, 'standby');
    }
  }
}

function planNwayActive(v: View): void {
  for (const si of v.sis) {
    if (!sponsorsActive(v, si)) continue;
    const want = must(v.ctx.idx.sis.get(si), 'an SI not in the model').cfg.preferredActiveAssignments;
    while (v.sg.units.filter((u) => ha(v, u.name, si) === 'active').length < want) {
      const target = pick(v, si, 'active', v.sg.maximumActiveInstances);
      if (target === undefined) break;
      assign(v, target, si, 'active');
    }
  }
}

function planNoRedundancy(v: View): void {
  for (const si of wantActive(v)) {
    const target = v.sus.find((su) => !holdsAny(v, su) && hosts(v, su, si));
    if (target !== undefined) assign(v, target, si, 'active');
  }
}

/** SIs the SG may assign now: unlocked, with at least one SU that could take them. */
export function assignableSis(ctx: Ctx, sg: SgConfig): string[] {
  return (ctx.idx.rankedSis.get(sg.name) ?? []).filter((si) => {
    if (must(ctx.s.sis[si], 'an SI of the model has no state').admin !== 'unlocked') return false;
    return sg.units.some((u) => ctx.idx.holders(u.name, si) !== null);
  });
}

export function planSg(ctx: Ctx, sg: SgConfig): void {
  const ranked = ctx.idx.rankedSus.get(sg.name) ?? [];
  const { book, loads } = index(ctx, sg);
  const sus = ranked.filter((su) => suAssignable(ctx, su));
  const assignable = new Set(sus);
  const sis = assignableSis(ctx, sg);
  const v: View = {
    ctx,
    sg,
    book,
    loads,
    sus,
    kept: ranked.filter((su) => suReadiness(ctx, su) === 'in-service'),
    sis,
    blocked: new Set(sis.filter((si) => isBlocked(book, assignable, si))),
  };
  // A dependant SI can only be placed once its sponsor is: plan again while that made progress.
  for (let round = 0; ; round++) {
    const before = ctx.rev;
    plan(v);
    if (ctx.rev === before || round > 8) return;
    if (!v.sis.some((si) => must(ctx.idx.sis.get(si), 'an SI not in the model').cfg.dependsOn.length > 0 && !hasActive(v, si))) return;
  }
}

function plan(v: View): void {
  switch (v.sg.model) {
    case '2n':
      return plan2n(v);
    case 'nplusm':
      return planNplusM(v);
    case 'nway':
      return planNway(v);
    case 'nwayactive':
      return planNwayActive(v);
    case 'noredundancy':
      return planNoRedundancy(v);
    default:
      return unreachable(v.sg.model, 'redundancy model');
  }
}
