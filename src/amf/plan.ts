/**
 * What the engine assigns for a configuration: per SG its model, N+M reduction level and the
 * SI → SU → HA table. `computePlan` runs the engine against a healthy scripted agent with every
 * node up and the listed SUs failing to instantiate (the `amfctl config plan` view).
 */
import { assignableSis, nplusmReduction } from './assign.js';
import type { AmfInput } from './commands.js';
import type { HaState, RedundancyModel } from '../model/vocabulary.js';
import { type Ctx, suAssignable } from './context.js';
import { Harness, nodesOf } from './harness.js';
import { indexModel } from './model-index.js';
import type { ReductionLevel } from './reduction.js';
import type { AmfState } from './state.js';
import { ConfigError, type AmfModel } from '../model/index.js';
import { type Result, err, ok } from '../util/result.js';
import { assert, must } from '../util/assert.js';

export interface GroupPlan {
  readonly name: string;
  readonly model: RedundancyModel;
  /** N+M reduction level for the SUs in service now; null for other models. */
  readonly level: ReductionLevel | null;
  readonly assignments: readonly { readonly si: string; readonly su: string; readonly ha: HaState }[];
}

export function describeGroups(model: AmfModel, state: AmfState): GroupPlan[] {
  const idx = indexModel(model);
  const ctx: Ctx = { idx, s: state, now: 0, commands: [], notices: [], dirty: new Set(), rev: 0 };
  return model.groups.map((sg) => {
    const inService = sg.units.filter((u) => state.sus[u.name] && suAssignable(ctx, u.name)).length;
    const level = sg.model === 'nplusm' ? nplusmReduction(sg, assignableSis(ctx, sg).length, inService).level : null;
    const assignments: { si: string; su: string; ha: HaState }[] = [];
    for (const si of idx.rankedSis.get(sg.name) ?? []) {
      for (const su of idx.rankedSus.get(sg.name) ?? []) {
        const a = state.sus[su]?.assignments[si];
        if (a) assignments.push({ si, su, ha: a.ha });
      }
    }
    return { name: sg.name, model: sg.model, level, assignments };
  });
}

/** The settled assignment with every SU in service except `down` (which fail to instantiate). */
export function computePlan(model: AmfModel, down: readonly string[]): Result<GroupPlan[], string> {
  const unknown = down.filter((su) => !indexModel(model).sus.has(su));
  if (unknown.length > 0) return err(`unknown SU${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  const h = new Harness(model);
  for (const su of down) {
    for (const comp of must(indexModel(model).sus.get(su), 'an SU not in the model').cfg.components) h.script.failInstantiate.set(`${su}/${comp.name}`, Infinity);
  }
  h.send(...nodesOf(model).map((node): AmfInput => ({ kind: 'node-up', node })));
  // Let instantiation retries (timers) run out.
  for (let i = 0; i < 100 && h.timers.size > 0; i++) h.advance(Math.max(...h.timers.values()) - h.now);
  return ok(describeGroups(model, h.state));
}

/**
 * What `amfctl config validate` warns about: SIs the configuration never assigns active even with
 * every SU in service (too few SUs for the per-SU maxima, no SU that accepts its CSI types), and
 * N+M SIs left without a standby then.
 */
export function planWarnings(model: AmfModel): ConfigError[] {
  const plan = computePlan(model, []);
  assert(plan.ok, 'a plan with no SU down cannot fail');
  const out: ConfigError[] = [];
  for (const g of plan.value) {
    const sg = must(indexModel(model).sgs.get(g.name), 'a planned SG not in the model');
    const level = g.level === null ? '' : ` (N+M reduction level ${g.level})`;
    for (const si of sg.sis) {
      if (si.adminState !== 'unlocked' || sg.adminState !== 'unlocked') continue;
      const has = (ha: HaState): boolean => g.assignments.some((a) => a.si === si.name && a.ha === ha);
      if (!has('active')) out.push(ConfigError.at(si.loc, `serviceinstance ${si.name} of group ${g.name} is never assigned, even with every unit in service${level}`));
      else if (sg.model === 'nplusm' && sg.preferredStandbyUnits > 0 && !has('standby')) {
        out.push(ConfigError.at(si.loc, `serviceinstance ${si.name} of group ${g.name} gets no standby, even with every unit in service${level}`));
      }
    }
  }
  return out;
}
