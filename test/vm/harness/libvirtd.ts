/**
 * A libvirtd of the test's own: run as root in a private mount namespace where /etc/libvirt,
 * /run/libvirt, /var/lib/libvirt, /var/log/libvirt are the test's directories (and /etc/passwd
 * gains the libvirt-qemu user the qemu driver insists on), so it shares nothing with a system
 * libvirt or with another test's daemon. QEMU runs as root without cgroups, namespaces or a
 * security driver. The capabilities cache is kept in the guest cache (probing QEMU costs seconds).
 * Stopped by pid; its domains are destroyed first and any QEMU left is killed by its pidfile.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './guest.js';

export interface LibvirtdOptions {
  /** The daemon's directory (created): etc/ run/ lib/ log/ and its log file. */
  readonly dir: string;
  /** Run it in this network namespace (`ip netns exec`). */
  readonly netns?: string;
  /** QEMU migration ports (distinct per daemon when several share a network namespace). */
  readonly migrationPorts?: readonly [number, number];
  /** migration_host in qemu.conf (an address of this daemon's namespace, not loopback). */
  readonly migrationHost?: string;
}

export interface VirshResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pidfile's process is still a QEMU (not a stranger that reused the pid). */
function isQemu(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('qemu-system');
  } catch {
    return false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ms: number, probe: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

const BINDS = ['etc:/etc/libvirt', 'run:/run/libvirt', 'lib:/var/lib/libvirt', 'log:/var/log/libvirt'] as const;

export class TestLibvirtd {
  /** The URI a virsh on this machine connects with (the daemon's own socket). */
  readonly uri: string;
  readonly socket: string;
  private exited = false;

  private constructor(
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    this.socket = join(dir, 'run', 'libvirt-sock');
    this.uri = `qemu+unix:///system?socket=${this.socket}`;
    child.on('exit', () => (this.exited = true));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  static async start(options: LibvirtdOptions): Promise<TestLibvirtd> {
    const { dir } = options;
    for (const d of ['etc', 'run', 'lib', 'log', 'vm']) mkdirSync(join(dir, d), { recursive: true });
    const cache = join(cacheRoot(), 'libvirt-cache');
    mkdirSync(cache, { recursive: true });
    writeFileSync(
      join(dir, 'etc', 'libvirtd.conf'),
      [`listen_tls = 0`, `listen_tcp = 0`, `host_uuid = "${randomUUID()}"`, `log_outputs = "3:file:${join(dir, 'log', 'libvirtd.log')}"`, ''].join('\n'),
    );
    const [pmin, pmax] = options.migrationPorts ?? [49152, 49215];
    writeFileSync(
      join(dir, 'etc', 'qemu.conf'),
      [
        'user = "root"',
        'group = "root"',
        'dynamic_ownership = 0',
        'remember_owner = 0',
        'security_driver = "none"',
        'cgroup_controllers = [ ]',
        'namespaces = [ ]',
        'stdio_handler = "file"',
        `migration_port_min = ${pmin}`,
        `migration_port_max = ${pmax}`,
        ...(options.migrationHost ? [`migration_host = "${options.migrationHost}"`, `migration_address = "${options.migrationHost}"`] : []),
        '',
      ].join('\n'),
    );
    const passwd = readFileSync('/etc/passwd', 'utf8');
    const group = readFileSync('/etc/group', 'utf8');
    writeFileSync(join(dir, 'passwd'), /^libvirt-qemu:/m.test(passwd) ? passwd : `${passwd.trimEnd()}\nlibvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin\n`);
    const extra = ['kvm:x:64054:', 'libvirt-qemu:x:64055:'].filter((g) => !new RegExp(`^${g.split(':')[0]}:`, 'm').test(group));
    writeFileSync(join(dir, 'group'), `${group.trimEnd()}\n${extra.join('\n')}\n`);
    const mounts = [
      ...BINDS.map((b) => b.split(':') as [string, string]).map(([from, to]) => `mkdir -p ${to} && mount --bind ${join(dir, from)} ${to}`),
      `mkdir -p /var/cache/libvirt && mount --bind ${cache} /var/cache/libvirt`,
      `mount --bind ${join(dir, 'passwd')} /etc/passwd`,
      `mount --bind ${join(dir, 'group')} /etc/group`,
    ];
    const script = `${mounts.join(' && ')} && exec libvirtd -f ${join(dir, 'etc', 'libvirtd.conf')} -p ${join(dir, 'run', 'libvirtd.pid')}`;
    const argv = ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script];
    const full = options.netns ? ['ip', 'netns', 'exec', options.netns, ...argv] : argv;
    const out = join(dir, 'log', 'stdout');
    const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const d = new TestLibvirtd(dir, child);
    try {
      await waitFor('the libvirtd socket', 60_000, () => {
        if (d.exited) throw new Error(`libvirtd exited at start: ${output.trim() || '(no output)'}; log ${join(dir, 'log', 'libvirtd.log')}`);
        return existsSync(d.socket) && d.virsh('uri').status === 0;
      });
    } catch (e) {
      writeFileSync(out, output);
      await d.stop();
      throw e;
    }
    return d;
  }

  /** Run virsh against this daemon (synchronously; for test set-up and checks). */
  virsh(...args: string[]): VirshResult {
    const r = spawnSync('virsh', ['-q', '-c', this.uri, ...args], { encoding: 'utf8', timeout: 60_000, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
  }

  /** The names of the domains it runs. */
  domains(): string[] {
    const r = this.virsh('list', '--name');
    return r.status === 0 ? r.stdout.split('\n').map((s) => s.trim()).filter((s) => s !== '') : [];
  }

  /** Destroy every domain, stop the daemon by its pid, kill any QEMU left by its pidfile. */
  async stop(): Promise<void> {
    if (!this.exited) for (const name of this.domains()) this.virsh('destroy', name);
    const pid = this.child.pid;
    if (pid !== undefined && !this.exited) {
      process.kill(pid, 'SIGTERM');
      try {
        await waitFor('libvirtd to exit', 15_000, () => this.exited);
      } catch {
        if (!this.exited) process.kill(pid, 'SIGKILL');
        await waitFor('libvirtd to die', 5_000, () => this.exited);
      }
    }
    const qemuRun = join(this.dir, 'run', 'qemu');
    if (!existsSync(qemuRun)) return;
    for (const f of readdirSync(qemuRun).filter((n) => n.endsWith('.pid'))) {
      const qpid = Number(readFileSync(join(qemuRun, f), 'utf8').trim());
      if (Number.isInteger(qpid) && qpid > 1 && alive(qpid) && isQemu(qpid)) process.kill(qpid, 'SIGKILL');
    }
  }
}
