/**
 * The blast radius of the escalation (docs/amf.md, "Blast radius"): what a fault may take down.
 *
 * 1. A fault that follows a component type is the component's, not the nodes': the same component
 *    (its name within an SG) failing CSI set or instantiation on two or more nodes within the
 *    cluster's node failover probation, or being the only cause of a node's failovers when they
 *    reach the node's maximum. Its SU is disabled for repair, so is every further SU of the type
 *    that fails the same way, the node failovers those failures counted are given back, and nodes
 *    and other SUs stay in service.
 * 2. Escalation alone never disables the last in-service node that can host an SG's SUs: that
 *    would leave the SG nowhere to run while proving nothing. Only a fence may take it out.
 *
 * This file holds the bookkeeping and the tests; recovery.ts acts on them.
 */
import { type Ctx, allowedNodes, nodeInService, peek } from './context.js';
import type { TypeFault } from './state.js';
import { must } from '../util/assert.js';

/** The status line of an SU disabled by rule 1 starts with this. */
export const FAILING_EVERYWHERE = 'failing on every node it was tried on';

function sgOf(ctx: Ctx, suName: string): string {
  return must(ctx.idx.sus.get(suName), 'an SU not in the model').sg.name;
}

function write(ctx: Ctx, sg: string, comp: string, byNode: Record<string, TypeFault>): void {
  const st = must(ctx.s.sgs[sg], 'an SG of the model has no state');
  st.faults = { ...st.faults, [comp]: byNode };
}

/**
 * Remember that a CSI set or the instantiation of SU/comp failed on the SU's node now, forgetting
 * the type's failures older than the probation. Returns the nodes it failed on, sorted.
 */
export function recordTypeFault(ctx: Ctx, suName: string, comp: string, reason: string): string[] {
  const sg = sgOf(ctx, suName);
  const node = must(peek(ctx, suName).node, 'a failing component is placed on a node');
  const since = ctx.now - ctx.idx.model.cluster.nodeFailoverProbationMs;
  const byNode: Record<string, TypeFault> = {};
  for (const [n, f] of Object.entries(ctx.s.sgs[sg]?.faults?.[comp] ?? {})) if (f.at > since) byNode[n] = f;
  const prev = byNode[node];
  byNode[node] = { at: ctx.now, reason, counted: prev?.counted ?? 0, under: prev?.under ?? null };
  write(ctx, sg, comp, byNode);
  return Object.keys(byNode).sort();
}

/** A node failover was counted on `node` (under its probation ending `under`) for the type fault just recorded. */
export function countTypeFault(ctx: Ctx, suName: string, comp: string, node: string, under: number | null): void {
  const sg = sgOf(ctx, suName);
  const byNode = ctx.s.sgs[sg]?.faults?.[comp];
  const f = byNode?.[node];
  if (byNode === undefined || f === undefined) return;
  write(ctx, sg, comp, { ...byNode, [node]: { ...f, counted: f.under === under ? f.counted + 1 : 1, under } });
}

/**
 * The node failovers counted for the type's failures that the nodes still hold (same probation),
 * by node; the record forgets them.
 */
export function takeCounted(ctx: Ctx, suName: string, comp: string): Array<{ node: string; count: number }> {
  const sg = sgOf(ctx, suName);
  const byNode = ctx.s.sgs[sg]?.faults?.[comp] ?? {};
  const out: Array<{ node: string; count: number }> = [];
  const next: Record<string, TypeFault> = {};
  for (const [n, f] of Object.entries(byNode)) {
    const ns = ctx.s.nodes[n];
    if (f.counted > 0 && ns !== undefined && f.under !== null && ns.probationEnd === f.under) out.push({ node: n, count: Math.min(f.counted, ns.failovers) });
    next[n] = { ...f, counted: 0, under: null };
  }
  write(ctx, sg, comp, next);
  return out.filter((x) => x.count > 0);
}

/** The SUs of the SG of `suName` (itself included) that have a component named `comp`. */
export function sameType(ctx: Ctx, suName: string, comp: string): string[] {
  const sg = must(ctx.idx.sus.get(suName), 'an SU not in the model').sg;
  return sg.units.filter((u) => u.components.some((c) => c.name === comp)).map((u) => u.name);
}

/** Another SU of the type is disabled for this rule already: the type is known to be at fault. */
export function convicted(ctx: Ctx, suName: string, comp: string): boolean {
  return sameType(ctx, suName, comp).some((u) => u !== suName && peek(ctx, u).disabledCause === 'component-fault');
}

/**
 * Every node failover counted on `node` within its probation was for this type's failures: the
 * fault has followed the component there, not the node (no other SU failed on it).
 */
export function onlyTypeCounted(ctx: Ctx, suName: string, comp: string, node: string): boolean {
  const f = ctx.s.sgs[sgOf(ctx, suName)]?.faults?.[comp]?.[node];
  const ns = ctx.s.nodes[node];
  return f !== undefined && ns !== undefined && f.under !== null && f.under === ns.probationEnd && f.counted >= ns.failovers;
}

/** The nodes the type has failed on within the probation, sorted. */
export function typeFaultNodes(ctx: Ctx, suName: string, comp: string): string[] {
  return Object.keys(ctx.s.sgs[sgOf(ctx, suName)]?.faults?.[comp] ?? {}).sort();
}

/** The status line of rule 1: the nodes and the latest reason. */
export function failingEverywhere(nodes: readonly string[], reason: string): string {
  return `${FAILING_EVERYWHERE}: ${reason} (nodes ${nodes.join(', ')})`;
}

/** Forget the type faults of the SU's components (a repair says the fault was dealt with). */
export function forgetTypeFaults(ctx: Ctx, suName: string): void {
  const sg = sgOf(ctx, suName);
  const st = must(ctx.s.sgs[sg], 'an SG of the model has no state');
  if (st.faults === undefined) return;
  const comps = new Set(must(ctx.idx.sus.get(suName), 'an SU not in the model').cfg.components.map((c) => c.name));
  const left = Object.fromEntries(Object.entries(st.faults).filter(([c]) => !comps.has(c)));
  if (Object.keys(left).length > 0) st.faults = left;
  else delete st.faults;
}

/**
 * Rule 2: an unlocked SG for which `node` is the last in-service node among those that may host
 * its SUs, or null when every such SG has another.
 */
export function lastHostOf(ctx: Ctx, node: string): string | null {
  for (const sg of ctx.idx.model.groups) {
    if (ctx.s.sgs[sg.name]?.admin !== 'unlocked') continue;
    const hosts = new Set<string>();
    for (const u of sg.units) for (const n of allowedNodes(ctx, u.name)) hosts.add(n);
    if (!hosts.has(node)) continue;
    if (![...hosts].some((n) => n !== node && nodeInService(ctx, n))) return sg.name;
  }
  return null;
}
