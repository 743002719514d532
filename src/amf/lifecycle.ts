/**
 * Component life cycle: the commands that start, stop and restart components, and the presence
 * transitions that go with them. Every command to a component goes through here.
 */
import type { HaState } from '../model/vocabulary.js';
import { type Ctx, markSuDirty, peek, su } from './context.js';
import type { CompConfig } from '../model/types.js';
import { assert, must } from '../util/assert.js';

function compCfg(ctx: Ctx, suName: string, comp: string): CompConfig {
  const cfg = ctx.idx.sus.get(suName)?.cfg.components.find((c) => c.name === comp);
  assert(cfg !== undefined, `unknown component ${suName}/${comp}`);
  return cfg;
}

export function instantiateComp(ctx: Ctx, suName: string, comp: string, attempt: number): void {
  const st = su(ctx, suName);
  const c = must(st.comps[comp], 'a component of the model has no state');
  assert(st.node !== null, `instantiate ${suName}/${comp} without a node`);
  if (c.presence !== 'restarting') c.presence = 'instantiating';
  c.attempt = attempt;
  c.retryAt = null;
  ctx.commands.push({ kind: 'comp-instantiate', node: st.node, su: suName, comp, attempt });
}

function stopHealthchecks(ctx: Ctx, suName: string, comp: string, node: string): void {
  for (const hc of compCfg(ctx, suName, comp).healthchecks) {
    ctx.commands.push({ kind: 'healthcheck-stop', node, su: suName, comp, key: hc.key });
  }
}

/**
 * Stop an instantiated (or instantiating) component. `abrupt` uses cleanup, else terminate.
 * `restart` re-instantiates it when it is down (presence restarting).
 */
export function stopComp(ctx: Ctx, suName: string, comp: string, how: { abrupt: boolean; restart: boolean; reason: string }): void {
  const st = su(ctx, suName);
  const c = must(st.comps[comp], 'a component of the model has no state');
  assert(st.node !== null, `stop ${suName}/${comp} without a node`);
  if (c.presence === 'instantiated') stopHealthchecks(ctx, suName, comp, st.node);
  c.presence = how.restart ? 'restarting' : 'terminating';
  c.retryAt = null;
  if (how.abrupt) ctx.commands.push({ kind: 'comp-cleanup', node: st.node, su: suName, comp, reason: how.reason });
  else ctx.commands.push({ kind: 'comp-terminate', node: st.node, su: suName, comp });
  markSuDirty(ctx, suName);
}

/** The component came up: start its healthchecks and (re)send the CSIs its SU holds. */
export function compUp(ctx: Ctx, suName: string, comp: string): void {
  const st = su(ctx, suName);
  const c = must(st.comps[comp], 'a component of the model has no state');
  c.presence = 'instantiated';
  c.oper = 'enabled';
  c.retryAt = null;
  const node = must(st.node, 'an SU in service is placed on a node');
  for (const hc of compCfg(ctx, suName, comp).healthchecks) {
    ctx.commands.push({ kind: 'healthcheck-start', node, su: suName, comp, key: hc.key });
  }
  for (const si in st.assignments) {
    const a = must(st.assignments[si], 'an assignment listed is missing');
    for (const h of ctx.idx.holders(suName, si) ?? []) {
      if (h.comp.name !== comp) continue;
      // A component restarted while quiescing is quiesced: it has stopped serving.
      const ha: HaState = a.ha === 'quiescing' ? 'quiesced' : a.ha;
      sendCsiSet(ctx, suName, si, h.csi, ha);
      if (!a.waiting.includes(h.csi)) a.waiting.push(h.csi);
    }
  }
  markSuDirty(ctx, suName);
}

/** Send one CSI set (the component must be instantiated). */
export function sendCsiSet(ctx: Ctx, suName: string, si: string, csi: string, ha: HaState): void {
  const st = peek(ctx, suName);
  const h = ctx.idx.holders(suName, si)?.find((x) => x.csi === csi);
  assert(h !== undefined, `no holder for ${si}/${csi} in ${suName}`);
  ctx.commands.push({
    kind: 'csi-set',
    node: must(st.node, 'an SU in service is placed on a node'),
    su: suName,
    comp: h.comp.name,
    si,
    csi,
    csiType: h.csiType,
    haState: ha,
    attributes: h.attributes.map((x) => ({ name: x.name, value: x.value })),
  });
}

/** Components of `su` holding CSIs of `si` that are up to take callbacks. */
export function liveHolders(ctx: Ctx, suName: string, si: string): { comp: string; csi: string }[] {
  const st = peek(ctx, suName);
  const out: { comp: string; csi: string }[] = [];
  for (const h of ctx.idx.holders(suName, si) ?? []) {
    if (must(st.comps[h.comp.name], 'a component of the model has no state').presence === 'instantiated') out.push({ comp: h.comp.name, csi: h.csi });
  }
  return out;
}

/** Set the SU–SI HA state: CSI set to every live holder, wait for all of them. */
export function setAssignment(ctx: Ctx, suName: string, si: string, ha: HaState): void {
  const st = su(ctx, suName);
  const live = liveHolders(ctx, suName, si);
  for (const h of live) sendCsiSet(ctx, suName, si, h.csi, ha);
  const csis: Record<string, string> = {};
  for (const h of ctx.idx.holders(suName, si) ?? []) csis[h.csi] = h.comp.name;
  st.assignments[si] = { ha, waiting: live.map((h) => h.csi), csis };
  markSuDirty(ctx, suName);
}

/** Remove an SU–SI assignment: CSI remove to every live holder (dead ones have lost it anyway). */
export function removeAssignment(ctx: Ctx, suName: string, si: string): void {
  const st = su(ctx, suName);
  // The SI may have left the configuration: use the components recorded at assignment time.
  const recorded = Object.entries(st.assignments[si]?.csis ?? {}).map(([csi, comp]) => ({ comp, csi }));
  const holders = ctx.idx.holders(suName, si) === null ? recorded.filter((h) => st.comps[h.comp]?.presence === 'instantiated') : liveHolders(ctx, suName, si);
  for (const h of holders) {
    ctx.commands.push({ kind: 'csi-remove', node: must(st.node, 'an SU in service is placed on a node'), su: suName, comp: h.comp, si, csi: h.csi });
  }
  delete st.assignments[si];
  markSuDirty(ctx, suName);
}
