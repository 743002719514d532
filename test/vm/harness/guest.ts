/**
 * The test guest: the distribution kernel and a busybox initramfs built by build-guest.sh (cached),
 * and what this machine can run it with (KVM where /dev/kvm opens, TCG otherwise).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Guest {
  readonly kernel: string;
  readonly initrd: string;
  readonly kernelVersion: string;
}

export type Accel = 'kvm' | 'tcg';

const HERE = new URL('.', import.meta.url).pathname;
const BUILD = join(HERE, 'build-guest.sh');

/** Where the guest (and libvirt's QEMU capabilities cache) is kept between runs. */
export function cacheRoot(): string {
  return process.env.AMFD_TEST_GUEST_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'), 'amfd-test-guest');
}

/** 'kvm' when /dev/kvm opens read-write, else 'tcg' (QEMU's emulator, slow but everywhere). */
export function accel(): Accel {
  try {
    closeSync(openSync('/dev/kvm', 'r+'));
    return 'kvm';
  } catch {
    return 'tcg';
  }
}

function onPath(program: string): boolean {
  for (const dir of [...(process.env.PATH ?? '/usr/bin:/bin').split(':'), '/usr/sbin', '/sbin']) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** Why libvirt's own daemon cannot run here, or undefined when it can. */
export function libvirtdMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'the test libvirtd runs as root in its own mount namespace; not root';
  for (const p of ['libvirtd', 'virsh', 'unshare']) if (!onPath(p)) return `${p} is not installed (apt-get install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients)`;
  return undefined;
}

/** Why a VM cannot boot here, or undefined when it can. */
export function vmMissing(): string | undefined {
  const daemon = libvirtdMissing();
  if (daemon !== undefined) return daemon;
  if (!onPath('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)';
  if (process.arch !== 'x64') return `the test guest is x86_64; this is ${process.arch}`;
  return undefined;
}

let built: { guest: Guest } | { reason: string } | undefined;

/** Build (or find in the cache) the test guest; a reason when it cannot be built. */
export function ensureGuest(): { guest: Guest } | { reason: string } {
  if (built) return built;
  const missing = vmMissing();
  if (missing !== undefined) return (built = { reason: missing });
  const r = spawnSync('/bin/sh', [BUILD, cacheRoot()], { encoding: 'utf8' });
  if (r.status !== 0) return (built = { reason: `build-guest.sh: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim()}` });
  const dir = r.stdout.trim().split('\n').pop() ?? '';
  const version = readFileSync(join(dir, 'kernel-version'), 'utf8').trim();
  return (built = { guest: { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz'), kernelVersion: version } });
}
