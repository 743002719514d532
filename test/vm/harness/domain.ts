/**
 * Test domains: the XML of a small guest (the cached kernel + initramfs, one vCPU), its console
 * log, one virtio-serial port per named channel exposed on the host as a unix stream socket
 * (`<channel type='unix'>`, QEMU listening), and booting one through a TestLibvirtd.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { accel, type Accel, type Guest } from './guest.js';
import type { TestLibvirtd } from './libvirtd.js';

export interface VmSpec {
  /** The libvirt domain name (also the stem of its files). */
  readonly name: string;
  readonly guest: Guest;
  /** Where the XML, console log and channel sockets go. */
  readonly dir: string;
  /** Default 256. */
  readonly memoryMiB?: number;
  /** virtio-serial channel names; in the guest they are /run/virtio-ports/<name> ($VIRTIO_PORTS). */
  readonly channels?: readonly string[];
  /**
   * A shell script run as root inside the guest, in the host's root (read-only over 9p, with a
   * tmpfs /run); node and this repository are there at their host paths.
   */
  readonly run?: string;
  /** Mount the host root (default true). Without it the guest idles in its initramfs and can migrate. */
  readonly hostRoot?: boolean;
  /** The guest powers off on the ACPI power button, i.e. `virsh shutdown` (default true). */
  readonly acpi?: boolean;
  readonly accel?: Accel;
}

export interface VmFiles {
  readonly xmlPath: string;
  readonly consolePath: string;
  /** Host unix socket per channel name. */
  readonly channels: Readonly<Record<string, string>>;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');

/** Write the domain XML (and the guest's run script) for `spec`; returns the paths. */
export function writeDomain(spec: VmSpec): VmFiles {
  const { name, dir } = spec;
  mkdirSync(dir, { recursive: true });
  const consolePath = join(dir, `${name}.console`);
  const channels: Record<string, string> = {};
  for (const c of spec.channels ?? []) channels[c] = join(dir, `${name}.${c}.sock`);
  const args = ['console=ttyS0', 'panic=-1', 'quiet', `amfd.ports=${spec.channels?.length ?? 0}`];
  if (spec.acpi === false) args.push('amfd.acpi=0');
  const hostRoot = spec.hostRoot ?? true;
  if (!hostRoot) args.push('amfd.host=0');
  if (spec.run !== undefined && hostRoot) {
    const script = join(dir, `${name}.run.sh`);
    writeFileSync(script, spec.run, { mode: 0o755 });
    args.push(`amfd.run=${script}`);
  }
  const type = (spec.accel ?? accel()) === 'kvm' ? 'kvm' : 'qemu';
  const xml = `<domain type='${type}'>
  <name>${esc(name)}</name>
  <memory unit='MiB'>${spec.memoryMiB ?? 256}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${esc(spec.guest.kernel)}</kernel>
    <initrd>${esc(spec.guest.initrd)}</initrd>
    <cmdline>${esc(args.join(' '))}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
${hostRoot ? `    <filesystem type='mount' accessmode='passthrough' multidevs='remap'><source dir='/'/><target dir='hostroot'/><readonly/></filesystem>\n` : ''}    <serial type='file'><source path='${esc(consolePath)}'/><target port='0'/></serial>
${Object.entries(channels)
  .map(([c, path]) => `    <channel type='unix'><source mode='bind' path='${esc(path)}'/><target type='virtio' name='${esc(c)}'/></channel>\n`)
  .join('')}    <memballoon model='none'/>
  </devices>
</domain>
`;
  const xmlPath = join(dir, `${name}.xml`);
  writeFileSync(xmlPath, xml);
  return { xmlPath, consolePath, channels };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The console log so far ('' before QEMU opened it). */
export function consoleText(files: VmFiles): string {
  return existsSync(files.consolePath) ? readFileSync(files.consolePath, 'utf8') : '';
}

/** Wait until the console log matches `pattern`; the match. */
export async function waitConsole(files: VmFiles, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(consoleText(files));
    if (m) return m;
    if (Date.now() > end) throw new Error(`console of ${files.consolePath} did not show ${pattern} within ${timeoutMs} ms; it says:\n${consoleText(files).slice(-2000)}`);
    await sleep(25);
  }
}

/** The guest's init prints this once its devices are up (and before it runs the script). */
export const READY = /AMFD-GUEST-READY uptime=([0-9.]+)/;

export interface BootedVm extends VmFiles {
  readonly name: string;
  /** From `virsh create` to the guest's ready line, ms. */
  readonly bootMs: number;
  /** The guest kernel's uptime at the ready line, s. */
  readonly guestUptimeS: number;
}

/** How long a boot may take here: TCG on a loaded 2-core machine is slow. */
export const BOOT_TIMEOUT_MS = 240_000;

/** Create the domain through the daemon and wait for the guest to be ready. */
export async function bootVm(daemon: TestLibvirtd, spec: VmSpec): Promise<BootedVm> {
  const files = writeDomain(spec);
  const t0 = Date.now();
  const r = daemon.virsh('create', files.xmlPath);
  if (r.status !== 0) throw new Error(`virsh create ${files.xmlPath}: ${r.stderr.trim()}`);
  const m = await waitConsole(files, READY, BOOT_TIMEOUT_MS);
  return { ...files, name: spec.name, bootMs: Date.now() - t0, guestUptimeS: Number(m[1]) };
}

/** Connect to a channel's host socket (QEMU listens on it once the domain runs). */
export async function connectChannel(path: string, timeoutMs = 30_000): Promise<Socket> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await new Promise<Socket | Error>((resolve) => {
      const sock = connect(path);
      sock.once('connect', () => resolve(sock));
      sock.once('error', (e) => resolve(e));
    });
    if (!(s instanceof Error)) return s;
    if (Date.now() > end) throw new Error(`cannot connect to channel ${path}: ${s.message}`);
    await sleep(50);
  }
}
