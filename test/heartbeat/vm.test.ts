/**
 * bin/amf-guest inside a real VM (test/vm/harness: a libvirtd of the test's own, QEMU, the guest
 * reading the host root over 9p) against the host side over the domain's virtio-serial channel:
 * the same path as production (the channel socket found in the domain XML as amfd finds a vm
 * component's), the character device polled in the guest. One boot for all of it.
 * Skipped, with the reason printed, where no VM can boot.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { NodeChannelNetwork } from '../../src/runtime/node/channel.js';
import { NodeClock, createNodeRandom } from '../../src/runtime/node/index.js';
import { HostGuestChannel, type ChannelEvent } from '../../src/heartbeat/host-channel.js';
import { HEARTBEAT_CHANNEL } from '../../src/heartbeat/service.js';
import { unixChannelOf } from '../../src/vm/parse.js';
import { bootVm, consoleText, ensureGuest, libvirtdMissing, TestLibvirtd, type BootedVm, type Guest } from '../vm/harness/index.js';
import { until } from './wait.js';

const ROOT = join(import.meta.dirname, '..', '..');
const noDaemon = libvirtdMissing();
const built = noDaemon === undefined ? ensureGuest() : { reason: noDaemon };
const skip = 'reason' in built ? built.reason : false;
if (skip) console.log(`# guest heartbeat VM test skipped: ${skip}`);

/** TCG on a loaded machine: generous limits, a 2 s interval so that a slow guest is not taken for a frozen one. */
const LONG = 240_000;

describe('guest heartbeat in a real VM', { skip }, () => {
  let dir: string;
  let daemon: TestLibvirtd;
  let vm: BootedVm;
  let channel: HostGuestChannel;
  const events: ChannelEvent[] = [];
  const count = (kind: ChannelEvent['kind']): number => events.filter((e) => e.kind === kind).length;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amfd-hbvm-'));
    daemon = await TestLibvirtd.start({ dir: join(dir, 'libvirt') });
    const health = join(dir, 'health.sh');
    const event = join(dir, 'event.sh');
    // The guest caches the host root (9p cache=loose): the scripts keep their state in the guest's
    // own /run. The health check fails on its 4th to 6th run; the first vote is a reject.
    writeFileSync(health, `#!/bin/sh\nn=$(($(cat /run/hc 2>/dev/null || echo 0) + 1)); echo $n > /run/hc\nif [ $n -ge 4 ] && [ $n -le 6 ]; then echo "health check run $n failed"; exit 1; fi\nexit 0\n`);
    writeFileSync(event, `#!/bin/sh\necho "$1 $2" >> /run/events\nif [ "$1" = revocable ] && [ ! -e /run/voted ]; then : > /run/voted; echo "the guest says no to $2"; exit 1; fi\nexit 0\n`);
    chmodSync(health, 0o755);
    chmodSync(event, 0o755);
    writeFileSync(join(dir, 'guest_heartbeat.conf'), `HB_INTERVAL=2000\nCORRECTIVE_ACTION="reboot"\nVOTE=10\nHEALTH_CHECK_INTERVAL=2\nHEALTH_CHECK_SCRIPT="${health}"\nEVENT_NOTIFICATION_SCRIPT="${event}"\n`);
    const guest = (built as { guest: Guest }).guest;
    mkdirSync(join(dir, 'vm'));
    vm = await bootVm(daemon, {
      name: 'hb-guest',
      guest,
      dir: join(dir, 'vm'),
      channels: ['cgcs.heartbeat'],
      run: `exec node ${ROOT}/bin/amf-guest.js --config ${dir}/guest_heartbeat.conf --device $VIRTIO_PORTS/cgcs.heartbeat --api-socket /run/.guest_heartbeat_api --name hb-guest\n`,
    });
    console.log(`# vm boot ${vm.bootMs} ms`);
    // Found as amfd's host side finds a vm component's channel: in its domain XML.
    const found = unixChannelOf(readFileSync(vm.xmlPath, 'utf8'), HEARTBEAT_CHANNEL);
    assert.ok(found.ok, found.ok ? '' : found.error);
    const path = found.value;
    assert.equal(path, vm.channels['cgcs.heartbeat']);
    const silent = pino({ level: 'silent' });
    channel = new HostGuestChannel({
      id: 'hb-guest',
      path,
      channels: new NodeChannelNetwork(silent),
      clock: new NodeClock(),
      random: createNodeRandom(),
      logger: silent,
    });
    channel.onEvent((e) => events.push(e));
    channel.start();
  });

  after(async () => {
    channel?.stop();
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('enables and heartbeats; the guest logs the seed line', async () => {
    await until('enabled', () => channel.status === 'enabled', LONG);
    assert.equal(channel.params?.name, 'hb-guest');
    await until('the seed log line on the console', () => consoleText(vm).includes('Guest-Client heartbeat state change from enabling to enabled'), LONG);
  });

  it('a vote rejected by the event script carries its reason; the next is accepted and the stop notification completes', async () => {
    const r = channel.notify('stop', 'revocable');
    assert.ok(r.ok);
    assert.deepEqual(await r.value, { result: 'reject', logMsg: 'the guest says no to stop', source: 'guest' });
    const again = channel.notify('stop', 'revocable');
    assert.ok(again.ok);
    assert.deepEqual(await again.value, { result: 'accept', logMsg: '', source: 'guest' });
    const notice = channel.notify('stop', 'irrevocable');
    assert.ok(notice.ok);
    assert.deepEqual(await notice.value, { result: 'complete', logMsg: '', source: 'guest' });
  });

  it('a failing health script makes it unhealthy with its corrective action, healthy again when it passes', async () => {
    // Under TCG on a loaded machine a run can also time out (unhealthy too, with that reason):
    // wait for one of the three failing runs to say so itself.
    const failed = (e: ChannelEvent): boolean => e.kind === 'unhealthy' && /^health check run [4-6] failed$/.test(e.logMsg);
    await until('unhealthy from a failing run', () => events.some(failed), LONG);
    const u = events.find(failed);
    assert.ok(u?.kind === 'unhealthy');
    assert.equal(u.correctiveAction, 'reboot');
    await until('healthy again', () => channel.status === 'enabled', LONG);
  });

  it('virsh suspend: lost after 2 misses; virsh resume: heartbeating again', async () => {
    const r = daemon.virsh('suspend', 'hb-guest');
    assert.equal(r.status, 0, r.stderr);
    await until('loss', () => count('loss') === 1, LONG);
    assert.ok(events.findIndex((e) => e.kind === 'status' && e.to === 'missed') < events.findIndex((e) => e.kind === 'loss'), 'a miss first');
    assert.equal(daemon.virsh('resume', 'hb-guest').status, 0);
    await until('enabled after the resume', () => channel.status === 'enabled', LONG);
  });

  it('virsh shutdown: the channel closes, which is no loss', async () => {
    const losses = count('loss');
    assert.equal(daemon.virsh('shutdown', 'hb-guest').status, 0);
    await until('the domain gone', () => !daemon.domains().includes('hb-guest'), LONG);
    await until('disabled', () => channel.status === 'disabled', LONG);
    assert.equal(count('loss'), losses);
  });
});
