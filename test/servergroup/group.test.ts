import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../../src/model/index.js';
import { indexMembers, resolveServerGroups } from '../../src/servergroup/group.js';
import { err, ok } from '../../src/util/result.js';

const text = readFileSync(new URL('../model/golden/valid/extensions.conf', import.meta.url), 'utf8');

test('resolveServerGroups: a vm member without channel takes its domain messaging channel; defaults for instance and display name', () => {
  const loaded = loadConfig(text, 'extensions.conf');
  assert.ok(loaded.ok);
  const asked: string[] = [];
  const { groups, problems } = resolveServerGroups(loaded.value, (xml) => {
    asked.push(xml);
    return ok(`/run/from-xml/${xml.split('/').at(-1)}.sock`);
  });
  assert.deepEqual(problems, []);
  assert.equal(asked.length, 1, 'only the vm member without a channel reads its domain');
  const [peers] = groups;
  assert.ok(peers);
  assert.deepEqual({ name: peers.name, policy: peers.policy, rate: peers.broadcastRate, burst: peers.broadcastBurst }, { name: 'peers', policy: 'anti-affinity', rate: 20, burst: 40 });
  assert.deepEqual(
    peers.members.map((m) => [m.instance, m.displayName, m.su, m.comp, m.channel]),
    [
      ['SU_vm1', 'SU_vm1', 'SU_vm1', 'guest', `/run/from-xml/${asked[0]!.split('/').at(-1)}.sock`],
      ['instance-00000002', 'web server 2', 'SU_vm2', 'guest', '/var/lib/libvirt/qemu/cgcs.messaging.guest2.sock'],
      ['SU_cache2', 'SU_cache2', 'SU_cache2', 'memcached', '/run/amfd/cache2.messaging.sock'],
    ],
  );
  assert.equal(indexMembers(groups).get('instance-00000002')?.group.name, 'peers');
});

test('resolveServerGroups: a domain without a messaging channel is a problem naming the member; the member stays without a channel', () => {
  const loaded = loadConfig(text, 'extensions.conf');
  assert.ok(loaded.ok);
  const { groups, problems } = resolveServerGroups(loaded.value, () => err("no <channel type='unix'> with target name 'cgcs.messaging'"));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /^server group peers: member SU_vm1\/guest: .+: no <channel type='unix'> with target name 'cgcs.messaging'$/);
  assert.equal(groups[0]?.members[0]?.channel, undefined);
  assert.equal(groups[0]?.members.length, 3);
});
