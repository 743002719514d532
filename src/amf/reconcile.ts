/**
 * Reconciliation: after an event changed some SGs, bring each one to a settled state. Per SU:
 * placement on a node, auto-repair, what happens to its assignments given its readiness (keep,
 * quiesce, quiescing, drop once dead), and instantiation or termination of its components. Then
 * SI swaps advance and the redundancy model assigns what is missing. Repeats until nothing changes.
 */
import { planSg } from './assign.js';
import { type Ctx, allowedNodes, markSuDirty, nodeUsable, si as siMut, su, suReadiness, suShouldRun, peek } from './context.js';
import { instantiateComp, removeAssignment, setAssignment, stopComp } from './lifecycle.js';
import type { PlacementGroup } from './model-index.js';
import { enableSu, newSuEscalation } from './state.js';
import type { Assignment } from './state.js';
import type { ReadinessState } from '../model/vocabulary.js';
import type { SgConfig } from '../model/types.js';
import { assert, must } from '../util/assert.js';

export function reconcile(ctx: Ctx): void {
  while (ctx.dirty.size > 0) {
    const name = ctx.dirty.values().next().value as string;
    const sg = ctx.idx.sgs.get(name);
    ctx.touched?.add(name);
    const start = ctx.rev;
    // The planner runs again only if something changed since it last ran.
    let planned = -1;
    for (let pass = 0; sg !== undefined; pass++) {
      assert(pass < 32, `reconcile of SG ${name} does not settle`);
      const before = ctx.rev;
      settle(ctx, sg);
      if (started(ctx, sg) && ctx.rev !== planned) {
        planSg(ctx, sg);
        planned = ctx.rev;
      }
      if (ctx.rev === before) break;
    }
    ctx.dirty.delete(name);
    // SIs in other SGs may depend on this SG's SIs: they are reconciled too.
    if (ctx.rev !== start) for (const d of ctx.idx.dependantSgs.get(name) ?? []) ctx.dirty.add(d);
  }
}

function settle(ctx: Ctx, sg: SgConfig): void {
  for (const u of sg.units) {
    const st = peek(ctx, u.name);
    const r = suReadiness(ctx, u.name);
    for (const si of Object.keys(st.assignments)) dispose(ctx, u.name, r, si, must(st.assignments[si], 'an assignment listed is missing'));
    autoRepair(ctx, u.name);
    place(ctx, u.name);
    if (st.evacuate && !Object.values(peek(ctx, u.name).assignments).some((a) => a.ha !== 'standby')) {
      su(ctx, u.name).evacuate = false;
      markSuDirty(ctx, u.name);
    }
    runOrStop(ctx, u.name);
  }
  for (const si of sg.sis) advanceSwap(ctx, sg, si.name);
}

/** The SG has started once no SU of it is being instantiated on a usable node. */
function started(ctx: Ctx, sg: SgConfig): boolean {
  const st = must(ctx.s.sgs[sg.name], 'an SG of the model has no state');
  if (st.started) return true;
  const busy = sg.units.some((u) => {
    const su = peek(ctx, u.name);
    return nodeUsable(ctx, su.node) && Object.values(su.comps).some((c) => c.presence === 'instantiating');
  });
  if (busy) return false;
  st.started = true;
  ctx.rev++;
  return true;
}

/** Choose a node for an unplaced SU; release the node of an SU that is down on an unusable node. */
function place(ctx: Ctx, suName: string): void {
  const peekSt = peek(ctx, suName);
  if (peekSt.node !== null && nodeUsable(ctx, peekSt.node) && must(ctx.s.nodes[peekSt.node], 'a node in use has no state').admin !== 'locked-instantiation') return;
  const allDown = Object.values(peekSt.comps).every((c) => c.presence === 'uninstantiated');
  if (peekSt.node !== null) {
    if (!(allDown && Object.keys(peekSt.assignments).length === 0)) return;
    su(ctx, suName).node = null;
    markSuDirty(ctx, suName);
  }
  if (!allDown || !suShouldRun(ctx, suName)) return;
  const e = must(ctx.idx.sus.get(suName), 'an SU not in the model');
  const allowed = allowedNodes(ctx, suName);
  const groups = ctx.idx.placementGroups.get(suName) ?? [];
  let best: string | null = null;
  let bestScore: readonly number[] = [];
  for (const node of allowed) {
    if (!nodeUsable(ctx, node) || must(ctx.s.nodes[node], 'a node in use has no state').admin === 'locked-instantiation') continue;
    // Server groups first (anti-affinity: fewest members there; affinity: most), then spread an
    // SG's SUs over nodes: a node failure should not take out active and standby.
    const score = [...groups.map((g) => serverGroupCost(ctx, g, node)), e.sg.units.filter((u) => peek(ctx, u.name).node === node).length];
    if (best === null || lexLess(score, bestScore)) {
      best = node;
      bestScore = score;
    }
  }
  if (best === null) return;
  su(ctx, suName).node = best;
  markSuDirty(ctx, suName);
}

