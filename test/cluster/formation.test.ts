import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapServers, nextMembershipChange, type MemberInfo } from '../../src/cluster/formation.js';
import { resolveClusterSettings } from '../../src/cluster/options.js';
import { decodeMeta, encodeMeta } from '../../src/cluster/wire.js';

const member = (name: string, alive = true, formed = false): MemberInfo => ({ name, alive, meta: { raft: `${name}:7000`, rpc: `${name}:7100`, formed } });
const voter = (id: string) => ({ id, address: `${id}:7000`, suffrage: 'voter' as const });
const nonvoter = (id: string) => ({ id, address: `${id}:7000`, suffrage: 'nonvoter' as const });

describe('formation decisions', () => {
  it('the first bootstrap_expect alive servers by name bootstrap together, nobody else', () => {
    const ms = ['n4', 'n2', 'n1', 'n3'].map((n) => member(n));
    assert.deepEqual(bootstrapServers('n2', ms, 3)?.map((s) => s.id), ['n1', 'n2', 'n3']);
    assert.equal(bootstrapServers('n4', ms, 3), null, 'not among the first three');
    assert.equal(bootstrapServers('n1', ms.slice(0, 2), 3), null, 'too few servers yet');
    assert.equal(bootstrapServers('n1', [...ms, member('n9', true, true)], 3), null, 'a formed cluster exists: join it instead');
    assert.deepEqual(bootstrapServers('n1', [member('n1')], 1)?.map((s) => s.id), ['n1'], 'dev mode');
  });

  it('voters up to max_voters, then non-voters; a non-voter is promoted into a free seat', () => {
    const ms = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((n) => member(n));
    const none = new Map<string, number>();
    assert.deepEqual(nextMembershipChange([voter('n1'), voter('n2'), voter('n3')], ms, none, 'n1', 5, 30_000, 0), { kind: 'addVoter', id: 'n4', address: 'n4:7000' });
    const five = ['n1', 'n2', 'n3', 'n4', 'n5'].map(voter);
    assert.deepEqual(nextMembershipChange(five, ms, none, 'n1', 5, 30_000, 0), { kind: 'addNonvoter', id: 'n6', address: 'n6:7000' });
    assert.equal(nextMembershipChange([...five, nonvoter('n6')], ms, none, 'n1', 5, 30_000, 0), null);
    assert.deepEqual(nextMembershipChange([...five.slice(0, 4), nonvoter('n6')], ms.filter((m) => m.name !== 'n5'), none, 'n1', 5, 30_000, 0), { kind: 'addVoter', id: 'n6', address: 'n6:7000' });
  });

  it('a dead voter is removed only after the grace period, even once SWIM forgot it', () => {
    const conf = ['n1', 'n2', 'n3'].map(voter);
    const ms = [member('n1'), member('n2'), member('n3', false)];
    const dead = new Map([['n3', 1000]]);
    assert.equal(nextMembershipChange(conf, ms, dead, 'n1', 5, 30_000, 20_000), null);
    assert.deepEqual(nextMembershipChange(conf, ms, dead, 'n1', 5, 30_000, 31_000), { kind: 'removeServer', id: 'n3' });
    assert.deepEqual(nextMembershipChange(conf, ms.slice(0, 2), dead, 'n1', 5, 30_000, 31_000), { kind: 'removeServer', id: 'n3' });
    assert.equal(nextMembershipChange(conf, [member('n1', false), member('n2'), member('n3')], new Map([['n1', 0]]), 'n1', 5, 30_000, 99_000), null, 'never itself');
  });
});

describe('settings and metadata', () => {
  it('defaults, and every bad field named', () => {
    const d = resolveClusterSettings();
    assert.ok(d.ok && d.value.leaseMs === 1200 && d.value.bootstrapExpect === 3 && d.value.maxVoters === 5);
    const lease = resolveClusterSettings({ leaseMs: 3000 });
    assert.ok(lease.ok && lease.value.lostAfterMs === 3000, 'lostAfterMs follows leaseMs');
    const bad = resolveClusterSettings({ leaseMs: -1, leasePolicy: 'ignore' as never, maxVoters: 2 });
    assert.ok(!bad.ok);
    assert.ok(bad.error.some((e) => e.includes('leaseMs')));
    assert.ok(bad.error.some((e) => e.includes('leasePolicy')));
    assert.ok(bad.error.some((e) => e.includes('maxVoters')));
  });

  it('node metadata round-trips; garbage is ignored', () => {
    const m = { raft: 'a:1', rpc: 'a:2', formed: true };
    assert.deepEqual(decodeMeta(encodeMeta(m)), m);
    assert.equal(decodeMeta(new Uint8Array([0xc1])), undefined);
    assert.equal(decodeMeta(new Uint8Array()), undefined);
  });
});
