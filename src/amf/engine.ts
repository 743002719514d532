/**
 * The AMF engine: step(model, state, input, now) → { state, commands, notices, error? }.
 * Pure and deterministic: no I/O, no clock (time is `now`), no randomness; the input state is
 * never modified. Inputs naming unknown entities are ignored with an `ignored` notice.
 */
import { adminOp } from './admin.js';
import type { AmfCommand, AmfInput, AmfNotice } from './commands.js';
import { type Ctx, markSuDirty, nodeUsable, ownSiRecord, ownSuRecord, si, su, suShouldRun, peek } from './context.js';
import { compUp, instantiateComp, removeAssignment } from './lifecycle.js';
import { indexModel } from './model-index.js';
import { adoptionFailed, compAdopted, compMigrated, compMigrateFailed, migrationNodeDown } from './migrate.js';
import { reconcile } from './reconcile.js';
import { csiSetFailed, fenceNote, instantiationFailed, nodeFailfast, nodeFailover, probationExpired, recoverFromError, timerIds } from './recovery.js';
import { diffNotices } from './snapshot.js';
import { type AmfState, addMissingEntities, disableSu, draftState, enableSu, newNodeState } from './state.js';
import type { AmfModel } from '../model/types.js';
import { unreachable, must } from '../util/assert.js';

export interface StepResult {
  readonly state: AmfState;
  readonly commands: readonly AmfCommand[];
  readonly notices: readonly AmfNotice[];
  /** Set when an admin operation was refused: state is the input state and nothing was done. */
  readonly error?: string;
}

export function step(model: AmfModel, state: AmfState, input: AmfInput, now: number): StepResult {
  const idx = indexModel(model);
  const touched = new Set<string>();
  const ctx: Ctx = { idx, s: draftState(state), now, commands: [], notices: [], dirty: new Set(), rev: 0, touched, owned: new Set() };
  const error = handle(ctx, input);
  if (error !== null) return { state, commands: [], notices: [], error };
  for (let i = 0; ; i++) {
    reconcile(ctx);
    if (!completeShutdowns(ctx, touched) || i > 4) break;
  }
  ctx.notices.push(...diffNotices(idx, state, ctx.s, touched));
  return { state: ctx.s, commands: ctx.commands, notices: ctx.notices };
}

function ignored(ctx: Ctx, input: AmfInput, reason: string): null {
  ctx.notices.push({ kind: 'ignored', input: input.kind, reason });
  return null;
}

/** Apply one input to the draft state; returns an error only for a refused admin operation. */
function handle(ctx: Ctx, input: AmfInput): string | null {
  switch (input.kind) {
    case 'comp-instantiated':
    case 'comp-instantiate-failed':
    case 'comp-terminated':
    case 'comp-terminate-failed':
    case 'comp-migrated':
    case 'comp-migrate-failed':
    case 'error-report':
    case 'healthcheck-failed':
    case 'csi-set-done':
    case 'csi-set-failed':
    case 'csi-remove-done':
    case 'quiescing-complete': {
      const st = ctx.s.sus[input.su];
      if (!st?.comps[input.comp]) return ignored(ctx, input, `unknown component ${input.su}/${input.comp}`);
      return compInput(ctx, input);
    }
    case 'timer-expired':
      if (input.id.startsWith('retry:')) return retryTimer(ctx, input.id.slice('retry:'.length));
      if (!probationExpired(ctx, input.id)) ctx.notices.push({ kind: 'ignored', input: `timer ${input.id}`, reason: 'stale or unknown timer' });
      return null;
    case 'node-up':
      return nodeUp(ctx, input.node);
    case 'node-down':
      return nodeDown(ctx, input.node);
    case 'admin':
      return adminOp(ctx, input.op, input.target, input.to);
    case 'config-changed':
      return configChanged(ctx);
    default:
      return unreachable(input, 'input');
  }
}

type CompInput = Extract<AmfInput, { su: string; comp: string }>;

