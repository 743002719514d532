/**
 * The console's state (src/web/app/state.ts) against the API's own views: after any sequence of
 * admin operations, component failures and node losses, the views moved by the events (and the
 * re-reads they ask for) equal a fresh read. And the bounds: the log window, the recoveries.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryBackend } from '../api/memory-backend.js';
import { testGroupsConf } from '../e2e/harness.js';
import type { ApiEvent } from '../../src/api/events.js';
import type { Snapshot } from '../../src/web/app/state.js';
import { LOG_WINDOW, RECOVERY_WINDOW, applyEvent, initialState, withGroup, withSnapshot, type ConsoleState } from '../../src/web/app/state.js';

async function snapshot(b: MemoryBackend): Promise<Snapshot> {
  const [nodes, groups, config] = await Promise.all([b.nodes({ consistent: false }), b.groups({ consistent: false }), b.config({ consistent: false })]);
  assert.ok(nodes.ok && groups.ok && config.ok);
  return { status: await b.status(), nodes: nodes.value, groups: groups.value, config: config.value };
}

/** Follows the backend's events as the session does: apply, then answer the re-reads asked for (escalation counters only). */
async function follow(b: MemoryBackend, st: ConsoleState, events: readonly ApiEvent[]): Promise<ConsoleState> {
  let s = st;
  let all = false;
  const sgs = new Set<string>();
  for (const e of events) {
    const r = applyEvent(s, e);
    // Only a recovery (counters) asks for a read: every other event moves the views by itself.
    assert.ok(r.reread === null || e.kind === 'escalation', `${JSON.stringify(e)} asked for a re-read`);
    s = r.state;
    if (r.reread === 'all') all = true;
    else if (r.reread) sgs.add(r.reread.sg);
  }
  if (all) s = withSnapshot(s, await snapshot(b));
  const groups = await b.groups({ consistent: false });
  assert.ok(groups.ok);
  for (const sg of sgs) s = withGroup(s, groups.value.find((g) => g.name === sg)!);
  return s;
}

const SUS = ['web1', 'web2', 'web3', 'db1', 'db2'];
const SIS = ['web-a', 'web-b', 'db-main'];
const NODES = ['n1', 'n2', 'n3'];
const SU_OPS = ['lock', 'unlock', 'shutdown', 'restart', 'repair', 'lock-instantiation', 'unlock-instantiation'] as const;
const SI_OPS = ['si-swap', 'lock', 'unlock', 'shutdown'] as const;

type Step = { kind: 'su'; name: string; op: (typeof SU_OPS)[number] } | { kind: 'si'; name: string; op: (typeof SI_OPS)[number] } | { kind: 'node'; name: string; op: 'lock' | 'unlock' | 'switchover' } | { kind: 'fail'; su: string } | { kind: 'down'; node: string };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('su' as const), name: fc.constantFrom(...SUS), op: fc.constantFrom(...SU_OPS) }),
  fc.record({ kind: fc.constant('si' as const), name: fc.constantFrom(...SIS), op: fc.constantFrom(...SI_OPS) }),
  fc.record({ kind: fc.constant('node' as const), name: fc.constantFrom(...NODES), op: fc.constantFrom('lock' as const, 'unlock' as const, 'switchover' as const) }),
  fc.record({ kind: fc.constant('fail' as const), su: fc.constantFrom(...SUS) }),
  fc.record({ kind: fc.constant('down' as const), node: fc.constantFrom(...NODES) }),
);

test('views moved by events equal a fresh read, after any sequence of operations, failures and node losses', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
      const b = new MemoryBackend(testGroupsConf());
      let st = initialState(await snapshot(b));
      const down = new Set<string>();
      for (const s of steps) {
        const from = b.lastSeq;
        if (s.kind === 'fail') b.failComponent(s.su, 'worker');
        else if (s.kind === 'down') {
          if (down.has(s.node) || down.size === 1) continue;
          down.add(s.node);
          b.nodeDown(s.node);
        } else await b.admin(s.kind, s.name, s.op);
        const events: ApiEvent[] = [];
        const sub = b.subscribe(from, (e) => events.push(e));
        assert.equal(sub.kind, 'ok');
        if (sub.kind === 'ok') sub.subscription.cancel();
        st = await follow(b, st, events);
        const fresh = await snapshot(b);
        assert.deepEqual(st.groups, fresh.groups, `groups after ${JSON.stringify(s)}`);
        assert.deepEqual(st.nodes, fresh.nodes, `nodes after ${JSON.stringify(s)}`);
        assert.equal(st.seq, b.lastSeq);
      }
    }),
    { numRuns: 40 },
  );
});

test('the event log keeps a bounded window, history goes to the log only, recoveries are kept per SG', async () => {
  const b = new MemoryBackend(testGroupsConf());
  const snap = await snapshot(b);
  let st = initialState(snap);
  const e = (seq: number, entity: string, field: string, kind: ApiEvent['kind'] = 'modify', value = 'locked'): ApiEvent => ({ seq, time: '2026-11-22T10:00:00.000Z', entity, kind, field, old: null, new: value });
  // At or below the views' seq an event is history: the log has it, the views do not move.
  const past = applyEvent(st, e(1, 'su/web1', 'admin'), snap.status.lastEventSeq);
  assert.equal(past.state.log.length, 1);
  assert.deepEqual(past.state.groups, st.groups);
  assert.equal(past.reread, null);
  let seq = snap.status.lastEventSeq;
  for (let i = 0; i < LOG_WINDOW + 50; i++) st = applyEvent(st, e(++seq, 'su/web1', 'admin', 'modify', i % 2 ? 'locked' : 'unlocked')).state;
  assert.equal(st.log.length, LOG_WINDOW);
  assert.equal(st.log.at(-1)!.seq, seq);
  for (let i = 0; i < RECOVERY_WINDOW + 3; i++) {
    const r = applyEvent(st, e(++seq, 'comp/web2/worker', 'recovery', 'escalation', `component-restart L1: ${i}`));
    assert.deepEqual(r.reread, { sg: 'web' }, 'counters are read again after a recovery');
    st = r.state;
  }
  assert.equal(st.recoveries['web']!.length, RECOVERY_WINDOW);
  assert.equal(applyEvent(st, e(++seq, 'vm/web2', 'state', 'modify', 'running')).reread, 'all', 'an entity this page does not know: read everything');
  assert.equal(applyEvent(st, e(++seq, 'config', 'epoch', 'modify', '2')).reread, 'all');
  const lost = applyEvent(st, e(++seq, 'node/n2', 'incarnation', 'membership', 'down (lost, lease expired)')).state;
  assert.deepEqual(
    lost.nodes.filter((n) => n.name === 'n2').map((n) => [n.up, n.lease]),
    [[false, 'expired']],
  );
});