/** A node's cost for a member of server group `g`: lower is better. */
function serverGroupCost(ctx: Ctx, g: PlacementGroup, node: string): number {
  const there = g.peers.filter((p) => peek(ctx, p).node === node).length;
  return g.policy === 'anti-affinity' ? there : -there;
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/** An SU failed over (saAmfSGAutoRepair): once its components are down it is enabled again. */
function autoRepair(ctx: Ctx, suName: string): void {
  const cur = peek(ctx, suName);
  if (cur.oper !== 'disabled' || cur.disabledCause !== 'failover') return;
  if (Object.keys(cur.assignments).length > 0) return;
  if (!Object.values(cur.comps).every((c) => c.presence === 'uninstantiated')) return;
  const st = su(ctx, suName);
  enableSu(st);
  st.escalation = newSuEscalation();
  for (const c of Object.values(st.comps)) c.oper = 'enabled';
  markSuDirty(ctx, suName);
}

/** What happens to an assignment: kept, handed over gracefully, dropped once dead, or held until a fence completes. */
type Disposition = 'keep' | 'evacuate' | 'quiescing' | 'quiesce' | 'abrupt' | 'fenced';

const strength: Record<Disposition, number> = { keep: 0, evacuate: 1, quiescing: 2, quiesce: 3, abrupt: 4, fenced: 5 };

function disposition(ctx: Ctx, suName: string, r: ReadinessState, si: string, a: Assignment): Disposition {
  const st = peek(ctx, suName);
  const holders = ctx.idx.holders(suName, si);
  if (holders === null) return 'quiesce'; // the SI left the configuration
  let d: Disposition = 'keep';
  if (r === 'stopping') {
    const e = must(ctx.idx.sus.get(suName), 'an SU not in the model');
    const shutting = [st.admin, must(ctx.s.sgs[e.sg.name], 'an SG of the model has no state').admin, must(ctx.s.nodes[must(st.node, 'an SU in service is placed on a node')], 'a node in use has no state').admin].includes('shutting-down');
    d = shutting ? 'quiescing' : 'evacuate';
  } else if (r === 'out-of-service') {
    const node = st.node === null ? undefined : ctx.s.nodes[st.node];
    const dying = holders.some((h) => must(st.comps[h.comp.name], 'a component of the model has no state').presence !== 'instantiated');
    if (node?.fencing && node.up) d = 'fenced';
    else d = dying || !node?.up ? 'abrupt' : 'quiesce';
  }
  const siSt = must(ctx.s.sis[si], 'an SI of the model has no state');
  let siD: Disposition = 'keep';
  if (siSt.admin === 'locked' || siSt.admin === 'locked-instantiation') siD = 'quiesce';
  else if (siSt.admin === 'shutting-down') siD = 'quiescing';
  else if (a.ha === 'active' && !sponsorsActive(ctx, si)) siD = 'quiesce';
  return strength[siD] > strength[d] ? siD : d;
}

function sponsorsActive(ctx: Ctx, si: string): boolean {
  const cfg = must(ctx.idx.sis.get(si), 'an SI not in the model').cfg;
  return cfg.dependsOn.every((dep) => {
    const e = ctx.idx.sis.get(dep);
    return e !== undefined && e.sg.units.some((u) => ctx.s.sus[u.name]?.assignments[dep]?.ha === 'active');
  });
}

function dispose(ctx: Ctx, suName: string, r: ReadinessState, si: string, a: Assignment): void {
  const st = peek(ctx, suName);
  switch (disposition(ctx, suName, r, si, a)) {
    case 'keep':
      // A confirmed quiesced assignment outlives its cause only as the first half of a swap.
      if (a.ha === 'quiesced' && a.waiting.length === 0 && must(ctx.s.sis[si], 'an SI of the model has no state').swapFrom !== suName) removeAssignment(ctx, suName, si);
      return;
    case 'fenced':
      return;
    case 'abrupt': {
      // Drop once no holder can still be serving: each is down, or the node is gone.
      const stopping = (ctx.idx.holders(suName, si) ?? []).some((h) => {
        const p = must(st.comps[h.comp.name], 'a component of the model has no state').presence;
        return p === 'terminating' || p === 'restarting' || p === 'instantiating' || p === 'termination-failed';
      });
      if (!stopping || !(st.node !== null && ctx.s.nodes[st.node]?.up)) removeAssignment(ctx, suName, si);
      return;
    }
    case 'quiesce':
      if (a.ha === 'active' || a.ha === 'quiescing') setAssignment(ctx, suName, si, 'quiesced');
      else if (a.ha === 'standby' || a.waiting.length === 0) removeAssignment(ctx, suName, si);
      return;
    case 'quiescing':
      if (a.ha === 'active') setAssignment(ctx, suName, si, 'quiescing');
      else if (a.ha === 'standby' || (a.ha === 'quiesced' && a.waiting.length === 0)) removeAssignment(ctx, suName, si);
      return;
    case 'evacuate':
      if (a.ha === 'active') setAssignment(ctx, suName, si, 'quiescing');
      else if (a.ha === 'quiesced' && a.waiting.length === 0) removeAssignment(ctx, suName, si);
      return;
  }
}

/** Instantiate the components of an SU that should run; terminate those of one that should not. */
function runOrStop(ctx: Ctx, suName: string): void {
  const st = peek(ctx, suName);
  if (st.node === null) return;
  if (suShouldRun(ctx, suName)) {
    for (const name in st.comps) {
      const c = must(st.comps[name], 'a component of the model has no state');
      if (c.presence === 'uninstantiated' && c.retryAt === null) instantiateComp(ctx, suName, name, 1);
    }
    return;
  }
  const node = ctx.s.nodes[st.node];
  if (Object.keys(st.assignments).length > 0 || !node?.up || node.fencing) return;
  for (const [name, c] of Object.entries(st.comps)) {
    if (c.presence === 'instantiated') stopComp(ctx, suName, name, { abrupt: false, restart: false, reason: 'stop' });
  }
}

/**
 * SI swap: the old active was set quiesced; once the model promoted a standby and it confirmed
 * active, the old active becomes standby. If nothing could take over, the old active resumes.
 */
function advanceSwap(ctx: Ctx, sg: SgConfig, si: string): void {
  const from = must(ctx.s.sis[si], 'an SI of the model has no state').swapFrom;
  if (from === null) return;
  const siSt = siMut(ctx, si);
  const a = ctx.s.sus[from]?.assignments[si];
  if (a === undefined || a.ha !== 'quiesced' || suReadiness(ctx, from) !== 'in-service') {
    siSt.swapFrom = null;
    markSuDirty(ctx, from);
    return;
  }
  if (a.waiting.length > 0) return;
  const others = sg.units.map((u) => u.name).filter((u) => u !== from);
  const active = others.find((u) => peek(ctx, u).assignments[si]?.ha === 'active');
  if (active !== undefined) {
    if (must(peek(ctx, active).assignments[si], 'an assignment listed is missing').waiting.length > 0) return;
    setAssignment(ctx, from, si, 'standby');
    siSt.swapFrom = null;
    return;
  }
  const standby = others.some((u) => peek(ctx, u).assignments[si]?.ha === 'standby' && suReadiness(ctx, u) === 'in-service');
  if (!standby) {
    setAssignment(ctx, from, si, 'active');
    siSt.swapFrom = null;
  }
}
