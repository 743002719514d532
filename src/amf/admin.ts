/**
 * Administrative operations (SaAmfAdminOperationIdT) where the specification and OpenSAF allow
 * them. Validation comes first: an invalid operation returns a message and changes nothing.
 */
import type { AdminTarget } from './commands.js';
import type { AdminOp, AdminState } from '../model/vocabulary.js';
import { type Ctx, markSuDirty, si as siMut, su, suAssignable, suPresence, suReadiness, peek } from './context.js';
import { setAssignment, stopComp } from './lifecycle.js';
import { restartSu } from './recovery.js';
import { startMigration } from './migrate.js';
import { enableSu, newSuEscalation } from './state.js';
import { forgetTypeFaults } from './blast.js';
import { type Result, err, ok } from '../util/result.js';
import { must } from '../util/assert.js';

/** The admin state machine shared by SU, SG, node (and SI without the instantiation ops). */
function nextAdmin(cur: AdminState, op: AdminOp): Result<AdminState, string> {
  const allowed: Partial<Record<AdminOp, [readonly AdminState[], AdminState, string]>> = {
    lock: [['unlocked', 'shutting-down'], 'locked', ''],
    unlock: [['locked', 'shutting-down'], 'unlocked', cur === 'locked-instantiation' ? ' (unlock-instantiation first)' : ''],
    'lock-instantiation': [['locked'], 'locked-instantiation', ' (lock it first)'],
    'unlock-instantiation': [['locked-instantiation'], 'locked', ''],
    shutdown: [['unlocked'], 'shutting-down', ''],
  };
  const rule = allowed[op];
  if (!rule) return err('the operation does not apply');
  const [from, to, hint] = rule;
  return from.includes(cur) ? ok(to) : err(`it is ${cur}${hint}`);
}

const stateOps: readonly AdminOp[] = ['lock', 'unlock', 'lock-instantiation', 'unlock-instantiation', 'shutdown'];

function describe(t: AdminTarget): string {
  return t.type === 'comp' ? `component ${t.su}/${t.comp}` : `${t.type.toUpperCase()} ${t.name}`;
}

/** Apply an admin operation; returns an error message (state untouched) if it is invalid. */
export function adminOp(ctx: Ctx, op: AdminOp, target: AdminTarget, to?: string): string | null {
  if (to !== undefined && op !== 'migrate') return `${op} on ${describe(target)} refused: only migrate takes a destination`;
  const why = op === 'migrate' ? (target.type === 'su' ? migrateSu(ctx, target.name, to) : 'only an SU migrates') : apply(ctx, op, target);
  return why === null ? null : `${op} on ${describe(target)} refused: ${why}`;
}

function apply(ctx: Ctx, op: AdminOp, t: AdminTarget): string | null {
  switch (t.type) {
    case 'su':
      return suOp(ctx, op, t.name);
    case 'sg':
      return sgOp(ctx, op, t.name);
    case 'si':
      return siOp(ctx, op, t.name);
    case 'node':
      return nodeOp(ctx, op, t.name);
    case 'comp':
      return compOp(ctx, op, t.su, t.comp);
  }
}

function migrateSu(ctx: Ctx, name: string, to: string | undefined): string | null {
  return ctx.s.sus[name] ? startMigration(ctx, name, to) : 'no such SU';
}

function suOp(ctx: Ctx, op: AdminOp, name: string): string | null {
  if (!ctx.s.sus[name]) return 'no such SU';
  if (ctx.s.sus[name].migration) return `it is migrating to ${ctx.s.sus[name].migration.to}`;
  const st = su(ctx, name);
  if (stateOps.includes(op)) {
    const next = nextAdmin(st.admin, op);
    if (!next.ok) return next.error;
    st.admin = next.value;
    markSuDirty(ctx, name);
    return null;
  }
  if (op === 'restart') {
    if (st.admin !== 'unlocked' || st.oper !== 'enabled' || suPresence(st) !== 'instantiated') {
      return `the SU must be unlocked, enabled and instantiated (it is ${st.admin}, ${st.oper}, ${suPresence(st)})`;
    }
    restartSu(ctx, name, 'admin-restart');
    return null;
  }
  if (op === 'repair') {
    if (st.oper !== 'disabled') return 'the SU is not disabled';
    enableSu(st);
    forgetTypeFaults(ctx, name);
    st.escalation = newSuEscalation();
    for (const c of Object.values(st.comps)) {
      c.oper = 'enabled';
      if (c.presence === 'instantiation-failed' || c.presence === 'termination-failed') c.presence = 'uninstantiated';
    }
    markSuDirty(ctx, name);
    return null;
  }
  return 'the operation does not apply to an SU';
}

function sgOp(ctx: Ctx, op: AdminOp, name: string): string | null {
  const st = ctx.s.sgs[name];
  const cfg = ctx.idx.sgs.get(name);
  if (!st || !cfg) return 'no such SG';
  if (!stateOps.includes(op)) return 'the operation does not apply to an SG';
  const next = nextAdmin(st.admin, op);
  if (!next.ok) return next.error;
  st.admin = next.value;
  ctx.dirty.add(name);
  return null;
}

