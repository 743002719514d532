/**
 * The test-VM harness: real guests under a libvirtd of the test's own, for every test of code
 * that runs with or inside a VM (vm components, guest heartbeat, server groups).
 *
 *   const g = ensureGuest();                      // { guest } or { reason } (skip with it)
 *   const d = await TestLibvirtd.start({ dir });  // own mount namespace, sockets and state in dir
 *   d.uri                                         // qemu+unix:///system?socket=<dir>/run/libvirt-sock
 *   const files = writeDomain({ name, guest, dir, channels: ['org.x'], run: 'node …' });
 *   // → files.xmlPath (give it to a vm component or `virsh create`), files.channels['org.x']
 *   const vm = await bootVm(d, spec);             // virsh create + wait for the ready line
 *   vm.bootMs; const sock = await connectChannel(vm.channels['org.x']);
 *   await d.stop();                               // destroys its domains, stops by pid
 *
 * Guest: the distribution kernel and a busybox initramfs (build-guest.sh, cached in
 * $AMFD_TEST_GUEST_CACHE or ~/.cache/amfd-test-guest). Its init mounts the host's root read-only
 * over 9p and runs `run` there as root, with PATH, HOME=/run, TMPDIR=/run and
 * VIRTIO_PORTS=/run/virtio-ports (one entry per channel, like udev's /dev/virtio-ports/). The
 * guest answers `virsh shutdown` (ACPI) unless `acpi: false`. Reading a port whose host side is
 * not connected returns end-of-file at once: guest programs poll until the host connects.
 * KVM is used where /dev/kvm opens, TCG otherwise (accel()). `vmMissing()` / `libvirtdMissing()`
 * say why a machine cannot (then skip with that reason).
 */
export { accel, cacheRoot, ensureGuest, libvirtdMissing, vmMissing, type Accel, type Guest } from './guest.js';
export { TestLibvirtd, type LibvirtdOptions, type VirshResult } from './libvirtd.js';
export { BOOT_TIMEOUT_MS, bootVm, connectChannel, consoleText, READY, waitConsole, writeDomain, type BootedVm, type VmFiles, type VmSpec } from './domain.js';

/** The guest echo program (plain node): `node ${GUEST_ECHO} $VIRTIO_PORTS/<channel>`. */
export const GUEST_ECHO = new URL('./guest-echo.mjs', import.meta.url).pathname;
