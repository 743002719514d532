import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlan, planConfigChange } from '../../src/api/plan.js';
import { MemoryBackend, SAMPLE } from './memory-backend.js';

const third = `\tunit {
\t\tname = SU_3
\t\tnode = n3
\t\trank = 3
\t\tcomponent {
\t\t\tname = httpd
\t\t\tcsi_type_name {
\t\t\t\tname = http
\t\t\t}
\t\t}
\t}
\tserviceinstance {`;

test('plan: SUs added are instantiated, SUs removed terminated, SIs that change hands listed; no change, no plan', () => {
  const b = new MemoryBackend();
  const same = planConfigChange(MemoryBackend.parse(SAMPLE), b.h.state, b.h.now);
  assert.ok(same.ok);
  assert.deepEqual(same.value, { instantiate: [], terminate: [], moves: [] });

  // SU_1 leaves; SU_3 (rank 3) joins: SU_2 becomes active and SU_3 standby.
  const next = SAMPLE.replace(/\tunit \{\n\t\tname = SU_1[\s\S]*?\n\t\}\n/, '').replace('\tserviceinstance {', third);
  const p = planConfigChange(MemoryBackend.parse(next), b.h.state, b.h.now);
  assert.ok(p.ok, p.ok ? '' : p.error);
  assert.deepEqual(p.value.instantiate, ['SU_3']);
  assert.deepEqual(p.value.terminate, ['SU_1']);
  assert.deepEqual(p.value.moves, [{ si: 'SI_web', from: [{ su: 'SU_1', ha: 'active' }, { su: 'SU_2', ha: 'standby' }], to: [{ su: 'SU_2', ha: 'active' }, { su: 'SU_3', ha: 'standby' }] }]);
  assert.deepEqual(formatPlan(p.value), ['+ SU_3 instantiate', '- SU_1 terminate', '~ SI_web: SU_1 active, SU_2 standby -> SU_2 active, SU_3 standby']);
});
