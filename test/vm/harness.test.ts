import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { accel, bootVm, connectChannel, ensureGuest, GUEST_ECHO, libvirtdMissing, TestLibvirtd, type Guest } from './harness/index.js';

const noDaemon = libvirtdMissing();
const built = noDaemon === undefined ? ensureGuest() : { reason: noDaemon };
const skipVm = 'reason' in built ? built.reason : false;
if (skipVm) console.log(`# test VMs skipped: ${skipVm}`);

describe('test-VM harness', { skip: noDaemon ?? false }, () => {
  let dir: string;
  let daemon: TestLibvirtd;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amfd-vmh-'));
    daemon = await TestLibvirtd.start({ dir });
  });
  after(async () => {
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs its own libvirtd (own socket, no domains) and stops it by pid', () => {
    assert.match(daemon.uri, new RegExp(`socket=${dir}`));
    assert.deepEqual(daemon.domains(), []);
    assert.equal(daemon.virsh('uri').stdout.trim(), daemon.uri);
  });

  it('boots a guest; node inside reads and writes a virtio-serial channel the host reaches over its unix socket', { skip: skipVm }, async () => {
    const guest = (built as { guest: Guest }).guest;
    const vm = await bootVm(daemon, { name: 'harness-echo', guest, dir: join(dir, 'vm'), channels: ['org.amfd.echo'], run: `exec node ${GUEST_ECHO} $VIRTIO_PORTS/org.amfd.echo\n` });
    console.log(`# vm boot ${vm.bootMs} ms (guest kernel uptime ${vm.guestUptimeS} s at ready) accel=${accel()} kernel=${guest.kernelVersion}`);
    const sock = await connectChannel(vm.channels['org.amfd.echo']!);
    let got = '';
    sock.on('data', (c: Buffer) => (got += c.toString()));
    const until = async (re: RegExp): Promise<void> => {
      while (!re.test(got)) await new Promise((r) => setTimeout(r, 25));
    };
    await until(/hello from node v20/);
    const t0 = Date.now();
    sock.write('ping 1\n');
    await until(/echo ping 1 from /);
    console.log(`# channel round trip ${Date.now() - t0} ms`);
    sock.destroy();
    assert.deepEqual(daemon.domains(), ['harness-echo']);
  });
});
