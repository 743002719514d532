import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootstrapServers, configuredNodes, nextMembershipChange, type MemberInfo, type SeatPolicy } from '../../src/cluster/formation.js';
import { loadConfig } from '../../src/model/index.js';
import { resolveClusterSettings } from '../../src/cluster/options.js';
import { decodeMeta, encodeMeta } from '../../src/cluster/wire.js';

const member = (name: string, alive = true, formed = false): MemberInfo => ({ name, alive, meta: { raft: `${name}:7000`, rpc: `${name}:7100`, formed } });
const voter = (id: string) => ({ id, address: `${id}:7000`, suffrage: 'voter' as const });
const nonvoter = (id: string) => ({ id, address: `${id}:7000`, suffrage: 'nonvoter' as const });
const named = (...names: string[]): SeatPolicy => ({ configured: new Set(names), admitted: {}, allowJoins: false });
const ALL = named('n1', 'n2', 'n3', 'n4', 'n5', 'n6');

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
    assert.deepEqual(nextMembershipChange([voter('n1'), voter('n2'), voter('n3')], ms, none, 'n1', 5, 30_000, 0, ALL), { kind: 'addVoter', id: 'n4', address: 'n4:7000' });
    const five = ['n1', 'n2', 'n3', 'n4', 'n5'].map(voter);
    assert.deepEqual(nextMembershipChange(five, ms, none, 'n1', 5, 30_000, 0, ALL), { kind: 'addNonvoter', id: 'n6', address: 'n6:7000' });
    assert.equal(nextMembershipChange([...five, nonvoter('n6')], ms, none, 'n1', 5, 30_000, 0, ALL), null);
    assert.deepEqual(nextMembershipChange([...five.slice(0, 4), nonvoter('n6')], ms.filter((m) => m.name !== 'n5'), none, 'n1', 5, 30_000, 0, ALL), { kind: 'addVoter', id: 'n6', address: 'n6:7000' });
  });

  it('a dead voter is removed only after the grace period, even once SWIM forgot it', () => {
    const conf = ['n1', 'n2', 'n3'].map(voter);
    const ms = [member('n1'), member('n2'), member('n3', false)];
    const dead = new Map([['n3', 1000]]);
    assert.equal(nextMembershipChange(conf, ms, dead, 'n1', 5, 30_000, 20_000, ALL), null);
    assert.deepEqual(nextMembershipChange(conf, ms, dead, 'n1', 5, 30_000, 31_000, ALL), { kind: 'removeServer', id: 'n3' });
    assert.deepEqual(nextMembershipChange(conf, ms.slice(0, 2), dead, 'n1', 5, 30_000, 31_000, ALL), { kind: 'removeServer', id: 'n3' });
    assert.equal(nextMembershipChange(conf, [member('n1', false), member('n2'), member('n3')], new Map([['n1', 0]]), 'n1', 5, 30_000, 99_000, ALL), null, 'never itself');
  });
});

describe('Raft seats come from the committed state, not from gossip', () => {
  const none = new Map<string, number>();
  const three = ['n1', 'n2', 'n3'].map(voter);

  it('a member the configuration does not name gets no seat; with allow_joins at most a non-voter', () => {
    const ms = [...['n1', 'n2', 'n3'].map((n) => member(n)), member('ghost')];
    assert.equal(nextMembershipChange(three, ms, none, 'n1', 5, 30_000, 0, named('n1', 'n2', 'n3')), null);
    assert.deepEqual(nextMembershipChange(three, ms, none, 'n1', 5, 30_000, 0, { ...named('n1', 'n2', 'n3'), allowJoins: true }), { kind: 'addNonvoter', id: 'ghost', address: 'ghost:7000' });
    assert.equal(nextMembershipChange([...three, nonvoter('ghost')], ms, none, 'n1', 5, 30_000, 0, { ...named('n1', 'n2', 'n3'), allowJoins: true }), null, 'never promoted');
  });

  it('an operator admission gives a seat; taking it back removes the server', () => {
    const ms = [...['n1', 'n2', 'n3'].map((n) => member(n)), member('n9')];
    const admitted = (seat: 'voter' | 'nonvoter'): SeatPolicy => ({ ...named('n1', 'n2', 'n3'), admitted: { n9: seat } });
    assert.deepEqual(nextMembershipChange(three, ms, none, 'n1', 5, 30_000, 0, admitted('voter')), { kind: 'addVoter', id: 'n9', address: 'n9:7000' });
    assert.deepEqual(nextMembershipChange(three, ms, none, 'n1', 5, 30_000, 0, admitted('nonvoter')), { kind: 'addNonvoter', id: 'n9', address: 'n9:7000' });
    assert.deepEqual(nextMembershipChange([...three, voter('n9')], ms, none, 'n1', 5, 30_000, 0, admitted('nonvoter')), { kind: 'removeServer', id: 'n9' }, 'a voter that may only be a non-voter leaves, to come back as one');
    assert.deepEqual(nextMembershipChange([...three, nonvoter('n9')], ms, none, 'n1', 5, 30_000, 0, named('n1', 'n2', 'n3')), { kind: 'removeServer', id: 'n9' });
  });

  it('voters the configuration no longer names are removed (never the leader itself); before any configuration nobody is', () => {
    const five = ['n1', 'n2', 'n3', 'ghost1', 'ghost2'].map(voter);
    const ms = five.map((s) => member(s.id));
    assert.deepEqual(nextMembershipChange(five, ms, none, 'n1', 5, 30_000, 0, named('n1', 'n2', 'n3')), { kind: 'removeServer', id: 'ghost1' });
    assert.equal(nextMembershipChange(five, ms, none, 'ghost1', 5, 30_000, 0, named('ghost2', 'n1', 'n2', 'n3')), null);
    assert.equal(nextMembershipChange(three, [...three.map((s) => member(s.id)), member('n4')], none, 'n1', 5, 30_000, 0, named()), null, 'no configuration yet: the bootstrap servers sit, nobody joins');
  });

  it('the configured nodes: node blocks and the nodes units are bound to', () => {
    const conf = loadConfig('group {\n\tname = g\n\tunit {\n\t\tname = u\n\t\tnodes = a b\n\t\tcomponent {\n\t\t\tname = c\n\t\t}\n\t}\n}\n', 'groups.conf');
    assert.ok(conf.ok, conf.ok ? '' : conf.error.map(String).join('; '));
    assert.deepEqual([...configuredNodes(conf.value)].sort(), ['a', 'b'], 'no node blocks: the nodes the units name');
  });

  it('bootstrap only among the nodes of the configuration it starts with, when given', () => {
    const ms = ['aaa-stranger', 'n1', 'n2', 'n3'].map((n) => member(n));
    assert.deepEqual(bootstrapServers('n1', ms, 3)?.map((s) => s.id), ['aaa-stranger', 'n1', 'n2'], 'unrestricted, a stranger sorting first takes a seat');
    assert.deepEqual(bootstrapServers('n1', ms, 3, new Set(['n1', 'n2', 'n3']))?.map((s) => s.id), ['n1', 'n2', 'n3']);
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
