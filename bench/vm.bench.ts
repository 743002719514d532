/**
 * VM component bench: one node, the agent driven by the AMF engine (StandaloneLoop), vm
 * components whose domains run under a test libvirtd with QEMU (test/vm/harness).
 *
 * - restart: a noredundancy VM; `virsh destroy` behind amfd's back, time until the component is
 *   instantiated again (virsh create, dominfo running); the guest's boot (instantiated → its ready
 *   line on the console) is reported separately.
 * - failover: a 2N group of two VMs (recovery component-failover); `virsh destroy` the active,
 *   time until the standby accepted CSI set active (the engine got csi-set-done active), from the
 *   destroy, from libvirt's Stopped event as a second event stream of the bench's own reads it, and
 *   from the agent's death report (what amfd adds beyond the detection).
 *
 * Usage: npm run bench:vm [-- --trials 10]
 * Last line: vm restart_p50_ms=… failover_p50_ms=… boot_p50_ms=… accel=kvm|tcg
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchNode, csiDone, inputWaiter, startWithPair } from './standalone.js';
import { percentile } from './harness.js';
import { loadConfig } from '../src/model/index.js';
import { Virsh } from '../src/vm/virsh.js';
import { accel, consoleText, ensureGuest, libvirtdMissing, READY, TestLibvirtd, writeDomain, type VmFiles } from '../test/vm/harness/index.js';

const trialsArg = process.argv.indexOf('--trials');
const TRIALS = trialsArg > 0 ? Number(process.argv[trialsArg + 1]) : 10;
const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

const vmComp = (xml: string, uri: string, stateDir: string, recovery: string): string => `		component {
			name = vm
			instantiate_timeout = 120s
			terminate_timeout = 10s
			recovery_on_error = ${recovery}
			vm {
				domain_xml = ${xml}
				uri = ${uri}
				shutdown_timeout = 1s
				state_dir = ${stateDir}
			}
			csi_type_name {
				name = t
			}
		}
`;

const si = (name: string): string => `	serviceinstance {
		name = ${name}
		csi_descriptor {
			csi_name = ${name}-csi
			type_name = t
		}
	}
`;

/** A new boot on the console since `before` (QEMU may truncate the file or append to it). */
function booted(files: VmFiles, before: string): boolean {
  const now = consoleText(files);
  return READY.test(now.startsWith(before) ? now.slice(before.length) : now);
}

