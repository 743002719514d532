import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDir, model, sleep, startAgent } from '../agent/harness.js';
import { ensureGuest, libvirtdMissing, TestLibvirtd, writeDomain, type Guest } from './harness/index.js';

// Pacemaker's ocf:heartbeat:VirtualDomain from Debian's resource-agents, unchanged, as an ocf
// component: what users of Pacemaker know, beside the native vm kind (docs/vm.md compares them).
const AGENT = '/usr/lib/ocf/resource.d/heartbeat/VirtualDomain';
const noDaemon = libvirtdMissing();
const built = noDaemon === undefined && existsSync(AGENT) ? ensureGuest() : undefined;
const skip = noDaemon ?? (!existsSync(AGENT) ? 'resource-agents is not installed' : built && 'reason' in built ? built.reason : undefined);

test('ocf:heartbeat:VirtualDomain runs unchanged as an ocf component: start, monitor, a destroy behind its back, stop', { skip: skip ?? false }, async () => {
  const dir = makeDir();
  const daemon = await TestLibvirtd.start({ dir: join(dir, 'libvirt') });
  const f = writeDomain({ name: 'vd1', guest: (built as { guest: Guest }).guest, dir: join(dir, 'vm'), hostRoot: false, acpi: false });
  const conf = `group {
	name = g
	model = noredundancy
	unit {
		name = su1
		component {
			name = vd
			ocf = heartbeat:VirtualDomain
			instantiate_timeout = 120s
			terminate_timeout = 60s
			env {
				config = ${f.xmlPath}
				hypervisor = ${daemon.uri}
				CRM_meta_timeout = 10000
			}
			healthcheck {
				key = monitor
				period = 500
				maximum_duration = 20s
			}
		}
	}
}
`;
  const t = await startAgent(dir, model(dir, conf));
  try {
    const started = await t.agent.instantiate('su1', 'vd');
    assert.ok(started.ok, started.ok ? '' : started.error.reason);
    assert.deepEqual(daemon.domains(), ['vd1']);
    assert.ok(t.agent.startHealthcheck('su1', 'vd', 'monitor').ok);
    await sleep(1500);
    assert.equal(t.faults.length, 0, 'monitor says running');
    assert.equal(daemon.virsh('destroy', 'vd1').status, 0);
    const fault = await t.waitFault((x) => x.kind === 'healthcheck-failed', 30_000);
    assert.equal(fault.kind, 'healthcheck-failed');
    assert.ok((await t.agent.cleanup('su1', 'vd', 'restart')).ok);
    assert.ok((await t.agent.instantiate('su1', 'vd')).ok);
    assert.deepEqual(daemon.domains(), ['vd1']);
    // The guest ignores ACPI: VirtualDomain's stop waits out its shutdown share of the timeout, then destroys.
    const stopped = await t.agent.terminate('su1', 'vd');
    assert.ok(stopped.ok, stopped.ok ? '' : stopped.error);
    assert.deepEqual(daemon.domains(), []);
  } finally {
    await t.agent.cleanup('su1', 'vd', 'end');
    await t.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
