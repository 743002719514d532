/**
 * The engine's invariants (src/amf/invariants.ts): a settled state of each redundancy model
 * breaks none, and each invariant fires on a state that breaks it (so the checks the harness and
 * the simulator run after every step can fail).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AmfInput } from '../../src/amf/commands.js';
import { Harness, nodesOf } from '../../src/amf/harness.js';
import { checkInvariants, invariantViolations } from '../../src/amf/invariants.js';
import type { AmfState } from '../../src/amf/state.js';
import { loadConfig } from '../../src/model/index.js';
import type { AmfModel } from '../../src/model/types.js';
import { AssertionError } from '../../src/util/assert.js';

function model(kind: string, extra = ''): AmfModel {
  const units = [1, 2, 3]
    .map((i) => `\tunit {\n\t\tname = SU${i}\n\t\tnode = n${i}\n\t\trank = ${i}\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tinstantiate = clc\n\t\t\tcleanup = clc\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n`)
    .join('');
  const sis = [1, 2].map((i) => `\tserviceinstance {\n\t\tname = SI${i}\n\t\tcsi_descriptor {\n\t\t\tcsi_name = x\n\t\t\ttype_name = t\n\t\t}\n\t}\n`).join('');
  const nodes = [1, 2, 3].map((i) => `node {\n\tname = n${i}\n}\n`).join('');
  const r = loadConfig(`${nodes}group {\n\tname = g\n\tmodel = ${kind}\n${extra}${units}${sis}}\n`, 'inv.conf');
  assert.ok(r.ok, r.ok ? '' : r.error.map(String).join('\n'));
  return r.value;
}

function settled(m: AmfModel): AmfState {
  const h = new Harness(m, undefined, undefined, true);
  h.send(...nodesOf(m).map((node): AmfInput => ({ kind: 'node-up', node })));
  return h.state;
}

/** A deep copy to break. */
const copy = (s: AmfState): AmfState => structuredClone(s);

function broken(m: AmfModel, s: AmfState, expect: RegExp, before?: AmfState): void {
  const v = invariantViolations(m, s, before);
  assert.ok(v.some((x) => expect.test(x)), `expected ${expect} among: ${v.join(' | ') || 'none'}`);
  assert.throws(() => checkInvariants(m, s, before), AssertionError);
}

test('a settled state of every redundancy model breaks no invariant', () => {
  for (const [kind, extra] of [['2n', ''], ['nplusm', '\tpreferred-active-units = 2\n\tpreferred-standby-units = 1\n\tmaximum-active-instances = 1\n'], ['nway', ''], ['nwayactive', ''], ['noredundancy', '']] as const) {
    const m = model(kind, extra);
    const s = settled(m);
    assert.deepEqual(invariantViolations(m, s), [], kind);
    assert.ok(Object.values(s.sus).some((u) => Object.values(u.assignments).some((a) => a.ha === 'active')), `${kind}: something is active`);
  }
});

test('each invariant fires on a state that breaks it', () => {
  const m = model('2n');
  const s = settled(m);
  const activeSu = Object.keys(s.sus).find((u) => s.sus[u]!.assignments.SI1?.ha === 'active')!;
  const standbySu = Object.keys(s.sus).find((u) => s.sus[u]!.assignments.SI1?.ha === 'standby')!;
  const idle = Object.keys(s.sus).find((u) => u !== activeSu && u !== standbySu)!;

  let b = copy(s);
  b.sus[standbySu]!.assignments.SI1 = { ha: 'active', waiting: [] };
  broken(m, b, /SI SI1 \(2n\) is served by/);
  b = copy(s);
  b.sus[standbySu]!.assignments.SI1 = { ha: 'quiesced', waiting: ['x'] };
  broken(m, b, /SI SI1 \(2n\) is served by/);

  b = copy(s);
  b.nodes[s.sus[activeSu]!.node!]!.up = false;
  broken(m, b, new RegExp(`SU ${activeSu} holds SI1, SI2 on node n\\d, which is down`));

  b = copy(s);
  b.sus[idle]!.admin = 'locked';
  b.sus[idle]!.assignments.SI2 = { ha: 'standby', waiting: [] };
  broken(m, b, new RegExp(`SU ${idle} was given SI2 standby while out-of-service`), s);
  b = copy(s);
  b.sis.SI1!.admin = 'locked';
  b.sus[standbySu]!.assignments.SI1 = { ha: 'active', waiting: [] };
  b.sus[activeSu]!.assignments.SI1 = { ha: 'quiesced', waiting: [] };
  broken(m, b, /SI SI1 was given an active on .* while locked/, s);

  b = copy(s);
  b.sus[activeSu]!.escalation.compRestarts = -1;
  broken(m, b, /escalation/);
  b = copy(s);
  b.nodes.n1!.failovers = 0.5;
  broken(m, b, /node n1: failovers/);
  b = copy(s);
  b.sus[idle]!.oper = 'disabled';
  broken(m, b, /oper disabled with disabled cause null/);
  b = copy(s);
  b.sus[idle]!.comps.c!.presence = 'termination-failed';
  broken(m, b, /is termination-failed in an enabled SU/);
  b = copy(s);
  b.sus[idle]!.comps.c!.retryAt = 5;
  broken(m, b, /a retry is armed while it is instantiated/);
  b = copy(s);
  b.nodes.n3!.up = false;
  b.nodes.n3!.fencing = true;
  broken(m, b, /node n3 is fencing while down/);
  b = copy(s);
  b.sis.SI1!.swapFrom = standbySu;
  broken(m, b, /SI SI1: a swap from/);
  b = copy(s);
  b.sus[activeSu]!.assignments.SI1!.waiting = ['x', 'x'];
  broken(m, b, /waits for x, x/);
});

test('the SG limits fire: Ma, Ms, Pa, no standby in N-Way-Active, one SI per SU in No-Redundancy', () => {
  const np = model('nplusm', '\tpreferred-active-units = 2\n\tpreferred-standby-units = 1\n\tmaximum-active-instances = 1\n\tmaximum-standby-instances = 1\n');
  let s = copy(settled(np));
  const su = Object.keys(s.sus).find((u) => Object.values(s.sus[u]!.assignments).some((a) => a.ha === 'active'))!;
  for (const u of Object.keys(s.sus)) s.sus[u]!.assignments = {};
  s.sus[su]!.assignments = { SI1: { ha: 'active', waiting: [] }, SI2: { ha: 'active', waiting: [] } };
  broken(np, s, /holds 2 active SIs, above Ma 1/);
  s.sus[su]!.assignments = { SI1: { ha: 'standby', waiting: [] }, SI2: { ha: 'standby', waiting: [] } };
  broken(np, s, /holds 2 standby SIs, above Ms 1/);
  s = copy(settled(np));
  for (const [i, u] of ['SU1', 'SU2', 'SU3'].entries()) s.sus[u]!.assignments = i < 2 ? { [`SI${i + 1}`]: { ha: 'active', waiting: [] } } : { SI1: { ha: 'active', waiting: [] } };
  broken(np, s, /3 SUs hold actives, above Pa 2/);

  const nwa = model('nwayactive');
  s = copy(settled(nwa));
  s.sus.SU1!.assignments.SI1 = { ha: 'standby', waiting: [] };
  broken(nwa, s, /standby assignment in nwayactive/);
  const nr = model('noredundancy');
  s = copy(settled(nr));
  s.sus.SU1!.assignments = { SI1: { ha: 'active', waiting: [] }, SI2: { ha: 'active', waiting: [] } };
  broken(nr, s, /holds 2 SIs in No-Redundancy/);
});
