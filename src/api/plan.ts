/**
 * What the AMF will do if a new config is applied (`PUT /v1/config?dry_run=1`, `amfctl config
 * apply --plan`) or an admin operation is done (`POST /v1/admin/...?dry_run=1`, the web console's
 * confirmation): SUs that start and stop, and SIs whose assignments move. Both are the engine's own
 * answer to the very input the FSM's apply gives it (`config-changed` with the new model in place,
 * or the admin input), from the replica's state, run to settlement with a healthy agent (components
 * start and stop, CSI sets and quiescing complete). So the dry run is the apply, minus the agents'
 * real answers; `test/api/plan-outcome.test.ts` compares the two over the scenario corpus.
 */
import type { AdminTarget, AmfInput } from '../amf/commands.js';
import { suPresence } from '../amf/context.js';
import { Harness } from '../amf/harness.js';
import type { AmfState } from '../amf/state.js';
import type { AmfModel } from '../model/index.js';
import type { AdminOp, HaState } from '../model/vocabulary.js';
import { type Result, err, ok } from '../util/result.js';

export interface PlacedHa {
  readonly su: string;
  readonly ha: HaState;
}

export interface ConfigChangePlan {
  readonly instantiate: readonly string[];
  readonly terminate: readonly string[];
  /** SIs whose assignments differ between now and after the change settled. */
  readonly moves: readonly { readonly si: string; readonly from: readonly PlacedHa[]; readonly to: readonly PlacedHa[] }[];
}

function sameLayout(a: readonly PlacedHa[], b: readonly PlacedHa[]): boolean {
  const key = (x: readonly PlacedHa[]): string => x.map((p) => `${p.su}=${p.ha}`).sort().join(',');
  return key(a) === key(b);
}

/** SI → its assignments in `state`. */
export function layout(state: AmfState): Map<string, PlacedHa[]> {
  const out = new Map<string, PlacedHa[]>();
  for (const [su, st] of Object.entries(state.sus)) {
    for (const [si, a] of Object.entries(st.assignments)) out.set(si, [...(out.get(si) ?? []), { su, ha: a.ha }]);
  }
  return out;
}

/** SUs whose components are all instantiated. */
export function runningSus(state: AmfState): Set<string> {
  return new Set(Object.entries(state.sus).filter(([, su]) => suPresence(su) === 'instantiated').map(([name]) => name));
}

/** The difference between two states: SUs started, SUs stopped, SIs whose assignments changed. */
export function stateChange(was: AmfState, is: AmfState): ConfigChangePlan {
  const [on, now] = [runningSus(was), runningSus(is)];
  const [from, to] = [layout(was), layout(is)];
  const sis = [...new Set([...from.keys(), ...to.keys()])].sort();
  return {
    instantiate: [...now].filter((su) => !on.has(su)).sort(),
    terminate: [...on].filter((su) => !now.has(su)).sort(),
    moves: sis.flatMap((si) => {
      const a = from.get(si) ?? [];
      const b = to.get(si) ?? [];
      return sameLayout(a, b) ? [] : [{ si, from: a, to: b }];
    }),
  };
}

/** The engine run from `state` on `input` under `model` at `now`; its refusal text when it refuses. */
function planInput(model: AmfModel, state: AmfState, now: number, input: AmfInput): Result<ConfigChangePlan, string> {
  const h = new Harness(model, () => {}, state);
  h.now = now;
  const refused = h.send(input);
  if (refused !== undefined) return err(refused);
  return ok(stateChange(state, h.state));
}

/** A config change: `next` replaces the model, then the engine gets `config-changed` (as in ClusterFsm's apply). */
export function planConfigChange(next: AmfModel, state: AmfState, now: number): Result<ConfigChangePlan, string> {
  return planInput(next, state, now, { kind: 'config-changed' });
}

/** An admin operation on the running model. `state` is not changed (the engine copies on write). */
export function planAdminOp(model: AmfModel, state: AmfState, now: number, op: AdminOp, target: AdminTarget, to?: string): Result<ConfigChangePlan, string> {
  return planInput(model, state, now, { kind: 'admin', op, target, ...(to === undefined ? {} : { to }) });
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