function siOp(ctx: Ctx, op: AdminOp, name: string): string | null {
  const e = ctx.idx.sis.get(name);
  if (!ctx.s.sis[name] || !e) return 'no such SI';
  const st = siMut(ctx, name);
  if (op === 'lock' || op === 'unlock' || op === 'shutdown') {
    const next = nextAdmin(st.admin, op);
    if (!next.ok) return next.error;
    st.admin = next.value;
    ctx.dirty.add(e.sg.name);
    return null;
  }
  if (op === 'si-swap') return siSwap(ctx, name);
  return 'the operation does not apply to an SI';
}

/**
 * SI swap: the active SU is set quiesced, the model promotes the standby, then the old active
 * becomes standby (reconcile's advanceSwap). 2N swaps the whole SU pair; N+M every SI of the
 * active SU (they must share one standby SU that backs nothing else); N-Way the one SI.
 */
function siSwap(ctx: Ctx, si: string): string | null {
  const e = must(ctx.idx.sis.get(si), 'an SI not in the model');
  const sg = e.sg;
  if (sg.model !== '2n' && sg.model !== 'nplusm' && sg.model !== 'nway') return `SI swap is not defined for the ${sg.model} model`;
  if (must(ctx.s.sis[si], 'an SI of the model has no state').admin !== 'unlocked') return 'the SI is not unlocked';
  if (sg.units.some((u) => Object.keys(peek(ctx, u.name).assignments).some((x) => ctx.s.sis[x]?.swapFrom != null))) {
    return 'a swap is already in progress in the SG';
  }
  const units = sg.units.map((u) => u.name);
  const confirmed = (su: string, x: string, ha: string): boolean => {
    const a = peek(ctx, su).assignments[x];
    return a !== undefined && a.ha === ha && a.waiting.length === 0 && suAssignable(ctx, su);
  };
  const from = units.find((u) => confirmed(u, si, 'active'));
  if (from === undefined) return 'the SI has no confirmed active assignment on an in-service SU';
  const to = units.find((u) => u !== from && confirmed(u, si, 'standby'));
  if (to === undefined) return 'the SI has no confirmed standby assignment on an in-service SU';
  let swapped = [si];
  if (sg.model !== 'nway') {
    swapped = Object.keys(peek(ctx, from).assignments).filter((x) => must(peek(ctx, from).assignments[x], 'an assignment listed is missing').ha === 'active');
    const missing = swapped.find((x) => !confirmed(to, x, 'standby'));
    if (missing !== undefined) return `SI ${missing} of ${from} has no confirmed standby on ${to}`;
    const extra = Object.keys(peek(ctx, to).assignments).find((x) => !swapped.includes(x));
    if (extra !== undefined) return `${to} also holds SI ${extra}; an SU may not be both active and standby in ${sg.model}`;
  } else {
    const actives = Object.values(peek(ctx, to).assignments).filter((a) => a.ha === 'active').length;
    if (actives >= sg.maximumActiveInstances) return `${to} already holds its maximum of active SIs`;
  }
  for (const x of swapped) {
    siMut(ctx, x).swapFrom = from;
    setAssignment(ctx, from, x, 'quiesced');
  }
  return null;
}

function nodeOp(ctx: Ctx, op: AdminOp, name: string): string | null {
  const ns = ctx.s.nodes[name];
  if (!ns) return 'no such node';
  const sus = Object.keys(ctx.s.sus).filter((s) => peek(ctx, s).node === name);
  if (stateOps.includes(op)) {
    const next = nextAdmin(ns.admin, op);
    if (!next.ok) return next.error;
    ns.admin = next.value;
  } else if (op === 'repair') {
    if (ns.oper !== 'disabled') return 'the node is not disabled';
    ns.oper = 'enabled';
    delete ns.disabledReason;
    ns.failovers = 0;
    ns.probationEnd = null;
  } else if (op === 'switchover') {
    if (!ns.up || ns.oper !== 'enabled' || ns.admin !== 'unlocked') return 'the node must be up, enabled and unlocked';
    const holding = sus.filter((s) => Object.values(peek(ctx, s).assignments).some((a) => a.ha === 'active') && suReadiness(ctx, s) === 'in-service');
    if (holding.length === 0) return 'no SU on the node holds an active assignment';
    for (const s of holding) su(ctx, s).evacuate = true;
  } else {
    return 'the operation does not apply to a node';
  }
  // Any SU might be placed on (or moved off) this node now.
  for (const sg of ctx.idx.sgs.keys()) ctx.dirty.add(sg);
  for (const s of sus) markSuDirty(ctx, s);
  return null;
}

function compOp(ctx: Ctx, op: AdminOp, suName: string, comp: string): string | null {
  const st = ctx.s.sus[suName];
  const c = st?.comps[comp];
  if (!st || !c) return 'no such component';
  if (op !== 'restart') return 'only restart applies to a component';
  if (c.presence !== 'instantiated' || st.oper !== 'enabled' || st.admin !== 'unlocked') {
    return `the component must be instantiated in an unlocked, enabled SU (it is ${c.presence}; SU ${st.admin}, ${st.oper})`;
  }
  stopComp(ctx, suName, comp, { abrupt: true, restart: true, reason: 'admin-restart' });
  return null;
}
