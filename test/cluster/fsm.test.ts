import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeEntry, encodeEntry, type ClusterEntry } from '../../src/cluster/entries.js';
import { ClusterFsm, decodeSnapshot } from '../../src/cluster/fsm.js';
import { decodeWire, encodeWire } from '../../src/cluster/wire.js';
import { changesSince } from '../../src/cluster/changelog.js';
import { validateRequest } from '../../src/cluster/forward.js';
import { groupViews } from '../../src/api/views.js';
import { renderStatus } from '../../src/cli/ctl/status.js';
import { decode, encode } from '../../src/cluster/codec.js';

const CONF = `node {
	name = n1
}
node {
	name = n2
}
group {
	name = g
	model = 2n
	component_restart_probation = 5000
	unit {
		name = SU1
		node = n1
		rank = 1
		component {
			name = c
			instantiate = clc
			cleanup = clc
			csi_type_name {
				name = t
			}
		}
	}
	unit {
		name = SU2
		node = n2
		rank = 2
		component {
			name = c
			instantiate = clc
			cleanup = clc
			csi_type_name {
				name = t
			}
		}
	}
	serviceinstance {
		name = SI1
		csi_descriptor {
			csi_name = csi1
			type_name = t
		}
	}
}
`;

let clock = 1_000_000;
const t = (): number => (clock += 10);

/** Plays the agents of every node: answer each pending command the way a healthy agent would. */
function answerAll(fsm: ClusterFsm, rounds = 20): void {
  const executed = new Map<string, number>();
  const seqs = new Map<string, number>();
  for (let r = 0; r < rounds; r++) {
    let any = false;
    for (const [node, n] of Object.entries(fsm.state.nodes)) {
      if (!n.up) continue;
      const cmds = fsm.pendingFor(node, n.inc, executed.get(node) ?? 0);
      if (cmds.length === 0) continue;
      any = true;
      executed.set(node, cmds[cmds.length - 1]!.seq);
      const items = [];
      let seq = seqs.get(node) ?? n.reportSeq;
      for (const { cmd } of cmds) {
        if (cmd.kind === 'comp-instantiate') items.push({ seq: ++seq, input: { kind: 'comp-instantiated' as const, su: cmd.su, comp: cmd.comp } });
        if (cmd.kind === 'comp-cleanup' || cmd.kind === 'comp-terminate') items.push({ seq: ++seq, input: { kind: 'comp-terminated' as const, su: cmd.su, comp: cmd.comp } });
        if (cmd.kind === 'csi-set') items.push({ seq: ++seq, input: { kind: 'csi-set-done' as const, su: cmd.su, comp: cmd.comp, si: cmd.si, csi: cmd.csi, haState: cmd.haState } });
      }
      seqs.set(node, seq);
      const res = fsm.applyEntry({ type: 'reports', time: t(), node, inc: n.inc, items, executedThrough: executed.get(node)! });
      assert.ok(res.ok, JSON.stringify(res));
    }
    if (!any) return;
  }
}

function formed(): ClusterFsm {
  const fsm = new ClusterFsm();
  assert.deepEqual(fsm.applyEntry({ type: 'config-set', time: t(), text: CONF, expectEpoch: 0 }), { ok: true, epoch: 1 });
  assert.ok(fsm.applyEntry({ type: 'membership', time: t(), node: 'n1', change: 'up', inc: 'a', reason: 'joined' }).ok);
  assert.ok(fsm.applyEntry({ type: 'membership', time: t(), node: 'n2', change: 'up', inc: 'b', reason: 'joined' }).ok);
  answerAll(fsm);
  return fsm;
}

