/**
 * Property tests over random configurations and event sequences (fast-check):
 * - the engine's invariants (src/amf/invariants.ts: never two SUs serving one SI outside
 *   N-Way-Active, per-SU maxima Ma/Ms, one SI per SU in No-Redundancy, at most Pa active SUs in
 *   N+M, assignments only to SUs in service, consistent bookkeeping), after every step;
 * - identical inputs give identical outputs (two runs, same transcript and state);
 * - step never writes to its input (the harness deep-freezes every state it hands over);
 * - once settled, no SI stays without its active assignment when the model's rules could give it one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { AmfInput } from '../../src/amf/commands.js';
import type { AdminOp, Recovery, RedundancyModel } from '../../src/model/vocabulary.js';
import { type Ctx, suAssignable } from '../../src/amf/context.js';
import { Harness, nodesOf, type StepRecord } from '../../src/amf/harness.js';
import { indexModel } from '../../src/amf/model-index.js';
import type { AmfState } from '../../src/amf/state.js';
import { loadConfig } from '../../src/model/index.js';
import type { AmfModel, SgConfig } from '../../src/model/types.js';

interface Spec {
  model: RedundancyModel;
  nodes: number;
  sus: { node: number; rank: number; retries: number; delay: boolean; disableRestart: boolean }[];
  sis: { pref: number; rank: number }[];
  pa: number;
  ps: number;
  ma: number;
  ms: number;
  assigned: number;
}

const specArb: fc.Arbitrary<Spec> = fc
  .record({
    model: fc.constantFrom<RedundancyModel>('2n', 'nplusm', 'nway', 'nwayactive', 'noredundancy'),
    nodes: fc.integer({ min: 1, max: 4 }),
    sus: fc.array(
      fc.record({
        node: fc.integer({ min: 0, max: 3 }),
        rank: fc.integer({ min: 0, max: 3 }),
        retries: fc.integer({ min: 0, max: 2 }),
        delay: fc.boolean(),
        disableRestart: fc.boolean(),
      }),
      { minLength: 1, maxLength: 5 },
    ),
    sis: fc.array(fc.record({ pref: fc.integer({ min: 0, max: 3 }), rank: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 5 }),
    pa: fc.integer({ min: 1, max: 3 }),
    ps: fc.integer({ min: 1, max: 2 }),
    ma: fc.integer({ min: 1, max: 3 }),
    ms: fc.integer({ min: 1, max: 3 }),
    assigned: fc.integer({ min: 0, max: 4 }),
  })
  .map((s) => ({ ...s, sus: s.sus.map((u) => ({ ...u, node: u.node % s.nodes })) }));

function configText(s: Spec): string {
  const out: string[] = [];
  for (let n = 0; n < s.nodes; n++) out.push(`node {\n\tname = n${n}\n\tnode_failover_max = 2\n\tnode_failover_probation = 60000\n}\n`);
  out.push(`group {\n\tname = g\n\tmodel = ${s.model}\n\tcomponent_restart_max = 1\n\tcomponent_restart_probation = 5000\n\tunit_restart_max = 1\n\tunit_restart_probation = 10000\n`);
  if (s.model === 'nplusm') {
    out.push(`\tpreferred-active-units = ${s.pa}\n\tpreferred-standby-units = ${s.ps}\n\tmaximum-active-instances = ${s.ma}\n\tmaximum-standby-instances = ${s.ms}\n`);
  }
  if (s.model === 'nway') {
    out.push(`\tmaximum-active-instances = ${s.ma}\n\tmaximum-standby-instances = ${s.ms}\n`);
    if (s.assigned > 0) out.push(`\tpreferred-assigned-units = ${s.assigned}\n`);
  }
  if (s.model === 'nwayactive') out.push(`\tmaximum-active-instances = ${s.ma}\n`);
  s.sus.forEach((u, i) => {
    out.push(`\tunit {\n\t\tname = SU${i}\n\t\tnode = n${u.node}\n\t\trank = ${u.rank}\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tinstantiate = clc\n\t\t\tcleanup = clc\n`);
    out.push(`\t\t\tinstantiate_retries = ${u.retries}\n\t\t\tinstantiate_retry_delay = ${u.delay ? 1000 : 0}\n`);
    if (u.disableRestart) out.push('\t\t\tdisable_restart = yes\n');
    out.push('\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n');
  });
  s.sis.forEach((si, i) => {
    out.push(`\tserviceinstance {\n\t\tname = SI${i}\n\t\trank = ${si.rank}\n`);
    if (s.model === 'nway') out.push(`\t\tpreferred-standby-assignments = ${si.pref}\n`);
    if (s.model === 'nwayactive') out.push(`\t\tpreferred-active-assignments = ${Math.max(1, si.pref)}\n`);
    out.push(`\t\tcsi_descriptor {\n\t\t\tcsi_name = x${i}\n\t\t\ttype_name = t\n\t\t}\n\t}\n`);
  });
  out.push('}\n');
  return out.join('');
}

/** One scripted event: an engine input, or a change of agent behaviour, or time passing. */
type Ev =
  | { t: 'input'; input: AmfInput }
  | { t: 'fail-instantiate'; ref: string; n: number }
  | { t: 'fail-terminate'; ref: string }
  | { t: 'time'; ms: number };

