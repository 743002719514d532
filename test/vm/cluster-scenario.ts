/**
 * A 2N group of two VMs on a real amfd cluster: three amfd nodes (n3 only for the quorum), SU vm1
 * bound to n1 and vm2 to n2, each a vm component whose domain runs under one test libvirtd. Shared
 * by test/vm/cluster.test.ts and bench/vm.bench.ts. A libvirt event stream of its own times what
 * libvirt reports (a domain stopped, started) against what the API shows (who is ACTIVE).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GroupView } from '../../src/api/backend.js';
import { LocalCluster } from '../../scripts/local-cluster.js';
import { NodeProcessRunner } from '../../src/runtime/node/process.js';
import type { EventStream } from '../../src/vm/virsh.js';
import { Virsh } from '../../src/vm/virsh.js';
import { quietPorts } from '../runtime/node-fixtures.js';
import { TestLibvirtd, writeDomain, type Guest } from './harness/index.js';

export const SI = 'vm-si';
export const NODES = ['n1', 'n2', 'n3'];
/** SU → its node and its domain's name. */
export const UNITS = { vm1: { node: 'n1', domain: 'c-vm1' }, vm2: { node: 'n2', domain: 'c-vm2' } } as const;
export type Unit = keyof typeof UNITS;

function groupsConf(dir: string, daemon: TestLibvirtd, xml: Record<Unit, string>, restartMax: number): string {
  const unit = (su: Unit, rank: number): string => `\tunit {
		name = ${su}
		nodes = ${UNITS[su].node}
		rank = ${rank}
		component {
			name = vm
			instantiate_timeout = 60s
			terminate_timeout = 10s
			vm {
				domain_xml = ${xml[su]}
				uri = ${daemon.uri}
				shutdown_timeout = 1s
				state_dir = ${join(dir, `state-${su}`)}
			}
			csi_type_name {
				name = t
			}
		}
	}
`;
  return `${NODES.map((n) => `node {\n\tname = ${n}\n}\n`).join('')}group {
	name = vmg
	model = 2n
	component_restart_max = ${restartMax}
	component_restart_probation = 10m
	unit_restart_max = 0
	unit_restart_probation = 10m
${unit('vm1', 1)}${unit('vm2', 2)}	serviceinstance {
		name = ${SI}
		csi_descriptor {
			csi_name = ${SI}-csi
			type_name = t
		}
	}
}
`;
}

/** A lifecycle event with the time it was read (Date.now()). */
export interface SeenEvent {
  readonly at: number;
  readonly domain: string;
  readonly event: string;
  readonly detail: string;
}

export class VmCluster {
  private constructor(
    /** Every lifecycle event of the test libvirtd, as read. */
    readonly events: readonly SeenEvent[],
    readonly dir: string,
    readonly daemon: TestLibvirtd,
    readonly cluster: LocalCluster,
    private readonly stream: EventStream,
  ) {}

  static async start(guest: Guest, opts: { restartMax: number }): Promise<VmCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'amfd-vmc-'));
    const daemon = await TestLibvirtd.start({ dir: join(dir, 'libvirt') });
    const xml = {} as Record<Unit, string>;
    for (const su of Object.keys(UNITS) as Unit[]) xml[su] = writeDomain({ name: UNITS[su].domain, guest, dir: join(dir, 'vm'), hostRoot: false, acpi: false }).xmlPath;
    const groups = join(dir, 'groups.conf');
    writeFileSync(groups, groupsConf(dir, daemon, xml, opts.restartMax));
    const cluster = await LocalCluster.prepare({ workDir: join(dir, 'cluster'), nodes: NODES.length, groupsConf: groups, logLevel: 'info' });
    const ports = quietPorts();
    const virsh = new Virsh({ processes: new NodeProcessRunner(ports), log: ports.logger, virsh: 'virsh', uri: daemon.uri, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, timeoutMs: 30_000, killGraceMs: 500, label: 'test' });
    const seen: SeenEvent[] = [];
    const s = virsh.events((l) => {
      if (l.ok && l.value.kind === 'lifecycle') seen.push({ at: Date.now(), domain: l.value.domain, event: l.value.event, detail: l.value.detail });
    });
    if (!s.ok) throw new Error(s.error.message);
    const c = new VmCluster(seen, dir, daemon, cluster, s.value);
    cluster.startAll();
    return c;
  }

  /** The SU holding the SI active, from any node that answers with a leader's view. */
  async active(): Promise<{ su: Unit; node: string } | undefined> {
    for (const n of NODES) {
      const st = await this.cluster.get<{ raft: { role: string } }>(n, '/status', 1000);
      if (st?.raft.role !== 'leader') continue;
      const g = await this.cluster.get<{ groups: GroupView[] }>(n, '/v1/groups', 1000);
      const a = g?.groups.flatMap((x) => x.sis).find((s) => s.name === SI)?.assignments.filter((x) => x.ha === 'active') ?? [];
      if (a.length === 1 && a[0]?.node) return { su: a[0].su as Unit, node: a[0].node };
      return undefined;
    }
    return undefined;
  }

  /** The first lifecycle event at or after `since` matching. */
  event(since: number, domain: string, event: string, detail?: string): { at: number } | undefined {
    return this.events.find((e) => e.at >= since && e.domain === domain && e.event === event && (detail === undefined || e.detail === detail));
  }

  async stop(): Promise<void> {
    await this.cluster.stop();
    this.stream.stop();
    await this.stream.exited;
    await this.daemon.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 20): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