async function main(): Promise<void> {
  const missing = libvirtdMissing();
  const built = missing === undefined ? ensureGuest() : undefined;
  const why = missing ?? (built && 'reason' in built ? built.reason : undefined);
  if (why !== undefined || !built || !('guest' in built)) {
    console.error(`bench:vm cannot run here: ${why ?? 'no guest'}`);
    process.exit(1);
  }
  const dir = mkdtempSync(join(tmpdir(), 'amf-vm-bench-'));
  const daemon = await TestLibvirtd.start({ dir: join(dir, 'libvirt') });
  const files: Record<string, VmFiles> = {};
  for (const name of ['b-solo', 'b-a', 'b-b']) files[name] = writeDomain({ name, guest: built.guest, dir: join(dir, 'vm'), hostRoot: false, acpi: false });
  const state = join(dir, 'state');
  const text = `cluster {
	node_failover_max = 1000000
}
group {
	name = solo
	model = noredundancy
	component_restart_max = 1000000
	unit_restart_max = 1000000
	unit {
		name = solo
${vmComp(files['b-solo']!.xmlPath, daemon.uri, state, 'component-restart')}	}
${si('solo-si')}}
group {
	name = pair
	model = 2n
	component_restart_max = 1000000
	unit_restart_max = 1000000
	unit {
		name = a
		rank = 1
${vmComp(files['b-a']!.xmlPath, daemon.uri, state, 'component-failover')}	}
	unit {
		name = b
		rank = 2
${vmComp(files['b-b']!.xmlPath, daemon.uri, state, 'component-failover')}	}
${si('pair-si')}}
`;
  const loaded = loadConfig(text, 'bench-vm.conf');
  if (!loaded.ok) throw new Error(loaded.error.map((e) => e.message).join('\n'));
  const model = loaded.value;

  const { agent, loop, clock, processes, logger } = await benchNode(model, join(dir, 'amf.sock'), PATH);

  // What libvirt reports, on a stream of the bench's own, on the same clock as the engine's inputs.
  const stopped: Array<{ at: number; domain: string }> = [];
  const virsh = new Virsh({ processes, log: logger, virsh: 'virsh', uri: daemon.uri, env: { PATH }, timeoutMs: 30_000, killGraceMs: 500, label: 'bench' });
  const stream = virsh.events((l) => {
    if (l.ok && l.value.kind === 'lifecycle' && l.value.event === 'Stopped') stopped.push({ at: clock.now(), domain: l.value.domain });
  });
  if (!stream.ok) throw new Error(stream.error.message);

  const waitInput = inputWaiter(loop, clock, 180_000);
  const domainOf: Record<string, string> = { solo: 'b-solo', a: 'b-a', b: 'b-b' };
  // Through the async virsh layer: a synchronous child would stall this process's event loop, and
  // with it the agent and the event stream, for as long as the destroy takes.
  const destroy = async (su: string): Promise<number> => {
    const t0 = clock.now();
    const r = await virsh.destroy(domainOf[su]!);
    if (!r.ok) throw new Error(r.error.message);
    return t0;
  };

  const units = ['a', 'b'];
  let active = await startWithPair(loop, waitInput, units, 'solo');

  const restart: number[] = [];
  const boot: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const before = consoleText(files['b-solo']!);
    const up = waitInput((x) => x.kind === 'comp-instantiated' && x.su === 'solo', 'solo restart');
    const assigned = waitInput(csiDone('solo', 'active'), 'solo reassigned');
    const t0 = await destroy('solo');
    const upAt = await up;
    restart.push(upAt - t0);
    await assigned;
    while (!booted(files['b-solo']!, before)) await new Promise((r) => setTimeout(r, 25));
    boot.push(clock.now() - upAt);
  }

  const failover: number[] = [];
  const beyond: number[] = [];
  const afterReport: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const standby = units.find((u) => u !== active)!;
    const was = active;
    const reported = waitInput((x) => x.kind === 'error-report' && x.su === was, `${was}'s death reported`);
    const promoted = waitInput(csiDone(standby, 'active'), `failover to ${standby}`);
    const back = waitInput(csiDone(active, 'standby'), `${active} back as standby`);
    const t0 = await destroy(active);
    const at = await promoted;
    failover.push(at - t0);
    afterReport.push(at - (await reported));
    const ev = stopped.find((e) => e.at >= t0 && e.domain === domainOf[active]);
    if (ev) beyond.push(at - ev.at);
    await back;
    active = standby;
  }

  loop.stop();
  for (const su of ['solo', ...units]) await agent.cleanup(su, 'vm', 'bench end');
  await agent.stop();
  stream.value.stop();
  await stream.value.exited;
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });

  const fmt = (x: number): string => x.toFixed(0);
  const line = (what: string, xs: number[]): string => {
    const s = [...xs].sort((p, q) => p - q);
    return `${what} (${s.length} trials): min ${fmt(s[0]!)} p50 ${fmt(percentile(s, 50))} p99 ${fmt(percentile(s, 99))} max ${fmt(s[s.length - 1]!)} ms`;
  };
  const p50 = (xs: number[]): string => fmt(percentile([...xs].sort((p, q) => p - q), 50));
  console.log(line('restart: virsh destroy → instantiated again', restart));
  console.log(line('boot: instantiated → the guest ready line', boot));
  console.log(line('failover: virsh destroy of the active → standby CSI set active', failover));
  console.log(line("failover beyond detection: libvirt's Stopped event (the bench's own event stream) → standby CSI set active", beyond));
  console.log(line("failover, amfd's part: the agent's death report → standby CSI set active", afterReport));
  console.log(`vm restart_p50_ms=${p50(restart)} failover_p50_ms=${p50(failover)} boot_p50_ms=${p50(boot)} accel=${accel()}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