const recoveries: Recovery[] = ['no-recommendation', 'component-restart', 'component-failover', 'node-switchover', 'node-failover', 'node-failfast'];
const ops: AdminOp[] = ['lock', 'unlock', 'lock-instantiation', 'unlock-instantiation', 'shutdown', 'restart', 'si-swap', 'repair', 'switchover'];

function eventArb(s: Spec): fc.Arbitrary<Ev> {
  const su = fc.integer({ min: 0, max: s.sus.length - 1 }).map((i) => `SU${i}`);
  const node = fc.integer({ min: 0, max: s.nodes - 1 }).map((i) => `n${i}`);
  const si = fc.integer({ min: 0, max: s.sis.length - 1 }).map((i) => `SI${i}`);
  const target = fc.oneof(
    su.map((name) => ({ type: 'su' as const, name })),
    si.map((name) => ({ type: 'si' as const, name })),
    node.map((name) => ({ type: 'node' as const, name })),
    fc.constant({ type: 'sg' as const, name: 'g' }),
    su.map((name) => ({ type: 'comp' as const, su: name, comp: 'c' })),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ su, recovery: fc.constantFrom(...recoveries) }).map(({ su, recovery }): Ev => ({ t: 'input', input: { kind: 'error-report', su, comp: 'c', recovery, source: 'error-report' } })) },
    { weight: 2, arbitrary: node.map((n): Ev => ({ t: 'input', input: { kind: 'node-down', node: n } })) },
    { weight: 2, arbitrary: node.map((n): Ev => ({ t: 'input', input: { kind: 'node-up', node: n } })) },
    { weight: 3, arbitrary: fc.record({ op: fc.constantFrom(...ops), target }).map(({ op, target }): Ev => ({ t: 'input', input: { kind: 'admin', op, target } })) },
    { weight: 1, arbitrary: fc.record({ su, n: fc.integer({ min: 1, max: 3 }) }).map(({ su, n }): Ev => ({ t: 'fail-instantiate', ref: `${su}/c`, n })) },
    { weight: 1, arbitrary: su.map((su): Ev => ({ t: 'fail-terminate', ref: `${su}/c` })) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((ms): Ev => ({ t: 'time', ms })) },
  );
}

const scenarioArb = specArb.chain((s) => fc.tuple(fc.constant(s), fc.array(eventArb(s), { maxLength: 14 })));

/** In a settled state, an SI without an active assignment must be one the model cannot place. */
function checkLiveness(model: AmfModel, state: AmfState): void {
  const ctx: Ctx = { idx: indexModel(model), s: state, now: 0, commands: [], notices: [], dirty: new Set(), rev: 0 };
  for (const sg of model.groups) {
    if (state.sgs[sg.name]!.admin !== 'unlocked') continue;
    const ready = sg.units.map((u) => u.name).filter((su) => suAssignable(ctx, su));
    const as = (su: string): Record<string, { ha: string }> => state.sus[su]!.assignments;
    const load = (su: string, ha: string): number => Object.values(as(su)).filter((a) => a.ha === ha).length;
    for (const si of sg.sis) {
      if (state.sis[si.name]!.admin !== 'unlocked') continue;
      const holders = sg.units.filter((u) => as(u.name)[si.name]?.ha === 'active').length;
      const could = couldTake(sg, ready, si.name, { as, load, holders });
      assert.ok(!could, `settled, yet ${si.name} (${sg.model}) could be given an active on ${could} and is not`);
    }
  }
}

