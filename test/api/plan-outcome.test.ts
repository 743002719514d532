/**
 * Issue 25 (6): the dry run of `amfctl config apply` must be the apply. Over the AMF scenario
 * corpus (test/amf/scenarios: each config played through its events, so states with failed,
 * locked, hung and fenced units), for each of a few config changes: the plan (`planConfigChange`,
 * what `PUT /v1/config?dry_run=1` answers) is compared with the outcome of the apply itself: the
 * config-set entry through `ClusterFsm.applyEntry` (the Raft FSM every replica runs), then every
 * command it routes to a node answered by a healthy agent as `reports` entries, until none is left.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planConfigChange, stateChange } from '../../src/api/plan.js';
import type { AgentReport } from '../../src/cluster/entries.js';
import type { AmfCommand, AmfInput } from '../../src/amf/commands.js';
import type { Harness } from '../../src/amf/harness.js';
import type { AmfState } from '../../src/amf/state.js';
import { ClusterFsm } from '../../src/cluster/fsm.js';
import { loadConfig, printModel, type AmfModel } from '../../src/model/index.js';
import { runScenario } from '../amf/scenario.js';

const root = new URL('../amf/scenarios/', import.meta.url).pathname;
const names = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

/** The config changes tried on every scenario: none, a unit removed, ranks reversed, a unit added. */
const CHANGES: ReadonlyArray<[string, (m: AmfModel) => AmfModel]> = [
  ['unchanged', (m) => m],
  ['first unit of each group removed', (m) => ({ ...m, groups: m.groups.map((g) => ({ ...g, units: g.units.slice(1) })) })],
  ['ranks reversed', (m) => ({ ...m, groups: m.groups.map((g) => ({ ...g, units: g.units.map((u, i) => ({ ...u, rank: g.units.length - i })) })) })],
  ['a unit added to each group', (m) => ({ ...m, groups: m.groups.map((g) => (g.units.length === 0 ? g : { ...g, units: [...g.units, { ...g.units[g.units.length - 1]!, name: `${g.name}-added` }] })) })],
];

/** What a healthy agent answers to a command (as src/amf/harness.ts's scripted agent does). */
function answers(c: AmfCommand): AmfInput[] {
  switch (c.kind) {
    case 'comp-instantiate':
      return [{ kind: 'comp-instantiated', su: c.su, comp: c.comp }];
    case 'comp-terminate':
    case 'comp-cleanup':
      return [{ kind: 'comp-terminated', su: c.su, comp: c.comp }];
    case 'csi-set':
      return [{ kind: 'csi-set-done', su: c.su, comp: c.comp, si: c.si, csi: c.csi, haState: c.haState }, ...(c.haState === 'quiescing' ? [{ kind: 'quiescing-complete' as const, su: c.su, comp: c.comp, si: c.si, csi: c.csi }] : [])];
    default:
      return [];
  }
}

/** Apply `text` to a replica holding `model` and `state` at `now`, the way a cluster does, and settle it. */
function applyThroughFsm(model: AmfModel, text: string, state: AmfState, now: number): AmfState {
  const fsm = new ClusterFsm();
  fsm.model = model;
  fsm.state.amf = structuredClone(state);
  fsm.state.time = now;
  fsm.state.epoch = 1;
  for (const [node, n] of Object.entries(state.nodes)) fsm.state.nodes[node] = { inc: `${node}-1`, up: n.up, reportSeq: 0, cmdSeq: 0, since: 0 };
  const r = fsm.applyEntry({ type: 'config-set', time: now, text, expectEpoch: 1 });
  assert.ok(r.ok, r.ok ? '' : r.error);
  for (let rounds = 0; ; rounds++) {
    assert.ok(rounds < 10_000, 'the replica settles');
    const node = Object.keys(fsm.state.pending).find((n) => (fsm.state.pending[n]?.length ?? 0) > 0);
    if (node === undefined) break;
    const n = fsm.state.nodes[node]!;
    const p = fsm.state.pending[node]![0]!;
    let seq = n.reportSeq;
    const items = answers(p.cmd).map((input) => ({ seq: ++seq, input: input as AgentReport }));
    fsm.applyEntry({ type: 'reports', time: now, node, inc: n.inc, items, executedThrough: p.seq });
  }
  return fsm.state.amf;
}

test('config apply: the dry-run plan is what the apply does, over the scenario corpus and four config changes each', () => {
  let compared = 0;
  let moved = 0;
  for (const name of names) {
    const dir = join(root, name);
    const loaded = loadConfig(readFileSync(join(dir, 'groups.conf'), 'utf8'), `${name}/groups.conf`);
    if (!loaded.ok) assert.fail(loaded.error.map(String).join('\n'));
    let end: Harness | undefined;
    runScenario(loaded.value, readFileSync(join(dir, 'events.txt'), 'utf8'), (h) => (end = h));
    assert.ok(end);
    for (const [what, change] of CHANGES) {
      const text = printModel(change(loaded.value));
      const next = loadConfig(text, 'groups.conf');
      if (!next.ok) continue; // a change the validator refuses (e.g. the last unit of a group removed): nothing to plan
      const plan = planConfigChange(next.value, end.state, end.now);
      assert.ok(plan.ok, `${name}, ${what}: ${plan.ok ? '' : plan.error}`);
      const outcome = stateChange(end.state, applyThroughFsm(loaded.value, text, end.state, end.now));
      assert.deepEqual(plan.value, outcome, `${name}, ${what}: the plan differs from what the apply did`);
      compared++;
      if (outcome.moves.length > 0) moved++;
    }
  }
  console.log(`plan = outcome for ${compared} config changes over ${names.length} scenarios (${moved} with SI moves)`);
  assert.ok(compared >= names.length * 2 && moved > names.length / 2, `compared ${compared}, with moves ${moved}`);
});
