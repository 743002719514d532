import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/model/index.js';

const golden = new URL('./golden/valid/', import.meta.url);

test('an openais B.01.01 groups.conf loads unchanged with openais meaning', () => {
  const text = readFileSync(new URL('openais-b0101.conf', golden), 'utf8');
  const r = loadConfig(text, 'groups.conf');
  assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
  const m = r.value;
  assert.equal(m.groups.length, 1);
  const g = m.groups[0]!;
  assert.equal(g.model, 'nplusm');
  assert.deepEqual([g.preferredActiveUnits, g.maximumActiveInstances, g.preferredStandbyUnits, g.maximumStandbyInstances], [3, 3, 1, 4]);
  assert.deepEqual([g.componentRestartProbationMs, g.componentRestartMax, g.unitRestartProbationMs, g.unitRestartMax], [100000, 4, 200000, 6]);
  assert.deepEqual(g.units.map((u) => u.name), ['unit_a', 'unit_b']);
  const [a, b] = g.units[0]!.components;
  // Whole-word comptype: openais misread non_proxied_non_sa_aware as sa_aware.
  assert.equal(a!.category, 'sa_aware');
  assert.equal(b!.category, 'non_proxied_non_sa_aware');
  // clccli_path / binary_path inherit component → unit → group.
  assert.equal(a!.clccliPath, '/home/sdake/amfb-dec/test');
  const bComp = g.units[1]!.components[0]!;
  assert.equal(bComp.clccliPath, '/home/sdake/amfb-dec/test-b');
  assert.equal(bComp.binaryPath, '/opt/bin-b');
  assert.deepEqual(a!.csiTypes, ['for_comp_a_x', 'for_comp_a_y']);
  assert.deepEqual(g.sis.map((s) => [s.name, s.csis.length]), [['SI_1', 3], ['SI_2', 1]]);
  assert.deepEqual(g.sis[0]!.csis[0]!.attributes[0], { name: 'good_health_limit', value: '100000' });
  assert.deepEqual(m.healthchecks.map((h) => [h.key, h.periodMs, h.maximumDurationMs]), [
    ['key_amfinvoked', 500, 550],
    ['key_compinvoked', 2000, 250],
    ['key_three', 3000, 350],
  ]);
  assert.ok(Object.isFrozen(m) && Object.isFrozen(g.units[0]!.components));
});

test('errors are collected and located', () => {
  const r = loadConfig('group {\n\tname = g\n\tmodle = 2n\n\tmaximum-active-instances = 0\n', 'x.conf');
  assert.ok(!r.ok);
  assert.deepEqual(r.error.map(String), ['x.conf:1:1: block "group" is not closed (missing "}")']);
  const r2 = loadConfig('group {\n\tname = g\n\tmodle = 2n\n\tmaximum-active-instances = 0\n}\n', 'x.conf');
  assert.ok(!r2.ok);
  assert.deepEqual(r2.error.map(String), [
    'x.conf:3:2: unknown key "modle" in group; did you mean "model"?',
    'x.conf:4:29: "maximum-active-instances" must be at least 1, not 0',
  ]);
});

test('hostile nesting is refused with a located error, not a stack overflow', () => {
  const depth = 50_000;
  const text = 'a {\n'.repeat(depth) + '}\n'.repeat(depth);
  const r = loadConfig(text, 'deep.conf');
  assert.ok(!r.ok);
  assert.deepEqual(r.error.map(String), ['deep.conf:17:1: blocks nested more than 16 deep']);
});