function couldTake(
  sg: SgConfig,
  ready: string[],
  si: string,
  q: { as: (su: string) => Record<string, { ha: string }>; load: (su: string, ha: string) => number; holders: number },
): string | false {
  const free = ready.filter((su) => Object.keys(q.as(su)).length === 0);
  switch (sg.model) {
    case '2n':
      return q.holders === 0 ? (ready[0] ?? false) : false;
    case 'nplusm': {
      if (q.holders > 0) return false;
      const activeSus = ready.filter((su) => q.load(su, 'active') > 0);
      const withRoom = activeSus.find((su) => q.load(su, 'active') < sg.maximumActiveInstances);
      if (withRoom) return withRoom;
      return activeSus.length === 0 && free[0] !== undefined ? free[0] : false;
    }
    case 'nway': {
      if (q.holders > 0) return false;
      const assigned = ready.filter((su) => Object.keys(q.as(su)).length > 0).length;
      const limit = sg.preferredAssignedUnits;
      return (
        ready.find(
          (su) =>
            q.as(su)[si]?.ha !== 'active' &&
            q.load(su, 'active') < sg.maximumActiveInstances &&
            (q.as(su)[si] !== undefined ? q.as(su)[si]!.ha === 'standby' : limit === 0 || assigned < limit || Object.keys(q.as(su)).length > 0),
        ) ?? false
      );
    }
    case 'nwayactive': {
      const want = sg.sis.find((x) => x.name === si)!.preferredActiveAssignments;
      if (q.holders >= want) return false;
      return ready.find((su) => q.as(su)[si] === undefined && q.load(su, 'active') < sg.maximumActiveInstances) ?? false;
    }
    case 'noredundancy':
      return q.holders === 0 ? (free[0] ?? false) : false;
  }
}

function run(model: AmfModel, events: Ev[], onStep: (r: StepRecord, h: Harness) => void): Harness {
  const h: Harness = new Harness(model, (r) => onStep(r, h), undefined, true);
  h.send(...nodesOf(model).map((node): AmfInput => ({ kind: 'node-up', node })));
  for (const e of events) {
    if (e.t === 'input') h.send(e.input);
    else if (e.t === 'time') h.advance(e.ms);
    else if (e.t === 'fail-instantiate') h.script.failInstantiate.set(e.ref, e.n);
    else h.script.failTerminate.set(e.ref, 1);
  }
  // Settle: let every retry and probation timer run out.
  h.advance(10 * 60_000);
  return h;
}

function modelOf(s: Spec): AmfModel {
  const r = loadConfig(configText(s), 'prop.conf');
  if (!r.ok) throw new Error(`generated config invalid:\n${r.error.map(String).join('\n')}\n${configText(s)}`);
  return r.value;
}

test('safety invariants hold after every step; liveness once settled', () => {
  fc.assert(
    fc.property(scenarioArb, ([spec, events]) => {
      const model = modelOf(spec);
      // The harness checks every invariant of src/amf/invariants.ts after every step.
      const h = run(model, events, () => {});
      checkLiveness(model, h.state);
    }),
    { numRuns: 250, seed: 6 },
  );
});

test('identical inputs give identical outputs', () => {
  fc.assert(
    fc.property(scenarioArb, ([spec, events]) => {
      const model = modelOf(spec);
      const transcript = (): string => {
        const out: string[] = [];
        const h = run(model, events, (r) => out.push(JSON.stringify(r)));
        out.push(JSON.stringify(h.state));
        return out.join('\n');
      };
      assert.equal(transcript(), transcript());
    }),
    { numRuns: 60, seed: 7 },
  );
});