function compInput(ctx: Ctx, input: CompInput): null {
  const st = su(ctx, input.su);
  const c = must(st.comps[input.comp], 'a component of the model has no state');
  const name = `${input.su}/${input.comp}`;
  switch (input.kind) {
    case 'comp-instantiated':
      if (compAdopted(ctx, input.su, input.comp)) return null;
      if ((c.presence !== 'instantiating' && c.presence !== 'restarting') || c.retryAt !== null || !nodeUsable(ctx, st.node)) {
        return ignored(ctx, input, `${name} is ${c.presence}`);
      }
      compUp(ctx, input.su, input.comp);
      return null;
    case 'comp-instantiate-failed': {
      if (adoptionFailed(ctx, input.su, input.comp, input.reason)) return null;
      if ((c.presence !== 'instantiating' && c.presence !== 'restarting') || c.retryAt !== null) return ignored(ctx, input, `${name} is ${c.presence}`);
      const cfg = must(must(ctx.idx.sus.get(input.su), 'an SU not in the model').cfg.components.find((x) => x.name === input.comp), 'a component not in its SU');
      if (!input.noRetry && c.attempt < 1 + cfg.instantiateRetries && suShouldRun(ctx, input.su)) {
        if (cfg.instantiateRetryDelayMs > 0) {
          c.retryAt = ctx.now + cfg.instantiateRetryDelayMs;
          ctx.commands.push({ kind: 'timer-set', id: timerIds.retry(input.su, input.comp), at: c.retryAt });
        } else instantiateComp(ctx, input.su, input.comp, c.attempt + 1);
        return null;
      }
      c.presence = 'instantiation-failed';
      c.oper = 'disabled';
      const { cause, line } = instantiationFailed(ctx, input.su, input.comp, `instantiation of ${input.comp} failed: ${input.reason}`);
      disableSu(st, cause, line);
      markSuDirty(ctx, input.su);
      return null;
    }
    case 'comp-terminated':
      if (c.presence === 'terminating') c.presence = 'uninstantiated';
      else if (c.presence === 'restarting') {
        if (suShouldRun(ctx, input.su) && st.node !== null) instantiateComp(ctx, input.su, input.comp, 1);
        else c.presence = 'uninstantiated';
      } else return ignored(ctx, input, `${name} is ${c.presence}`);
      markSuDirty(ctx, input.su);
      return null;
    case 'comp-terminate-failed': {
      if (c.presence !== 'terminating' && c.presence !== 'restarting') return ignored(ctx, input, `${name} is ${c.presence}`);
      c.presence = 'termination-failed';
      c.oper = 'disabled';
      disableSu(st, 'termination-failed', `${input.comp} could not be terminated: ${input.reason}`);
      const node = must(st.node, 'an SU in service is placed on a node');
      const note = fenceNote(ctx, node);
      ctx.notices.push({ kind: 'recovery', su: input.su, comp: input.comp, action: 'node-failover', level: 3, reason: `termination failed: ${input.reason}${note}` });
      nodeFailover(ctx, node, `${name} could not be terminated: ${input.reason}`);
      nodeFailfast(ctx, node, `${name} could not be terminated: ${input.reason}${note}`);
      return null;
    }
    case 'comp-migrated': {
      const why = compMigrated(ctx, input);
      return why === null ? null : ignored(ctx, input, why);
    }
    case 'comp-migrate-failed': {
      const why = compMigrateFailed(ctx, input);
      return why === null ? null : ignored(ctx, input, why);
    }
    case 'error-report':
      recoverFromError(ctx, input.su, input.comp, input.recovery, `${input.source}${input.reason ? `: ${input.reason}` : ''}`);
      return null;
    case 'healthcheck-failed':
      recoverFromError(ctx, input.su, input.comp, input.recovery ?? 'no-recommendation', `healthcheck ${input.key} failed`);
      return null;
    case 'csi-set-failed':
      csiSetFailed(ctx, input.su, input.comp, `CSI set ${input.si}/${input.csi} ${input.haState} failed: ${input.reason}`);
      return null;
    case 'csi-set-done':
    case 'quiescing-complete': {
      // Stale acknowledgements (the HA state moved on meanwhile) are normal and dropped.
      const a = st.assignments[input.si];
      const expected = input.kind === 'csi-set-done' ? input.haState : 'quiescing';
      if (!a || a.ha !== expected || (input.kind === 'csi-set-done' && expected === 'quiescing')) return null;
      const i = a.waiting.indexOf(input.csi);
      if (i < 0) return null;
      a.waiting.splice(i, 1);
      if (input.kind === 'quiescing-complete' && a.waiting.length === 0) a.ha = 'quiesced';
      markSuDirty(ctx, input.su);
      return null;
    }
    case 'csi-remove-done':
      return null;
  }
}

function retryTimer(ctx: Ctx, ref: string): null {
  const slash = ref.indexOf('/');
  const suName = ref.slice(0, slash);
  const comp = ctx.s.sus[suName]?.comps[ref.slice(slash + 1)];
  if (!comp || comp.retryAt === null || ctx.now < comp.retryAt) return null;
  const c = must(su(ctx, suName).comps[ref.slice(slash + 1)], 'a component of the model has no state');
  c.retryAt = null;
  if (suShouldRun(ctx, suName) && peek(ctx, suName).node !== null) instantiateComp(ctx, suName, ref.slice(slash + 1), c.attempt + 1);
  else c.presence = 'uninstantiated';
  markSuDirty(ctx, suName);
  return null;
}

