/**
 * Admin migrate (src/amf/migrate.ts) where the scenario transcript (2n-vm-migrate) cannot reach:
 * answers given by hand while the scripted agent holds the component's commands.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { AmfCommand } from '../../src/amf/commands.js';
import { Harness } from '../../src/amf/harness.js';
import { loadConfig } from '../../src/model/index.js';

const conf = new URL('./scenarios/2n-vm-migrate/groups.conf', import.meta.url).pathname;

function started(): { h: Harness; commands: AmfCommand[] } {
  const m = loadConfig(readFileSync(conf, 'utf8'), 'groups.conf');
  if (!m.ok) throw new Error(m.error.map(String).join('\n'));
  const commands: AmfCommand[] = [];
  const h = new Harness(m.value, (r) => commands.push(...r.commands), undefined, true);
  h.send(...['n1', 'n2', 'n3'].map((node) => ({ kind: 'node-up' as const, node })));
  h.script.hang.add('SU1/vm');
  assert.equal(h.send({ kind: 'admin', op: 'migrate', target: { type: 'su', name: 'SU1' }, to: 'n3' }), undefined);
  assert.equal(h.state.sus.SU1?.migration?.phase, 'moving');
  return { h, commands };
}

const activeOf = (h: Harness): string | undefined => Object.entries(h.state.sus).find(([, s]) => s.assignments.SI1?.ha === 'active')?.[0];

test('a migration that lost the domain is a component error: the configured recovery runs (a restart on the source)', () => {
  const { h, commands } = started();
  commands.length = 0;
  h.send({ kind: 'comp-migrate-failed', su: 'SU1', comp: 'vm', reason: 'gone from the source, not on the destination', lost: true });
  assert.equal(h.state.sus.SU1?.migration, undefined);
  assert.equal(h.state.sus.SU1?.node, 'n1');
  assert.ok(commands.some((c) => c.kind === 'comp-cleanup' && c.node === 'n1' && c.su === 'SU1'), 'cleaned up where it was');
});

test('a domain that cannot be adopted on the destination is a component error there', () => {
  const { h, commands } = started();
  h.send({ kind: 'comp-migrated', su: 'SU1', comp: 'vm', uuid: 'u-1' });
  assert.equal(h.state.sus.SU1?.node, 'n3');
  assert.equal(h.state.sus.SU1?.migration?.phase, 'adopting');
  assert.equal(activeOf(h), 'SU1', 'the SI stays active on SU1 while it is adopted');
  assert.ok(h.held.some((c) => c.kind === 'comp-instantiate' && c.node === 'n3' && c.adopt === 'u-1'));
  commands.length = 0;
  h.send({ kind: 'comp-instantiate-failed', su: 'SU1', comp: 'vm', reason: 'not there', noRetry: true });
  assert.equal(h.state.sus.SU1?.migration, undefined);
  assert.ok(commands.some((c) => c.kind === 'comp-cleanup' && c.node === 'n3' && c.su === 'SU1'), 'cleaned up on the destination');
});

test('the source node going down mid-migration ends it: the SI fails over as for any node failure', () => {
  const { h } = started();
  h.send({ kind: 'node-down', node: 'n1' });
  assert.equal(h.state.sus.SU1?.migration, undefined);
  assert.equal(activeOf(h), 'SU2');
  // A late answer from the source is stale: ignored (SU1 is being placed afresh meanwhile; on n3 its
  // start would find the migrated domain without a state file there and refuse, never start a second).
  const before = h.state;
  const notices: string[] = [];
  const late = new Harness(h.model, (r) => notices.push(...r.notices.map((n) => n.kind)), before, true);
  late.send({ kind: 'comp-migrated', su: 'SU1', comp: 'vm', uuid: 'u-1' });
  assert.deepEqual(late.state.sus.SU1, before.sus.SU1);
  assert.deepEqual(notices, ['ignored']);
});

test('the destination going down before the answer: nothing of the SU is trusted to run there; it is placed afresh', () => {
  const { h } = started();
  h.send({ kind: 'node-down', node: 'n3' });
  assert.equal(h.state.sus.SU1?.migration?.phase, 'moving', 'the source still decides');
  h.send({ kind: 'comp-migrated', su: 'SU1', comp: 'vm', uuid: 'u-1' });
  assert.equal(h.state.sus.SU1?.migration, undefined);
  assert.equal(h.state.sus.SU1?.node, 'n1', 'n3 is down: placed back on n1');
  assert.equal(activeOf(h), 'SU2');
});
