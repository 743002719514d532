/**
 * Whether an admin operation has taken effect, from the state alone (what `amfctl admin` waits
 * for, like vmadm waiting on vminfod): the target reached the admin state the operation leads
 * to, its SUs hold (or shed) what that state means, and nothing the operation set moving in the
 * SGs it touches is still in flight (instantiations, terminations, CSI sets not yet confirmed,
 * quiescing, swaps, evacuations). A failure is an SU of the target disabled or a component stuck
 * in a failed presence state where the operation meant to have it run.
 */
import type { AdminOp } from '../model/vocabulary.js';
import type { AmfModel } from '../model/types.js';
import type { AdminTarget } from './commands.js';
import { indexModel } from './model-index.js';
import type { AmfState, SuState } from './state.js';

export type AdminProgress =
  | { readonly state: 'done' }
  | { readonly state: 'pending'; readonly waiting: readonly string[] }
  | { readonly state: 'failed'; readonly reason: string };

/** At most this many reasons are listed while pending: the first ones say enough. */
const MAX_WAITING = 8;

const TRANSIENT = new Set(['instantiating', 'terminating', 'restarting']);

/** The admin state an operation leads to (undefined: it does not change one). */
function targetAdmin(op: AdminOp): string | undefined {
  switch (op) {
    case 'lock':
    case 'shutdown':
    case 'unlock-instantiation':
      return 'locked';
    case 'unlock':
      return 'unlocked';
    case 'lock-instantiation':
      return 'locked-instantiation';
    default:
      return undefined;
  }
}

function adminOf(state: AmfState, t: AdminTarget): string | undefined {
  switch (t.type) {
    case 'node':
      return state.nodes[t.name]?.admin;
    case 'sg':
      return state.sgs[t.name]?.admin;
    case 'su':
      return state.sus[t.name]?.admin;
    case 'si':
      return state.sis[t.name]?.admin;
    case 'comp':
      return undefined;
  }
}

export function describeTarget(t: AdminTarget): string {
  return t.type === 'comp' ? `component ${t.su}/${t.comp}` : `${t.type} ${t.name}`;
}

export function adminProgress(model: AmfModel, state: AmfState, op: AdminOp, t: AdminTarget): AdminProgress {
  const idx = indexModel(model);
  const waiting: string[] = [];
  const want = targetAdmin(op);
  const admin = adminOf(state, t);
  if (want !== undefined && admin !== want) waiting.push(`${describeTarget(t)} is ${admin ?? 'unknown'}, not yet ${want}`);

  // The target's own SUs, and the SGs whose layout the operation may move.
  const own: string[] = [];
  const sgs = new Set<string>();
  switch (t.type) {
    case 'su':
    case 'comp':
      own.push(t.type === 'su' ? t.name : t.su);
      break;
    case 'sg':
      for (const u of idx.sgs.get(t.name)?.units ?? []) own.push(u.name);
      sgs.add(t.name);
      break;
    case 'si': {
      const sg = idx.sis.get(t.name)?.sg;
      if (sg) sgs.add(sg.name);
      break;
    }
    case 'node':
      for (const [name, st] of Object.entries(state.sus)) if (st.node === t.name) own.push(name);
      for (const sg of idx.sgs.keys()) sgs.add(sg);
      break;
  }
  for (const su of own) {
    const sg = idx.sus.get(su)?.sg.name;
    if (sg) sgs.add(sg);
  }

  // What the reached admin state means for the target's SUs.
  const holds = (st: SuState): string[] => Object.keys(st.assignments);
  if (want === 'locked' || want === 'locked-instantiation') {
    if (t.type === 'si') {
      for (const [name, st] of Object.entries(state.sus)) if (st.assignments[t.name]) waiting.push(`${name} still holds ${t.name}`);
    } else {
      for (const su of own) {
        const st = state.sus[su];
        if (st && holds(st).length > 0) waiting.push(`${su} still holds ${holds(st).join(', ')}`);
      }
    }
  }
  if (want === 'locked-instantiation') {
    for (const su of own) {
      for (const [c, cs] of Object.entries(state.sus[su]?.comps ?? {})) {
        if (cs.presence !== 'uninstantiated' && cs.presence !== 'instantiation-failed') waiting.push(`${su}/${c} is ${cs.presence}`);
      }
    }
  }
  if (t.type === 'node' && op === 'switchover') {
    for (const su of own) if (state.sus[su]?.evacuate) waiting.push(`${su} is still handing over its active assignments`);
  }

  // A failure where the operation meant the SUs to run.
  const runs = op === 'unlock' || op === 'unlock-instantiation' || op === 'restart' || op === 'repair';
  if (runs) {
    for (const su of own) {
      const st = state.sus[su];
      if (!st) continue;
      if (st.oper === 'disabled') return { state: 'failed', reason: `SU ${su} is disabled${st.disabledCause ? ` (${st.disabledCause})` : ''}` };
      for (const [c, cs] of Object.entries(st.comps)) {
        if (cs.presence === 'instantiation-failed' || cs.presence === 'termination-failed') return { state: 'failed', reason: `component ${su}/${c} is ${cs.presence}` };
      }
    }
  }

  // Anything still moving in the SGs concerned.
  for (const sg of sgs) {
    const cfg = idx.sgs.get(sg);
    if (!cfg) continue;
    const sgSt = state.sgs[sg];
    if (sgSt?.admin === 'shutting-down') waiting.push(`SG ${sg} is shutting down`);
    for (const u of cfg.units) {
      const st = state.sus[u.name];
      if (!st) continue;
      if (st.admin === 'shutting-down') waiting.push(`SU ${u.name} is shutting down`);
      if (st.migration) waiting.push(`SU ${u.name} is migrating`);
      for (const [c, cs] of Object.entries(st.comps)) {
        if (TRANSIENT.has(cs.presence)) waiting.push(`${u.name}/${c} is ${cs.presence}`);
        else if (cs.retryAt !== null) waiting.push(`${u.name}/${c} waits to retry its instantiation`);
      }
      for (const [si, a] of Object.entries(st.assignments)) {
        if (a.ha === 'quiescing') waiting.push(`${u.name} is quiescing ${si}`);
        else if (a.waiting.length > 0) waiting.push(`${u.name} is becoming ${a.ha} for ${si}`);
      }
    }
    for (const si of cfg.sis) {
      const st = state.sis[si.name];
      if (st?.admin === 'shutting-down') waiting.push(`SI ${si.name} is shutting down`);
      if (st?.swapFrom != null) waiting.push(`SI ${si.name} is being swapped from ${st.swapFrom}`);
    }
  }
  if (t.type === 'node' && state.nodes[t.name]?.admin === 'shutting-down') waiting.push(`node ${t.name} is shutting down`);
  return waiting.length === 0 ? { state: 'done' } : { state: 'pending', waiting: [...new Set(waiting)].slice(0, MAX_WAITING) };
}