function nodeUp(ctx: Ctx, node: string): null {
  let ns = ctx.s.nodes[node];
  if (!ns) {
    if (ctx.idx.nodeNames.length > 0) {
      ctx.notices.push({ kind: 'ignored', input: `node-up ${node}`, reason: 'the node is not in the configuration' });
      return null;
    }
    ns = ctx.s.nodes[node] = newNodeState('unlocked');
  }
  if (!ns.up) {
    ns.up = true;
    ns.oper = 'enabled'; // a node that (re)joins has rebooted: a failover or fence is behind it
    delete ns.disabledReason;
  }
  for (const sg of ctx.idx.sgs.keys()) ctx.dirty.add(sg);
  ctx.rev++;
  return null;
}

function nodeDown(ctx: Ctx, node: string): null {
  const ns = ctx.s.nodes[node];
  if (!ns) {
    ctx.notices.push({ kind: 'ignored', input: `node-down ${node}`, reason: 'unknown node' });
    return null;
  }
  ns.up = false;
  ns.fencing = false;
  migrationNodeDown(ctx, node);
  for (const name of Object.keys(ctx.s.sus)) {
    if (peek(ctx, name).node !== node) continue;
    const st = su(ctx, name);
    for (const c of Object.values(st.comps)) {
      if (c.presence === 'termination-failed') c.oper = 'enabled';
      c.presence = 'uninstantiated';
      c.retryAt = null;
    }
    if (st.disabledCause === 'termination-failed') {
      // The node is off, so the component that would not stop has stopped.
      enableSu(st);
    }
    markSuDirty(ctx, name);
  }
  return null;
}

function configChanged(ctx: Ctx): null {
  ownSiRecord(ctx);
  ownSuRecord(ctx);
  for (const name of Object.keys(ctx.s.sus)) su(ctx, name); // new components are added in place
  const { idx, s } = ctx;
  addMissingEntities(idx.model, s);
  for (const [name, st] of Object.entries(s.sus)) {
    for (const si of Object.keys(st.assignments)) if (!idx.sis.has(si)) removeAssignment(ctx, name, si);
    if (idx.sus.has(name)) continue;
    for (const [comp, c] of Object.entries(st.comps)) {
      if (c.presence !== 'uninstantiated' && st.node !== null && nodeUsable(ctx, st.node)) {
        ctx.commands.push({ kind: 'comp-cleanup', node: st.node, su: name, comp, reason: 'removed from configuration' });
      }
    }
    delete s.sus[name];
  }
  for (const si of Object.keys(s.sis)) if (!idx.sis.has(si)) delete s.sis[si];
  for (const sg of Object.keys(s.sgs)) if (!idx.sgs.has(sg)) delete s.sgs[sg];
  for (const sg of idx.sgs.keys()) ctx.dirty.add(sg);
  return null;
}

/**
 * Shutting-down entities with nothing left assigned become locked (only touched SGs can have
 * released anything). Returns whether any did.
 */
function completeShutdowns(ctx: Ctx, touched: ReadonlySet<string>): boolean {
  const { s } = ctx;
  const holds = (name: string): boolean => {
    for (const _ in must(s.sus[name], 'an SU of the model has no state').assignments) return true;
    return false;
  };
  let changed = false;
  for (const name of touched) {
    const sg = ctx.idx.sgs.get(name);
    const sgSt = s.sgs[name];
    if (!sg || !sgSt) continue;
    for (const u of sg.units) {
      if (must(s.sus[u.name], 'an SU of the model has no state').admin === 'shutting-down' && !holds(u.name)) {
        su(ctx, u.name).admin = 'locked';
        markSuDirty(ctx, u.name);
        changed = true;
      }
    }
    if (sgSt.admin === 'shutting-down' && !sg.units.some((u) => holds(u.name))) {
      sgSt.admin = 'locked';
      ctx.dirty.add(name);
      changed = true;
    }
    for (const x of sg.sis) {
      if (must(s.sis[x.name], 'an SI of the model has no state').admin === 'shutting-down' && !sg.units.some((u) => must(s.sus[u.name], 'an SU of the model has no state').assignments[x.name])) {
        si(ctx, x.name).admin = 'locked';
        ctx.dirty.add(name);
        changed = true;
      }
    }
  }
  for (const [name, ns] of Object.entries(s.nodes)) {
    if (ns.admin !== 'shutting-down') continue;
    if (!Object.entries(s.sus).some(([su, st]) => st.node === name && holds(su))) {
      ns.admin = 'locked';
      for (const sg of ctx.idx.sgs.keys()) ctx.dirty.add(sg);
      changed = true;
    }
  }
  return changed;
}