describe('cluster FSM entries', () => {
  it('config-set: compare-and-set on the epoch; a bad config is refused with file:line and changes nothing', () => {
    const fsm = formed();
    assert.equal(fsm.state.epoch, 1);
    const stale = fsm.applyEntry({ type: 'config-set', time: t(), text: CONF, expectEpoch: 0 });
    assert.deepEqual(stale, { ok: false, code: 'stale-epoch', error: 'config epoch is 1, not 0' });
    const bad = fsm.applyEntry({ type: 'config-set', time: t(), text: 'group {\n\tname = g\n\tmodel = 3n\n}\n', expectEpoch: 1 });
    assert.ok(!bad.ok && /groups\.conf:3/.test(bad.error), JSON.stringify(bad));
    assert.equal(fsm.state.epoch, 1);
    assert.equal(fsm.state.configText, CONF);
    const grown = CONF.replace('serviceinstance {', 'serviceinstance {\n\t\tname = SI2\n\t\tcsi_descriptor {\n\t\t\tcsi_name = csi2\n\t\t\ttype_name = t\n\t\t}\n\t}\n\tserviceinstance {');
    assert.deepEqual(fsm.applyEntry({ type: 'config-set', time: t(), text: grown, expectEpoch: 1 }), { ok: true, epoch: 2 });
    assert.ok(fsm.model.groups[0]!.sis.some((s) => s.name === 'SI2'));
    assert.ok(fsm.state.changes.records.some((c) => c.kind === 'create' && c.entity.includes('SI2')), 'the change log records the new SI');
  });

  it('membership up assigns the SI; down fails it over; a new incarnation of a node that is up restarts it', () => {
    const fsm = formed();
    assert.deepEqual(fsm.assignments(), { SI1: { SU1: 'active', SU2: 'standby' } });
    assert.equal(fsm.placement().SU1, 'n1');
    assert.ok(!fsm.applyEntry({ type: 'membership', time: t(), node: 'n1', change: 'down', inc: 'old', reason: 'x' }).ok, 'down of another incarnation is refused');
    assert.ok(fsm.applyEntry({ type: 'membership', time: t(), node: 'n1', change: 'down', inc: 'a', reason: 'lost' }).ok);
    assert.equal(fsm.state.nodes.n1!.up, false);
    assert.deepEqual(fsm.state.pending.n1, [], 'a node that is down has no pending commands');
    answerAll(fsm);
    assert.equal(fsm.assignments().SI1!.SU2, 'active');
    assert.ok(fsm.applyEntry({ type: 'membership', time: t(), node: 'n1', change: 'up', inc: 'a2', reason: 'joined' }).ok);
    answerAll(fsm);
    assert.ok(fsm.applyEntry({ type: 'membership', time: t(), node: 'n2', change: 'up', inc: 'b2', reason: 'joined' }).ok, 'n2 restarted');
    assert.equal(fsm.state.nodes.n2!.inc, 'b2');
    const downs = fsm.state.changes.records.filter((c) => c.entity === 'node/n2' && c.field === 'incarnation');
    assert.deepEqual(downs.map((c) => c.new), ['b (joined)', 'down (restarted as b2)', 'b2 (joined)']);
    answerAll(fsm);
    assert.equal(fsm.assignments().SI1!.SU1, 'active');
  });

  it('reports: applied once in seq order, refused from an incarnation that is not up; executedThrough trims commands', () => {
    const fsm = new ClusterFsm();
    fsm.applyEntry({ type: 'config-set', time: t(), text: CONF, expectEpoch: 0 });
    fsm.applyEntry({ type: 'membership', time: t(), node: 'n1', change: 'up', inc: 'a', reason: 'joined' });
    const pending = fsm.pendingFor('n1', 'a', 0);
    assert.ok(pending.some((p) => p.cmd.kind === 'comp-instantiate'), JSON.stringify(pending));
    const item = { seq: 1, input: { kind: 'comp-instantiated' as const, su: 'SU1', comp: 'c' } };
    assert.ok(!fsm.applyEntry({ type: 'reports', time: t(), node: 'n1', inc: 'zzz', items: [item], executedThrough: 0 }).ok);
    assert.ok(fsm.applyEntry({ type: 'reports', time: t(), node: 'n1', inc: 'a', items: [item], executedThrough: pending[pending.length - 1]!.seq }).ok);
    assert.equal(fsm.state.nodes.n1!.reportSeq, 1);
    assert.equal(fsm.state.amf.sus.SU1!.comps.c!.presence, 'instantiated');
    assert.ok(fsm.pendingFor('n1', 'a', 0).every((p) => p.seq > pending[pending.length - 1]!.seq), 'executed commands trimmed');
    const before = JSON.stringify(fsm.state.amf);
    assert.ok(fsm.applyEntry({ type: 'reports', time: t(), node: 'n1', inc: 'a', items: [item], executedThrough: 0 }).ok);
    assert.equal(JSON.stringify(fsm.state.amf), before, 'a resent report is not applied twice');
    const gap = { seq: 5, input: { kind: 'comp-terminated' as const, su: 'SU1', comp: 'c' } };
    fsm.applyEntry({ type: 'reports', time: t(), node: 'n1', inc: 'a', items: [gap], executedThrough: 0 });
    assert.equal(fsm.state.nodes.n1!.reportSeq, 1, 'a gap is not skipped over');
  });

  it('the last CLC-CLI error of each component is kept in the replicated state and shown by amfctl status', async () => {
    const fsm = new ClusterFsm();
    fsm.applyEntry({ type: 'config-set', time: t(), text: CONF, expectEpoch: 0 });
    fsm.applyEntry({ type: 'membership', time: t(), node: 'n1', change: 'up', inc: 'a', reason: 'joined' });
    const reason = 'no registration within the instantiate timeout (300 ms); the instantiate script exited 0 (stderr: ./clc_cli_script: 3: ./openais-instantiate: not found)';
    const at = t();
    assert.ok(fsm.applyEntry({ type: 'reports', time: at, node: 'n1', inc: 'a', items: [{ seq: 1, input: { kind: 'comp-instantiate-failed', su: 'SU1', comp: 'c', reason } }], executedThrough: 0 }).ok);
    assert.deepEqual(fsm.state.compErrors['SU1/c'], { reason, time: at });
    const view = groupViews(fsm.model, fsm.state.amf, fsm.state)[0]!.units[0]!.components[0]!;
    assert.deepEqual(view.lastError, { reason, at: new Date(at).toISOString() });
    // A snapshot keeps it; one from before the field existed restores with none.
    const snap = decodeSnapshot(await fsm.snapshot().persist());
    assert.ok(snap.ok && snap.value.compErrors['SU1/c']?.reason === reason);
    const screen = renderStatus({
      status: { node: 'n1', raft: { role: 'leader', term: 1, leader: 'n1' }, configEpoch: 1, pending: { proposals: 0, commands: 0, timers: 0 } },
      nodes: [],
      groups: groupViews(fsm.model, fsm.state.amf, fsm.state),
      serverGroups: [],
      recent: [],
    } as unknown as Parameters<typeof renderStatus>[0]);
    assert.ok(screen.includes(`    last error ${new Date(at).toISOString()}: ${reason}`), screen);
  });

  it('timers: an armed timer fires once; a stale expiry is refused', () => {
    const fsm = formed();
    const n1 = fsm.state.nodes.n1!;
    // A component error arms the restart probation timer.
    fsm.applyEntry({ type: 'reports', time: t(), node: 'n1', inc: n1.inc, items: [{ seq: n1.reportSeq + 1, input: { kind: 'error-report', su: 'SU1', comp: 'c', recovery: 'component-restart', source: 'error-report' } }], executedThrough: 0 });
    const timers = Object.entries(fsm.state.timers);
    assert.ok(timers.length > 0, 'a probation timer is armed');
    const [id, at] = timers[0]!;
    assert.deepEqual(fsm.applyEntry({ type: 'timer', time: t(), id, at: at + 1 }), { ok: false, code: 'stale-timer', error: `timer ${id}: stale` });
    assert.ok(fsm.applyEntry({ type: 'timer', time: at, id, at }).ok);
    assert.equal(fsm.state.timers[id], undefined);
    assert.ok(!fsm.applyEntry({ type: 'timer', time: at, id, at }).ok, 'fires once');
  });

  it('admin: an operation is applied and logged; an invalid one is refused and changes nothing', () => {
    const fsm = formed();
    assert.ok(fsm.applyEntry({ type: 'admin', time: t(), op: 'lock', target: { type: 'su', name: 'SU2' } }).ok);
    assert.equal(fsm.state.amf.sus.SU2!.admin, 'locked');
    assert.ok(fsm.state.changes.records.some((c) => c.kind === 'admin' && c.entity === 'su/SU2' && c.new === 'lock'));
    const before = JSON.stringify(fsm.state);
    const r = fsm.applyEntry({ type: 'admin', time: t(), op: 'lock', target: { type: 'su', name: 'nope' } });
    assert.ok(!r.ok);
    assert.equal(JSON.stringify({ ...fsm.state, time: 0 }), JSON.stringify({ ...JSON.parse(before), time: 0 }));
  });

  it('operator-report: an error report on a component, logged as an admin change; only error reports pass', () => {
    const fsm = formed();
    assert.ok(fsm.applyEntry({ type: 'operator-report', time: t(), input: { kind: 'error-report', su: 'SU1', comp: 'c', recovery: 'component-restart', source: 'error-report', reason: 'op' } }).ok);
    assert.ok(fsm.state.changes.records.some((c) => c.kind === 'escalation' && c.entity === 'comp/SU1/c'));
    assert.ok(fsm.state.changes.records.some((c) => c.kind === 'admin' && c.field === 'error-report' && c.new === 'op'));
    const other = decodeEntry(encodeEntry({ type: 'operator-report', time: 1, input: { kind: 'comp-terminated', su: 'SU1', comp: 'c' } }));
    assert.ok(!other.ok);
    assert.ok(!validateRequest({ type: 'membership', node: 'n1', change: 'down', inc: 'a', reason: 'x' }).ok, 'membership is not a client write');
    assert.deepEqual(validateRequest({ type: 'admin', op: 'lock', target: { type: 'si', name: 'SI1' } }), { ok: true, value: { type: 'admin', op: 'lock', target: { type: 'si', name: 'SI1' } } });
    // migrate carries its destination through the log; the engine's refusal names it.
    const migrate = { type: 'admin', op: 'migrate', target: { type: 'su', name: 'SU1' }, to: 'n2' } as const;
    assert.deepEqual(validateRequest(migrate), { ok: true, value: migrate });
    assert.ok(!validateRequest({ ...migrate, to: 7 }).ok);
    const refused = fsm.applyEntry({ ...migrate, time: t() });
    assert.ok(!refused.ok && refused.code === 'admin-refused' && /migrate on SU SU1 refused: /.test(refused.error), JSON.stringify(refused));
    const report = decodeEntry(encodeEntry({ type: 'reports', time: 1, node: 'n1', inc: 'a', executedThrough: 0, items: [{ seq: 1, input: { kind: 'comp-migrated', su: 'SU1', comp: 'c', uuid: 'u' } }] }));
    assert.ok(report.ok);
    const noUuid = decodeEntry(encodeEntry({ type: 'reports', time: 1, node: 'n1', inc: 'a', executedThrough: 0, items: [{ seq: 1, input: { kind: 'comp-migrated', su: 'SU1', comp: 'c' } as never }] }));
    assert.ok(!noUuid.ok && noUuid.error.includes("bad field 'uuid'"), JSON.stringify(noUuid));
  });

  it('fencing: condemned is recorded; confirmed takes the node down at once', () => {
    const fsm = formed();
    assert.ok(fsm.applyEntry({ type: 'fencing', time: t(), node: 'n1', action: 'condemned', reason: 'cleanup failed' }).ok);
    assert.equal(fsm.state.condemned.n1, 'a');
    assert.ok(fsm.applyEntry({ type: 'fencing', time: t(), node: 'n1', action: 'confirmed', reason: 'ipmi off' }).ok);
    assert.equal(fsm.state.nodes.n1!.up, false);
    assert.equal(fsm.state.condemned.n1, undefined);
    answerAll(fsm);
    assert.equal(fsm.assignments().SI1!.SU2, 'active');
  });

  it('malformed entries are rejected and counted, never applied, never thrown', () => {
    const fsm = formed();
    const before = JSON.stringify(fsm.state);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = fsm.apply({ index: 1, term: 1, data: bytes }) as { ok: boolean };
        return r.ok === false;
      }),
      { seed: 42, numRuns: 300 },
    );
    assert.ok(fsm.rejected >= 300);
    assert.equal(JSON.stringify(fsm.state), before);
    for (const broken of [{ v: 2, type: 'timer', time: 1, id: 'x', at: 1 }, { v: 1, type: 'membership', time: 1, node: 'n1', change: 'sideways', inc: 'a', reason: '' }]) {
      const r = decodeEntry(encodeEntry(broken as unknown as ClusterEntry));
      assert.ok(!r.ok);
    }
    const badReport = decodeEntry(encodeEntry({ type: 'reports', time: 1, node: 'n1', inc: 'a', executedThrough: 0, items: [{ seq: 1, input: { kind: 'node-down', node: 'x' } as never }] }));
    assert.ok(!badReport.ok && badReport.error.includes("unknown kind 'node-down'"), JSON.stringify(badReport));
  });
});

