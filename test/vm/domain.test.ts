import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NodeClock } from '../../src/runtime/node/clock.js';
import { NodeFileSystem } from '../../src/runtime/node/files.js';
import { NodeProcessRunner } from '../../src/runtime/node/process.js';
import { VmDomain, type VmDomainOptions } from '../../src/vm/domain.js';
import { LibvirtEvents } from '../../src/vm/events.js';
import { Virsh } from '../../src/vm/virsh.js';
import { quietPorts } from '../runtime/node-fixtures.js';
import { ensureGuest, libvirtdMissing, READY, TestLibvirtd, waitConsole, writeDomain, type Guest } from './harness/index.js';

const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const ports = quietPorts();
const runner = new NodeProcessRunner(ports);
const clock = new NodeClock();
const files = new NodeFileSystem();

const noDaemon = libvirtdMissing();
const built = noDaemon === undefined ? ensureGuest() : undefined;
const skip = noDaemon ?? (built && 'reason' in built ? built.reason : undefined);
if (skip) console.log(`# vm domain tests skipped: ${skip}`);

async function until(what: string, ms: number, probe: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a vm component domain on a real libvirtd + QEMU', { skip: skip ?? false }, () => {
  let dir: string;
  let daemon: TestLibvirtd;
  let virsh: Virsh;
  let events: LibvirtEvents;
  const guest = (): Guest => (built as { guest: Guest }).guest;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'amfd-vmd-'));
    daemon = await TestLibvirtd.start({ dir });
    virsh = new Virsh({ processes: runner, log: ports.logger, virsh: 'virsh', uri: daemon.uri, env: { PATH }, timeoutMs: 30_000, killGraceMs: 500, label: 'component vmc' });
    events = new LibvirtEvents(virsh, clock, ports.logger, { pollMs: 200, restartMs: 200, maxRestartMs: 1000, settleMs: 500 });
  });
  after(async () => {
    events?.close();
    await daemon?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const domain = (name: string, extra: Partial<VmDomainOptions> = {}, spec: { acpi?: boolean; hostRoot?: boolean } = { hostRoot: false }): VmDomain => {
    const f = writeDomain({ name, guest: guest(), dir: join(dir, 'vm'), ...spec });
    return new VmDomain({
      virsh, events, clock, files, log: ports.logger,
      domainXml: f.xmlPath, stateDir: join(dir, 'state'), su: 'SU_1', comp: name,
      instantiateTimeoutMs: 60_000, shutdownTimeoutMs: 2000, pollMs: 50, label: `component ${name}`,
      ...extra,
    });
  };

  /** A started, monitored domain and the deaths it reports. */
  const monitored = async (name: string): Promise<{ d: VmDomain; deaths: string[] }> => {
    const d = domain(name);
    assert.ok((await d.instantiate()).ok);
    const deaths: string[] = [];
    d.monitor((r) => deaths.push(r));
    await until('the event stream', 10_000, () => events.up);
    return { d, deaths };
  };

  it('instantiate creates and records it; a second instantiate (amfd restarted) adopts it, never starts two', async () => {
    const d = domain('vmd-a');
    assert.deepEqual(await d.instantiate(), { ok: true, value: 'created' });
    const state = JSON.parse(readFileSync(d.statePath, 'utf8'));
    assert.equal(state.domain, 'vmd-a');
    assert.match(state.uuid, /^[0-9a-f-]{36}$/);
    const restarted = domain('vmd-a');
    assert.deepEqual(await restarted.instantiate(), { ok: true, value: 'adopted' });
    assert.deepEqual(daemon.domains(), ['vmd-a']);
    assert.deepEqual(await restarted.cleanup(), { ok: true, value: undefined });
    assert.deepEqual(daemon.domains(), []);
    assert.equal(existsSync(d.statePath), false);
    assert.deepEqual(await restarted.cleanup(), { ok: true, value: undefined }, 'cleanup of a domain already gone is success');
  });

  it('monitor: a virsh destroy behind its back is reported at once from the libvirt event; the cleanup after it runs no virsh', async () => {
    const { d, deaths } = await monitored('vmd-b');
    const uuid = d.readState()?.uuid;
    await new Promise((r) => setTimeout(r, 600)); // past the stream's settle resync
    assert.equal(daemon.virsh('destroy', 'vmd-b').status, 0);
    const t0 = Date.now();
    await until('the death report', 10_000, () => deaths.length > 0);
    console.log(`# destroy behind amfd's back reported ${Date.now() - t0} ms after virsh destroy returned: ${deaths[0]}`);
    assert.deepEqual(deaths, ["domain 'vmd-b': libvirt reported Stopped Destroyed"]);
    assert.ok(uuid !== undefined && d.endedUuid === uuid, 'monitoring saw it leave libvirt');
    // A virsh that cannot connect: the cleanup's result shows it was not needed.
    const unreachable = new Virsh({ processes: runner, log: ports.logger, virsh: 'virsh', uri: `qemu+unix:///system?socket=${join(dir, 'no-sock')}`, env: { PATH }, timeoutMs: 30_000, killGraceMs: 500, label: 'component vmd-b' });
    const after = domain('vmd-b', { virsh: unreachable });
    assert.deepEqual(await after.cleanup(d.endedUuid), { ok: true, value: undefined });
    assert.equal(after.readState(), undefined, 'its state file is gone');
  });

  it('monitor: the event stream is restarted when it dies; while it is down, domstate polling sees the domain go', async () => {
    const { deaths } = await monitored('vmd-c');
    process.kill(events.streamPid ?? -1, 'SIGKILL');
    await until('the stream to be seen down', 10_000, () => !events.up);
    await until('the stream restarted', 10_000, () => events.up);
    process.kill(events.streamPid ?? -1, 'SIGKILL');
    await until('the stream to be seen down again', 10_000, () => !events.up);
    assert.equal(daemon.virsh('destroy', 'vmd-c').status, 0);
    await until('the death report', 20_000, () => deaths.length > 0);
    assert.match(deaths[0] ?? '', /^domain 'vmd-c': (libvirt no longer knows it|libvirt reported Stopped Destroyed)$/);
    await until('no event child once nothing is watched', 10_000, () => !events.up);
  });

  it('terminate of a guest that ignores ACPI: shutdown, the shutdown timeout, then destroy', async () => {
    const d = domain('vmd-d', { shutdownTimeoutMs: 1500 }, { hostRoot: false, acpi: false });
    assert.ok((await d.instantiate()).ok);
    const t0 = Date.now();
    assert.deepEqual(await d.terminate(), { ok: true, value: undefined });
    assert.ok(Date.now() - t0 >= 1500, 'destroy only after the shutdown timeout');
    assert.deepEqual(daemon.domains(), []);
  });

  it('terminate of a booted guest that answers ACPI: it powers off by itself, no destroy', async () => {
    const name = 'vmd-e';
    const d = domain(name, { shutdownTimeoutMs: 120_000 }, { hostRoot: false });
    assert.ok((await d.instantiate()).ok);
    await waitConsole({ xmlPath: '', consolePath: join(dir, 'vm', `${name}.console`), channels: {} }, READY, 240_000);
    // acpid starts right after the ready line's devices: give it a moment.
    await new Promise((r) => setTimeout(r, 1000));
    const seen: string[] = [];
    const s = virsh.events((l) => l.ok && l.value.kind === 'lifecycle' && l.value.domain === name && seen.push(`${l.value.event} ${l.value.detail}`));
    assert.ok(s.ok);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await d.terminate(), { ok: true, value: undefined });
    assert.deepEqual(daemon.domains(), []);
    await until('the stop event', 10_000, () => seen.some((e) => e.startsWith('Stopped')));
    s.value.stop();
    assert.ok(seen.includes('Stopped Shutdown') && !seen.includes('Stopped Destroyed'), `powered off by the guest, not destroyed: ${seen.join(', ')}`);
  });

  it('a same-named domain amfd did not create: refused (no retry), named, and left alone by cleanup', async () => {
    const stranger = writeDomain({ name: 'vmd-f', guest: guest(), dir: join(dir, 'other'), hostRoot: false });
    assert.equal(daemon.virsh('create', stranger.xmlPath).status, 0);
    const d = domain('vmd-f');
    const r = await d.instantiate();
    assert.ok(!r.ok && r.error.noRetry);
    assert.match(r.error.reason, /^component vmd-f: a domain named 'vmd-f' \(domain XML .*vmd-f\.xml\) already runs on qemu\+unix.* amfd did not create it for this component/);
    assert.deepEqual(await d.cleanup(), { ok: true, value: undefined });
    assert.deepEqual(daemon.domains(), ['vmd-f'], 'the stranger still runs');
    daemon.virsh('destroy', 'vmd-f');
  });

  it('bad XML: missing, without <name>, broken: errors name the component and the file; nothing starts', async () => {
    const bad = join(dir, 'bad');
    rmSync(bad, { recursive: true, force: true });
    const mk = (file: string, text?: string): VmDomain => {
      if (text !== undefined) {
        writeFileSync(join(dir, 'bad-' + file), text);
      }
      return new VmDomain({ virsh, events, clock, files, log: ports.logger, domainXml: join(dir, 'bad-' + file), stateDir: join(dir, 'state'), su: 'SU_1', comp: file, instantiateTimeoutMs: 5000, shutdownTimeoutMs: 1000, pollMs: 50, label: `component ${file}` });
    };
    const missing = await mk('absent.xml').instantiate();
    assert.ok(!missing.ok && missing.error.noRetry && /^component absent\.xml: domain XML .*bad-absent\.xml: not-found$/.test(missing.error.reason), JSON.stringify(missing));
    const noname = await mk('noname.xml', "<domain type='qemu'><memory>1</memory></domain>").instantiate();
    assert.ok(!noname.ok && /bad-noname\.xml: no <name> in <domain>$/.test(noname.error.reason), JSON.stringify(noname));
    const broken = await mk('broken.xml', "<domain type='qemu'><name>vmd-g</name><memory>1</memory").instantiate();
    assert.ok(!broken.ok && !broken.error.noRetry && /bad-broken\.xml/.test(broken.error.reason) && /Failed to create domain/.test(broken.error.reason), JSON.stringify(broken));
    assert.deepEqual(daemon.domains(), []);
  });

  it('libvirtd down (nothing listens on the URI): instantiate fails naming the component, its XML and the URI, worth a retry; nothing recorded, stops are no-ops', async () => {
    const down = `qemu+unix:///system?socket=${join(dir, 'no-such-sock')}`;
    const v = new Virsh({ processes: runner, log: ports.logger, virsh: 'virsh', uri: down, env: { PATH }, timeoutMs: 30_000, killGraceMs: 500, label: 'component vmd-down (domain XML vmd-down.xml)' });
    const d = domain('vmd-down', { virsh: v, label: 'component vmd-down (domain XML vmd-down.xml)' });
    const r = await d.instantiate();
    assert.ok(!r.ok && !r.error.noRetry, JSON.stringify(r));
    assert.match(r.error.reason, /^component vmd-down \(domain XML vmd-down\.xml\): virsh -c qemu\+unix:\/\/\/system\?socket=.*no-such-sock dominfo vmd-down: .*(Failed to connect|no-such-sock)/);
    assert.equal(d.readState(), undefined, 'no state file: nothing of it runs');
    assert.deepEqual(await d.cleanup(), { ok: true, value: undefined });
    assert.deepEqual(await d.terminate(), { ok: true, value: undefined });
    // After its migration, a domain that is not at the destination is a failure there, never a start.
    const adopt = await domain('vmd-adopt').instantiate('00000000-0000-4000-8000-000000000000');
    assert.ok(!adopt.ok && adopt.error.noRetry && /after its migration to .*, domain 'vmd-adopt' \(UUID 0{8}-.*\): is not there$/.test(adopt.error.reason), JSON.stringify(adopt));
    assert.deepEqual(daemon.domains(), []);
  });
});
