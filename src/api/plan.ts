/**
 * What the AMF will do if a new config is applied, for `PUT /v1/config?dry_run=1` and
 * `amfctl config apply --plan`: SUs to instantiate and terminate, and SIs whose assignments move.
 * The target layout is the engine's own settled assignment for the new model (`computePlan`),
 * with the SUs that are out of service now kept out of service. `planAdminOp` is the same for an
 * admin operation (`POST /v1/admin/...?dry_run=1`, the web console's confirmation).
 */
import { computePlan } from '../amf/plan.js';
import type { AdminTarget } from '../amf/commands.js';
import { suPresence } from '../amf/context.js';
import { Harness } from '../amf/harness.js';
import type { AdminOp, HaState } from '../model/vocabulary.js';
import { indexModel } from '../amf/model-index.js';
import type { AmfState } from '../amf/state.js';
import type { AmfModel } from '../model/index.js';
import { type Result, err, ok } from '../util/result.js';

export interface PlacedHa {
  readonly su: string;
  readonly ha: HaState;
}

export interface ConfigChangePlan {
  readonly instantiate: readonly string[];
  readonly terminate: readonly string[];
  /** SIs whose assignments differ between now and the settled layout of the new config. */
  readonly moves: readonly { readonly si: string; readonly from: readonly PlacedHa[]; readonly to: readonly PlacedHa[] }[];
}

function sameLayout(a: readonly PlacedHa[], b: readonly PlacedHa[]): boolean {
  const key = (x: readonly PlacedHa[]): string => x.map((p) => `${p.su}=${p.ha}`).sort().join(',');
  return key(a) === key(b);
}

export function planConfigChange(current: AmfModel, state: AmfState, next: AmfModel): Result<ConfigChangePlan, string> {
  const before = indexModel(current);
  const after = indexModel(next);
  // SUs that exist in both and are not running now stay down in the plan.
  const down = [...after.sus.keys()].filter((su) => before.sus.has(su) && state.sus[su] !== undefined && !Object.values(state.sus[su].comps).every((c) => c.presence === 'instantiated'));
  const settled = computePlan(next, down);
  if (!settled.ok) return err(settled.error);
  const target = new Map<string, PlacedHa[]>();
  for (const g of settled.value) for (const a of g.assignments) target.set(a.si, [...(target.get(a.si) ?? []), { su: a.su, ha: a.ha }]);
  const sis = [...new Set([...before.sis.keys(), ...after.sis.keys()])];
  return ok({
    instantiate: [...after.sus.keys()].filter((su) => !before.sus.has(su)),
    terminate: [...before.sus.keys()].filter((su) => !after.sus.has(su)),
    moves: moves(sis, layout(state), target),
  });
}

/** SI → its assignments in `state`. */
function layout(state: AmfState): Map<string, PlacedHa[]> {
  const out = new Map<string, PlacedHa[]>();
  for (const [su, st] of Object.entries(state.sus)) {
    for (const [si, a] of Object.entries(st.assignments)) out.set(si, [...(out.get(si) ?? []), { su, ha: a.ha }]);
  }
  return out;
}

function moves(sis: readonly string[], now: Map<string, PlacedHa[]>, target: Map<string, PlacedHa[]>): ConfigChangePlan['moves'] {
  return sis.flatMap((si) => {
    const from = now.get(si) ?? [];
    const to = target.get(si) ?? [];
    return sameLayout(from, to) ? [] : [{ si, from, to }];
  });
}

/**
 * What an admin operation does from `state`: the engine run to settlement with a healthy agent
 * (components start and stop, CSI sets and quiescing complete) at `now`; the engine's refusal
 * text when it refuses the operation. `state` is not changed (the engine copies on write).
 */
export function planAdminOp(model: AmfModel, state: AmfState, now: number, op: AdminOp, target: AdminTarget): Result<ConfigChangePlan, string> {
  const h = new Harness(model, () => {}, state);
  h.now = now;
  const refused = h.send({ kind: 'admin', op, target });
  if (refused !== undefined) return err(refused);
  const running = (s: AmfState): Set<string> => new Set(Object.entries(s.sus).filter(([, su]) => suPresence(su) === 'instantiated').map(([name]) => name));
  const [was, is] = [running(state), running(h.state)];
  return ok({
    instantiate: [...is].filter((su) => !was.has(su)).sort(),
    terminate: [...was].filter((su) => !is.has(su)).sort(),
    moves: moves([...indexModel(model).sis.keys()], layout(state), layout(h.state)),
  });
}

/** The plan as lines for people: `+ SU_3 instantiate`, `SI_1: SU_1 active -> SU_2 active`. */
export function formatPlan(plan: ConfigChangePlan): string[] {
  const side = (x: readonly PlacedHa[]): string => (x.length === 0 ? '(unassigned)' : x.map((p) => `${p.su} ${p.ha}`).join(', '));
  return [
    ...plan.instantiate.map((su) => `+ ${su} instantiate`),
    ...plan.terminate.map((su) => `- ${su} terminate`),
    ...plan.moves.map((m) => `~ ${m.si}: ${side(m.from)} -> ${side(m.to)}`),
  ];
}
