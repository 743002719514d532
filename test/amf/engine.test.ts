/**
 * Engine edges not covered by the scenario language: configuration changes, refused admin
 * operations leaving the state untouched, and serialisability of the state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AmfInput } from '../../src/amf/commands.js';
import { step } from '../../src/amf/engine.js';
import { Harness } from '../../src/amf/harness.js';
import { loadConfig } from '../../src/model/index.js';
import type { AmfModel } from '../../src/model/types.js';

function conf(units: string[], sis: string[]): AmfModel {
  const text = [
    'node {\n\tname = n1\n}\nnode {\n\tname = n2\n}\n',
    'group {\n\tname = g\n\tmodel = 2n\n',
    ...units.map((u, i) => `\tunit {\n\t\tname = ${u}\n\t\tnode = n${(i % 2) + 1}\n\t\trank = ${i}\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tinstantiate = clc\n\t\t\tcleanup = clc\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n`),
    ...sis.map((s) => `\tserviceinstance {\n\t\tname = ${s}\n\t\tcsi_descriptor {\n\t\t\tcsi_name = x\n\t\t\ttype_name = t\n\t\t}\n\t}\n`),
    '}\n',
  ].join('');
  const r = loadConfig(text, 'test.conf');
  assert.ok(r.ok, r.ok ? '' : r.error.map(String).join('\n'));
  return r.value;
}

function started(model: AmfModel): Harness {
  const h = new Harness(model, undefined, undefined, true);
  h.send(...['n1', 'n2'].map((node): AmfInput => ({ kind: 'node-up', node })));
  return h;
}

test('config change: a new SU is instantiated, a removed SI is taken away, a new SI assigned', () => {
  const h = started(conf(['SU1', 'SU2'], ['SI1', 'SI2']));
  const next = conf(['SU1', 'SU2', 'SU3'], ['SI1', 'SI3']);
  const r = step(next, h.state, { kind: 'config-changed' }, 0);
  const kinds = r.commands.map((c) => `${c.kind} ${'su' in c ? c.su : ''} ${'si' in c ? c.si : ''}`.trim());
  assert.ok(kinds.includes('comp-instantiate SU3'), kinds.join('\n'));
  assert.ok(kinds.includes('csi-remove SU1 SI2') && kinds.includes('csi-remove SU2 SI2'), kinds.join('\n'));
  assert.ok(kinds.includes('csi-set SU1 SI3') && kinds.includes('csi-set SU2 SI3'), kinds.join('\n'));
  assert.equal(r.state.sis.SI2, undefined);
  assert.ok(r.state.sus.SU3);
});

test('config change: a removed SU is cleaned up and forgotten; its SIs fail over', () => {
  const h = started(conf(['SU1', 'SU2', 'SU3'], ['SI1']));
  h.model = conf(['SU2', 'SU3'], ['SI1']);
  h.send({ kind: 'config-changed' });
  assert.equal(h.state.sus.SU1, undefined);
  assert.equal(h.state.sus.SU2!.assignments.SI1!.ha, 'active');
  assert.equal(h.state.sus.SU3!.assignments.SI1!.ha, 'standby');
});

test('a refused admin operation returns an error, the very same state and no commands', () => {
  const h = started(conf(['SU1', 'SU2'], ['SI1']));
  const r = step(h.model, h.state, { kind: 'admin', op: 'unlock-instantiation', target: { type: 'su', name: 'SU1' } }, 0);
  assert.match(r.error ?? '', /unlock-instantiation on SU SU1 refused: it is unlocked/);
  assert.equal(r.state, h.state);
  assert.deepEqual(r.commands, []);
});

test('the state survives a JSON round trip and the engine continues from it identically', () => {
  const h = started(conf(['SU1', 'SU2', 'SU3'], ['SI1', 'SI2']));
  const copy = JSON.parse(JSON.stringify(h.state)) as typeof h.state;
  const input: AmfInput = { kind: 'node-down', node: 'n1' };
  assert.deepEqual(step(h.model, copy, input, 5), step(h.model, h.state, input, 5));
});