describe('guest heartbeat state', () => {
  const HB_CONF = CONF.replace("\t\t\tname = c\n\t\t\tinstantiate = clc", "\t\t\tname = c\n\t\t\tguest_heartbeat {\n\t\t\t\tchannel = /run/hb.sock\n\t\t\t}\n\t\t\tinstantiate = clc");

  it('is replicated per component with a guest_heartbeat block, logged as a change once per state, shown in the views, forgotten with the block', () => {
    const fsm = new ClusterFsm();
    assert.deepEqual(fsm.applyEntry({ type: 'config-set', time: t(), text: HB_CONF, expectEpoch: 0 }), { ok: true, epoch: 1 });
    assert.ok(fsm.model.groups[0]!.units[0]!.components[0]!.guestHeartbeat, 'SU1/c has the block');
    assert.equal(fsm.model.groups[0]!.units[1]!.components[0]!.guestHeartbeat, undefined, 'SU2/c has none');
    const hb = (status: 'enabled' | 'missed' | 'lost', reason = '', comp = 'c', su = 'SU1'): ClusterEntry => ({ type: 'guest-heartbeat', time: t(), node: 'n1', su, comp, status, reason });
    const first = hb('enabled');
    assert.deepEqual(fsm.applyEntry(first), { ok: true });
    const since = first.time;
    assert.deepEqual(fsm.applyEntry(hb('enabled')), { ok: true }, 'the same state again');
    assert.deepEqual(fsm.state.guestHeartbeats, { SU1: { c: { status: 'enabled', reason: '', node: 'n1', since } } }, 'since is when it entered the state');
    assert.ok(fsm.applyEntry(hb('lost', 'no answer to 2 challenges')).ok);
    const changes = fsm.state.changes.records.filter((c) => c.field === 'guest-heartbeat');
    assert.deepEqual(
      changes.map((c) => [c.entity, c.old, c.new]),
      [
        ['comp/SU1/c', null, 'enabled'],
        ['comp/SU1/c', 'enabled', 'lost: no answer to 2 challenges'],
      ],
    );
    const refused = fsm.applyEntry(hb('enabled', '', 'c', 'SU2'));
    assert.ok(!refused.ok && refused.code === 'invalid-entry' && refused.error.includes('SU2/c has no guest_heartbeat block'), JSON.stringify(refused));
    assert.ok(!fsm.applyEntry(hb('enabled', '', 'nope')).ok);

    const view = groupViews(fsm.model, fsm.state.amf, fsm.state)[0]!.units.find((u) => u.name === 'SU1')!.components[0]!;
    assert.deepEqual(view.guestHeartbeat, { status: 'lost', reason: 'no answer to 2 challenges', node: 'n1', since: new Date(fsm.state.guestHeartbeats.SU1!.c!.since).toISOString() });
    assert.equal(groupViews(fsm.model, fsm.state.amf, fsm.state)[0]!.units.find((u) => u.name === 'SU2')!.components[0]!.guestHeartbeat, undefined);

    assert.deepEqual(fsm.applyEntry({ type: 'config-set', time: t(), text: CONF, expectEpoch: 1 }), { ok: true, epoch: 2 });
    assert.deepEqual(fsm.state.guestHeartbeats, {}, 'the block is gone, so is its state');
  });

  it('entries and forwarded requests are validated: a status outside the vocabulary is refused', () => {
    const ok1 = decodeEntry(encodeEntry({ type: 'guest-heartbeat', time: 1, node: 'n1', su: 'SU1', comp: 'c', status: 'unhealthy', reason: 'disk full' }));
    assert.ok(ok1.ok);
    const bad = decodeEntry(encodeEntry({ type: 'guest-heartbeat', time: 1, node: 'n1', su: 'SU1', comp: 'c', status: 'sleepy', reason: '' } as unknown as ClusterEntry));
    assert.ok(!bad.ok && bad.error.includes('guest-heartbeat'), JSON.stringify(bad));
    assert.ok(validateRequest({ type: 'guest-heartbeat', node: 'n1', su: 'SU1', comp: 'c', status: 'enabled', reason: '' }).ok);
  });

  it('a snapshot from before the guest heartbeat restores with no heartbeat states', async () => {
    const fsm = formed();
    const data = await fsm.snapshot().persist();
    const old = decode(data, 'test');
    assert.ok(old.ok);
    delete (old.value as { state: Record<string, unknown> }).state.guestHeartbeats;
    const r = decodeSnapshot(encode(old.value));
    assert.ok(r.ok);
    assert.deepEqual(r.value.guestHeartbeats, {});
  });
});

