/**
 * Admin `migrate` of a VM SU to another node (issue 17): its one component (a vm component with
 * a `migration_uri`) moves live, and the SU keeps its assignments and their HA states
 * throughout, so the move is no failover. Two phases: `moving` (comp-migrate to the source's
 * agent, which runs `virsh migrate --live` and forgets the component without stopping it), then
 * `adopting` (the SU is placed on the destination; comp-instantiate with `adopt` there, after
 * which the component's healthchecks start and its CSIs are set again there, same HA states).
 */
import type { CompMigratedEvent, CompMigrateFailedEvent } from './commands.js';
import { type Ctx, markSuDirty, nodeUsable, peek, su, suAssignable } from './context.js';
import { compUp } from './lifecycle.js';
import { recoverFromError } from './recovery.js';
import { must } from '../util/assert.js';

/** Check and start the migration of `suName` to `to`; returns why not (nothing changed) or null. */
export function startMigration(ctx: Ctx, suName: string, to: string | undefined): string | null {
  if (to === undefined) return 'migrate needs a destination node';
  const st = peek(ctx, suName);
  const cfg = must(ctx.idx.sus.get(suName), 'an SU not in the model').cfg;
  if (st.migration) return `it is already migrating to ${st.migration.to}`;
  if (!suAssignable(ctx, suName) || st.admin !== 'unlocked') return 'the SU must be unlocked, in service and instantiated';
  const from = must(st.node, 'an SU in service is placed on a node');
  if (to === from) return `it already runs on ${to}`;
  const dest = ctx.s.nodes[to];
  if (!dest) return `no node ${to}`;
  if (cfg.nodes.length > 0 && !cfg.nodes.includes(to)) return `the SU may run only on ${cfg.nodes.join(', ')}, not on ${to}`;
  if (!nodeUsable(ctx, to) || dest.admin !== 'unlocked' || dest.fencing) return `node ${to} must be up, enabled and unlocked`;
  const [comp, ...more] = cfg.components;
  if (!comp || more.length > 0) return `only an SU of one vm component migrates (it has ${cfg.components.length} components)`;
  if (comp.kind.type !== 'vm') return `component ${comp.name} is a ${comp.kind.type} component; only vm components migrate live`;
  if (comp.kind.migrationUri === undefined) return `component ${comp.name} has no migration_uri (the libvirt URI of a destination)`;
  su(ctx, suName).migration = { from, to, comp: comp.name, phase: 'moving' };
  for (const hc of comp.healthchecks) ctx.commands.push({ kind: 'healthcheck-stop', node: from, su: suName, comp: comp.name, key: hc.key });
  ctx.commands.push({ kind: 'comp-migrate', node: from, su: suName, comp: comp.name, to });
  markSuDirty(ctx, suName);
  return null;
}

function migrating(ctx: Ctx, suName: string, comp: string, phase: 'moving' | 'adopting') {
  const m = peek(ctx, suName).migration;
  return m?.phase === phase && m.comp === comp ? m : undefined;
}

/** The component arrived on the destination: the SU is placed there, and it is adopted. */
export function compMigrated(ctx: Ctx, input: CompMigratedEvent): string | null {
  const m = migrating(ctx, input.su, input.comp, 'moving');
  if (!m) return `${input.su} is not migrating ${input.comp}`;
  const st = su(ctx, input.su);
  st.node = m.to;
  markSuDirty(ctx, input.su);
  if (!nodeUsable(ctx, m.to)) {
    // The destination went down meanwhile: as for every component of a node that is down,
    // nothing there is trusted to run (fencing stops it; a later start there finds it and refuses).
    delete st.migration;
    must(st.comps[input.comp], 'a component of the model has no state').presence = 'uninstantiated';
    return null;
  }
  st.migration = { ...m, phase: 'adopting' };
  ctx.commands.push({ kind: 'comp-instantiate', node: m.to, su: input.su, comp: input.comp, attempt: 1, adopt: input.uuid });
  return null;
}

/**
 * The migration did not happen: the SU stays where it is (healthchecks and CSIs are confirmed
 * again there), or, when the component was lost on the way, its configured recovery runs.
 */
export function compMigrateFailed(ctx: Ctx, input: CompMigrateFailedEvent): string | null {
  const m = migrating(ctx, input.su, input.comp, 'moving');
  if (!m) return `${input.su} is not migrating ${input.comp}`;
  delete su(ctx, input.su).migration;
  if (input.lost) recoverFromError(ctx, input.su, input.comp, 'no-recommendation', `lost in its migration to ${m.to}: ${input.reason}`);
  else compUp(ctx, input.su, input.comp);
  return null;
}

/** comp-instantiated while adopting: the destination runs it; healthchecks and CSIs follow it there. */
export function compAdopted(ctx: Ctx, suName: string, comp: string): boolean {
  if (!migrating(ctx, suName, comp, 'adopting')) return false;
  delete su(ctx, suName).migration;
  compUp(ctx, suName, comp);
  return true;
}

/** comp-instantiate-failed while adopting: it cannot be taken over there, a component error. */
export function adoptionFailed(ctx: Ctx, suName: string, comp: string, reason: string): boolean {
  const m = migrating(ctx, suName, comp, 'adopting');
  if (!m) return false;
  delete su(ctx, suName).migration;
  recoverFromError(ctx, suName, comp, 'no-recommendation', `not taken over on ${m.to} after its migration: ${reason}`);
  return true;
}

/** A node went down: a migration whose component was there is over (the node-down recovery takes it). */
export function migrationNodeDown(ctx: Ctx, node: string): void {
  for (const name of Object.keys(ctx.s.sus)) {
    const m = peek(ctx, name).migration;
    if (m && ((m.phase === 'moving' && m.from === node) || (m.phase === 'adopting' && m.to === node))) delete su(ctx, name).migration;
  }
}
