import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { domainNameOf, DOMAIN_STATES, parseDominfo, parseDomstate, parseEventLine, parseList, saysExists, saysNoDomain, unixChannelOf } from '../../src/vm/parse.js';

// Outputs as libvirt 9.0's virsh prints them (captured from test:///default and a real qemu:///system).
const DOMINFO = `Id:             1
Name:           test
UUID:           6695eb01-f6a4-8304-79aa-97f2502e193f
OS Type:        linux
State:          running
CPU(s):         2
Max memory:     8388608 KiB
Persistent:     yes
Security DOI:   

`;

test('dominfo: id, name, uuid, state, persistence; a shut-off domain has no id', () => {
  assert.deepEqual(parseDominfo(DOMINFO), { ok: true, value: { id: 1, name: 'test', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', state: 'running', persistent: true } });
  const off = parseDominfo(DOMINFO.replace('Id:             1', 'Id:             -').replace('running', 'shut off'));
  assert.ok(off.ok && off.value.id === undefined && off.value.state === 'shut off');
});

test('dominfo garbage is an error value saying what is missing', () => {
  assert.deepEqual(parseDominfo('hello\n'), { ok: false, error: 'no Name line' });
  assert.deepEqual(parseDominfo('Name: x\n'), { ok: false, error: 'no State line' });
  assert.deepEqual(parseDominfo('Name: x\nState: exploding\n'), { ok: false, error: 'unknown state "exploding"' });
  assert.equal(parseDominfo('Id: 7x\nName: x\nState: running\n').ok, false);
});

test('domstate --reason', () => {
  assert.deepEqual(parseDomstate('running (booted)\n\n'), { ok: true, value: { state: 'running', reason: 'booted' } });
  assert.deepEqual(parseDomstate('shut off (destroyed)\n'), { ok: true, value: { state: 'shut off', reason: 'destroyed' } });
  assert.deepEqual(parseDomstate('paused\n'), { ok: true, value: { state: 'paused', reason: '' } });
  assert.equal(parseDomstate('Segmentation fault\n').ok, false);
  assert.equal(parseDomstate('').ok, false);
});

test('list --all, with and without the header; names with blanks; states with blanks', () => {
  const table = ` Id   Name   State
-----------------------
 2    idle1   running
 -    test   shut off
 -    my vm  in shutdown

`;
  assert.deepEqual(parseList(table), {
    ok: true,
    value: [
      { id: 2, name: 'idle1', state: 'running' },
      { id: undefined, name: 'test', state: 'shut off' },
      { id: undefined, name: 'my vm', state: 'in shutdown' },
    ],
  });
  assert.deepEqual(parseList(' Id   Name   State\n--------------------\n\n'), { ok: true, value: [] });
  assert.equal(parseList(' 1 test exploded\n').ok, false);
  assert.equal(parseList('<html>\n').ok, false);
});

test('event lines: lifecycle, other types, garbage', () => {
  assert.deepEqual(parseEventLine("event 'lifecycle' for domain 'idle1': Stopped Destroyed"), { ok: true, value: { kind: 'lifecycle', domain: 'idle1', event: 'Stopped', detail: 'Destroyed' } });
  assert.deepEqual(parseEventLine("event 'lifecycle' for domain 'a b': Shutdown Finished after host request"), {
    ok: true,
    value: { kind: 'lifecycle', domain: 'a b', event: 'Shutdown', detail: 'Finished after host request' },
  });
  assert.deepEqual(parseEventLine("event 'reboot' for domain 'x'"), { ok: true, value: { kind: 'other', domain: 'x', type: 'reboot' } });
  assert.deepEqual(parseEventLine(''), { ok: true, value: { kind: 'blank' } });
  assert.equal(parseEventLine("event 'lifecycle' for domain 'x': Exploded").ok, false);
  assert.equal(parseEventLine('\u0000\u0001garbage').ok, false);
});

test('error wordings: no such domain (libvirt 9 and older), already exists', () => {
  assert.ok(saysNoDomain("error: failed to get domain 'nope'\n"));
  assert.ok(saysNoDomain("error: Domain not found: no domain with matching uuid 'e6f9' (idle1)\n"));
  assert.ok(saysExists("error: operation failed: domain 'idle1' already exists with uuid e6f9\n"));
  assert.ok(!saysNoDomain('error: Failed to create domain from x.xml'));
});

test('the domain name of an XML: the <name> under <domain>, not a nested one', () => {
  assert.deepEqual(domainNameOf("<domain type='kvm'>\n  <name>web1</name>\n</domain>"), { ok: true, value: 'web1' });
  assert.deepEqual(domainNameOf('<?xml version="1.0"?><!-- <name>c</name> --><domain><metadata><x><name>inner</name></x></metadata><name>outer</name></domain>'), { ok: true, value: 'outer' });
  assert.deepEqual(domainNameOf('<domain><memory>1</memory></domain>'), { ok: false, error: 'no <name> in <domain>' });
  assert.deepEqual(domainNameOf('<domain><name></name></domain>'), { ok: false, error: 'an empty or malformed <name>' });
  assert.deepEqual(domainNameOf('not xml'), { ok: false, error: 'no <domain> element' });
  assert.deepEqual(domainNameOf('<domain><name>a&amp;b</name></domain>'), { ok: true, value: 'a&b' });
});

test('no parser throws on any input', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      for (const f of [parseDominfo, parseDomstate, parseList, parseEventLine, domainNameOf]) f(s);
    }),
  );
  fc.assert(fc.property(fc.constantFrom(...DOMAIN_STATES), fc.constantFrom('', ' (booted)'), (s, r) => parseDomstate(`${s}${r}\n`).ok));
});

test('unixChannelOf: the host socket of a named virtio-serial channel, either quote style, entities decoded', () => {
  const xml = `<domain><devices>
    <channel type='unix'><source mode='bind' path='/run/a &amp; b.sock'/><target type='virtio' name='cgcs.heartbeat'/></channel>
    <channel type='pty'><target type='virtio' name='cgcs.messaging'/></channel>
    <channel type="unix">
      <source mode="bind" path="/var/lib/libvirt/qemu/cgcs.messaging.vm1.sock"/>
      <target type="virtio" name="cgcs.messaging"/>
    </channel>
  </devices></domain>`;
  assert.deepEqual(unixChannelOf(xml, 'cgcs.messaging'), { ok: true, value: '/var/lib/libvirt/qemu/cgcs.messaging.vm1.sock' });
  assert.deepEqual(unixChannelOf(xml, 'cgcs.heartbeat'), { ok: true, value: '/run/a & b.sock' });
  assert.deepEqual(unixChannelOf(xml, 'org.qemu.guest_agent.0'), { ok: false, error: "no <channel type='unix'> with target name 'org.qemu.guest_agent.0'" });
  assert.deepEqual(unixChannelOf("<channel type='unix'><target type='virtio' name='x'/></channel>", 'x'), { ok: false, error: 'the unix channel x has no source path' });
});