describe('cluster FSM snapshots and determinism', () => {
  it('snapshot then restore gives the same state, model and change log', async () => {
    const fsm = formed();
    fsm.applyEntry({ type: 'membership', time: t(), node: 'n1', change: 'down', inc: 'a', reason: 'lost' });
    answerAll(fsm);
    const data = await fsm.snapshot().persist();
    const copy = new ClusterFsm();
    copy.restore(data);
    assert.deepEqual(copy.state, fsm.state);
    assert.deepEqual(copy.model, fsm.model);
    assert.ok(!decodeSnapshot(new Uint8Array([1, 2, 3])).ok);
    // The restored replica goes on exactly like the original.
    const next: ClusterEntry = { type: 'membership', time: t(), node: 'n1', change: 'up', inc: 'a3', reason: 'joined' };
    fsm.applyEntry(next);
    copy.applyEntry(next);
    assert.deepEqual(copy.state, fsm.state);
  });

  it('the change log is a bounded ring whose seq keeps counting', () => {
    const fsm = new ClusterFsm({ changeLogCapacity: 5 });
    fsm.applyEntry({ type: 'config-set', time: t(), text: CONF, expectEpoch: 0 });
    fsm.applyEntry({ type: 'membership', time: t(), node: 'n1', change: 'up', inc: 'a', reason: 'joined' });
    const log = fsm.state.changes;
    assert.equal(log.records.length, 5);
    assert.equal(log.records[4]!.seq, log.last);
    assert.ok(log.last > 5);
    assert.deepEqual(changesSince(log, log.last - 2).map((c) => c.seq), [log.last - 1, log.last]);
    assert.equal(changesSince(log, 0).length, 5, 'a reader further behind gets what is left');
  });

  it('property: replicas applying the same entries hold identical state (apply reads no clock)', () => {
    const nodes = ['n1', 'n2'];
    const entry = fc.oneof(
      fc.record({ type: fc.constant('membership' as const), node: fc.constantFrom(...nodes), change: fc.constantFrom('up' as const, 'down' as const), inc: fc.constantFrom('a', 'b', 'c'), reason: fc.constant('r') }),
      fc.record({ type: fc.constant('admin' as const), op: fc.constantFrom('lock' as const, 'unlock' as const, 'lock-instantiation' as const, 'unlock-instantiation' as const), target: fc.constantFrom({ type: 'su' as const, name: 'SU1' }, { type: 'node' as const, name: 'n2' }) }),
      fc.record({ type: fc.constant('fencing' as const), node: fc.constantFrom(...nodes), action: fc.constantFrom('condemned' as const, 'confirmed' as const), reason: fc.constant('r') }),
      fc.record({ type: fc.constant('answer' as const) }),
    );
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 30, maxLength: 30 }), (script, gaps) => {
        const run = (): ClusterFsm => {
          const fsm = new ClusterFsm();
          let time = 1_700_000_000_000;
          fsm.applyEntry({ type: 'config-set', time, text: CONF, expectEpoch: 0 });
          script.forEach((e, i) => {
            time += gaps[i]!;
            if (e.type === 'answer') answerAll(fsm, 3);
            else fsm.apply({ index: i + 2, term: 1, data: encodeEntry({ ...e, time } as ClusterEntry) });
          });
          return fsm;
        };
        const a = run();
        const b = run();
        assert.deepEqual(a.state, b.state);
        // And at most one SU active per SI, whatever the sequence.
        for (const sus of Object.values(a.assignments())) assert.ok(Object.values(sus).filter((h) => h === 'active').length <= 1);
      }),
      { seed: 7, numRuns: 60 },
    );
  });
});

describe('cluster wire messages', () => {
  it('round-trip and reject malformed datagrams without throwing', () => {
    const renew = { t: 'renew' as const, node: 'n1', inc: 'a', seq: 3, executedThrough: 2, reports: [{ seq: 1, input: { kind: 'comp-instantiated' as const, su: 'S', comp: 'c' } }] };
    assert.deepEqual(decodeWire(encodeWire(renew)), { ok: true, value: renew });
    assert.deepEqual(decodeWire(encodeWire({ t: 'grant', inc: 'a', seq: 3, reportSeq: 1 })), { ok: true, value: { t: 'grant', inc: 'a', seq: 3, reportSeq: 1 } });
    assert.ok(!decodeWire(encodeWire({ ...renew, reports: [{ seq: 0, input: renew.reports[0]!.input }] })).ok);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => !decodeWire(bytes).ok || true), { seed: 3, numRuns: 500 });
  });
});
