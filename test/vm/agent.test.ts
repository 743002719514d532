import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeDir, model, oneComponentConf, startAgent, type TestAgent } from '../agent/harness.js';
import { ensureGuest, libvirtdMissing, TestLibvirtd, writeDomain, type Guest } from './harness/index.js';

const noDaemon = libvirtdMissing();
const built = noDaemon === undefined ? ensureGuest() : undefined;
const skip = noDaemon ?? (built && 'reason' in built ? built.reason : undefined);

function conf(xml: string, uri: string, stateDir: string): string {
  return oneComponentConf(`instantiate_timeout = 60s
			terminate_timeout = 10s
			vm {
				domain_xml = ${xml}
				uri = ${uri}
				shutdown_timeout = 2s
				state_dir = ${stateDir}
			}`, 'vm');
}

// Each agent gets its own directory (TestAgent.close removes it); the libvirtd, XML and state live in `dir`.
describe('agent: vm components through libvirt', { skip: skip ?? false }, () => {
  let dir: string;
  let daemon: TestLibvirtd;
  let text: string;
  before(async () => {
    dir = makeDir();
    daemon = await TestLibvirtd.start({ dir: join(dir, 'libvirt') });
    const f = writeDomain({ name: 'agent-vm', guest: (built as { guest: Guest }).guest, dir: join(dir, 'vm'), hostRoot: false, acpi: false });
    text = conf(f.xmlPath, daemon.uri, join(dir, 'state'));
  });
  after(async () => {
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('instantiate, destroy behind its back reported with the configured recovery, cleanup, instantiate, terminate', async () => {
    const t = await startAgent(makeDir(), model(dir, text));
    try {
      const r = await t.agent.instantiate('su1', 'vm');
      assert.ok(r.ok, r.ok ? '' : r.error.reason);
      assert.equal(t.agent.presence('su1', 'vm'), 'instantiated');
      assert.deepEqual(daemon.domains(), ['agent-vm']);
      assert.equal(daemon.virsh('destroy', 'agent-vm').status, 0);
      const f = await t.waitFault((x) => x.kind === 'error-report', 20_000);
      assert.ok(f.kind === 'error-report' && f.source === 'process-died' && /libvirt reported Stopped Destroyed/.test(f.reason ?? ''), JSON.stringify(f));
      assert.ok((await t.agent.cleanup('su1', 'vm', 'restart')).ok);
      assert.ok((await t.agent.instantiate('su1', 'vm')).ok);
      assert.deepEqual(daemon.domains(), ['agent-vm']);
      assert.ok((await t.agent.terminate('su1', 'vm')).ok);
      assert.deepEqual(daemon.domains(), []);
      assert.equal(t.faults.length, 1, 'a terminate is not reported as a death');
    } finally {
      await t.agent.cleanup('su1', 'vm', 'end');
      await t.close();
    }
  });

  it('adopt on restart: a new agent (amfd restarted) adopts the running domain, never starts a second', async () => {
    let t: TestAgent = await startAgent(makeDir(), model(dir, text));
    assert.ok((await t.agent.instantiate('su1', 'vm')).ok);
    await t.close(); // its domain keeps running, as when amfd is killed
    t = await startAgent(makeDir(), model(dir, text));
    try {
      assert.ok((await t.agent.instantiate('su1', 'vm')).ok);
      assert.deepEqual(daemon.domains(), ['agent-vm']);
      assert.ok(existsSync(join(dir, 'state', 'su1.vm.json')));
    } finally {
      assert.ok((await t.agent.cleanup('su1', 'vm', 'end')).ok);
      await t.close();
    }
    assert.deepEqual(daemon.domains(), []);
  });
});
