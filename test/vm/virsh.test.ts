import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { NodeProcessRunner } from '../../src/runtime/node/process.js';
import type { EventLine } from '../../src/vm/parse.js';
import { Virsh } from '../../src/vm/virsh.js';
import type { Result } from '../../src/util/result.js';
import { quietPorts } from '../runtime/node-fixtures.js';
import { ensureGuest, libvirtdMissing, TestLibvirtd, writeDomain, type Guest } from './harness/index.js';

const PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const LABEL = 'component safComp=vm,safSu=SU_1 (domain XML /etc/amfd/vm.xml)';
const ports = quietPorts();
const runner = new NodeProcessRunner(ports);

function virsh(uri: string, program = 'virsh', timeoutMs = 30_000): Virsh {
  return new Virsh({ processes: runner, log: ports.logger, virsh: program, uri, env: { PATH }, timeoutMs, killGraceMs: 200, label: LABEL });
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

const hasVirsh = libvirtdMissing() === undefined || runner.spawn({ argv: ['virsh', '--version'], env: { PATH } }).ok;

describe('virsh layer against libvirt test:///default', { skip: hasVirsh ? false : 'virsh is not installed' }, () => {
  const v = virsh('test:///default');
  it('dominfo, domstate, list of the built-in domain', async () => {
    const info = await v.dominfo('test');
    assert.ok(info.ok, info.ok ? '' : info.error.message);
    assert.equal(info.value.state, 'running');
    assert.equal(info.value.persistent, true);
    assert.deepEqual(await v.domstate('test'), { ok: true, value: { state: 'running', reason: 'unknown' } });
    assert.deepEqual(await v.list(), { ok: true, value: [{ id: 1, name: 'test', state: 'running' }] });
  });
  it('a missing domain is no-domain for dominfo, destroy and shutdown, naming the component and file', async () => {
    for (const r of [await v.dominfo('nope'), await v.destroy('nope'), await v.shutdown('nope')]) {
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'no-domain');
      assert.ok(r.error.message.startsWith(`${LABEL}: virsh -c test:///default `), r.error.message);
    }
  });
  it('a broken XML, an XML without <name>, a missing file: create fails with libvirt saying why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'amfd-virsh-'));
    try {
      writeFileSync(join(dir, 'broken.xml'), '<domain><nam');
      writeFileSync(join(dir, 'noname.xml'), "<domain type='test'><memory>1024</memory></domain>");
      const broken = await v.create(join(dir, 'broken.xml'));
      assert.ok(!broken.ok && broken.error.kind === 'failed' && /broken\.xml.*Couldn't find end of Start Tag/.test(broken.error.message), JSON.stringify(broken));
      const noname = await v.create(join(dir, 'noname.xml'));
      assert.ok(!noname.ok && /missing name information/.test(noname.error.message), JSON.stringify(noname));
      const missing = await v.create(join(dir, 'absent.xml'));
      assert.ok(!missing.ok && /absent\.xml.*No such file/.test(missing.error.message), JSON.stringify(missing));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('virsh layer against scripted fakes', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'amfd-virsh-fake-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const fake = (name: string, body: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };

  it('a virsh that hangs is killed at the timeout with its whole process group', async () => {
    const pidfile = join(dir, 'child.pid');
    const v = virsh('qemu:///system', fake('hang', `sleep 300 & echo $! > ${pidfile}; sleep 300`), 300);
    const r = await v.dominfo('vm1');
    assert.ok(!r.ok && r.error.kind === 'timeout', JSON.stringify(r));
    assert.match(r.error.message, /^component safComp=vm,safSu=SU_1 \(domain XML \/etc\/amfd\/vm\.xml\): virsh -c qemu:\/\/\/system dominfo vm1: no answer within 300 ms; its process group was killed$/);
    const child = Number(readFileSync(pidfile, 'utf8'));
    for (let i = 0; i < 100 && alive(child); i++) await new Promise((res) => setTimeout(res, 20));
    assert.equal(alive(child), false, `the hung virsh's child ${child} survived`);
  });

  it('garbage output is an error value that quotes it; it never throws', async () => {
    const v = virsh('qemu:///system', fake('garbage', `printf 'hello\\n\\001\\002 <html>\\n'`));
    const info = await v.dominfo('vm1');
    assert.ok(!info.ok && info.error.kind === 'garbage', JSON.stringify(info));
    assert.match(info.error.message, /dominfo vm1: unreadable output \(no Name line\): hello/);
    const list = await v.list();
    assert.ok(!list.ok && list.error.kind === 'garbage');
    const state = await v.domstate('vm1');
    assert.ok(!state.ok && state.error.kind === 'garbage');
  });

  it('a virsh that is not there, or dies by a signal', async () => {
    const none = await virsh('qemu:///system', join(dir, 'absent')).dominfo('vm1');
    assert.ok(!none.ok && none.error.kind === 'spawn' && /cannot run .*absent: not-found/.test(none.error.message));
    const killed = await virsh('qemu:///system', fake('segv', 'kill -SEGV $$')).destroy('vm1');
    assert.ok(!killed.ok && killed.error.kind === 'failed' && /killed by SIGSEGV/.test(killed.error.message), JSON.stringify(killed));
  });

  it('the event stream parses lines as they come, reports garbage lines, and says why it ended', async () => {
    const v = virsh('qemu:///system', fake('events', `echo "event 'lifecycle' for domain 'a': Started Booted"; sleep 0.2; echo 'junk'; echo "event 'lifecycle' for domain 'a': Stopped Destroyed"; echo 'error: disconnected' >&2; exit 1`));
    const lines: Result<EventLine, string>[] = [];
    const s = v.events((l) => lines.push(l));
    assert.ok(s.ok);
    assert.equal(await s.value.exited, 'exit 1: error: disconnected');
    assert.deepEqual(lines, [
      { ok: true, value: { kind: 'lifecycle', domain: 'a', event: 'Started', detail: 'Booted' } },
      { ok: false, error: 'not an event line: "junk"' },
      { ok: true, value: { kind: 'lifecycle', domain: 'a', event: 'Stopped', detail: 'Destroyed' } },
    ]);
  });
});

const noDaemon = libvirtdMissing();
const built = noDaemon === undefined ? ensureGuest() : undefined;
const noGuest = noDaemon ?? (built && 'reason' in built ? built.reason : undefined);
test('virsh layer against a real libvirtd + QEMU: create, dominfo, list, events, destroy, name clash', { skip: noGuest ?? false }, async () => {
  const guest = (built as { guest: Guest }).guest;
  const dir = mkdtempSync(join(tmpdir(), 'amfd-virsh-real-'));
  const daemon = await TestLibvirtd.start({ dir });
  try {
    const v = virsh(daemon.uri);
    const lines: Extract<EventLine, { kind: 'lifecycle' }>[] = [];
    const s = v.events((l) => l.ok && l.value.kind === 'lifecycle' && lines.push(l.value));
    assert.ok(s.ok);
    const files = writeDomain({ name: 'vl1', guest, dir: join(dir, 'vm'), hostRoot: false });
    const created = await v.create(files.xmlPath);
    assert.ok(created.ok, created.ok ? '' : created.error.message);
    const info = await v.dominfo('vl1');
    assert.ok(info.ok && info.value.state === 'running' && info.value.persistent === false && info.value.id !== undefined, JSON.stringify(info));
    const listed = await v.list();
    assert.ok(listed.ok && listed.value.some((d) => d.name === 'vl1' && d.state === 'running'));
    const clash = await v.create(files.xmlPath);
    assert.ok(!clash.ok && clash.error.kind === 'exists', JSON.stringify(clash));
    assert.deepEqual(await v.destroy('vl1'), { ok: true, value: undefined });
    const gone = await v.dominfo('vl1');
    assert.ok(!gone.ok && gone.error.kind === 'no-domain', JSON.stringify(gone));
    const again = await v.destroy('vl1');
    assert.ok(!again.ok && again.error.kind === 'no-domain');
    for (let i = 0; i < 200 && !lines.some((e) => e.event === 'Stopped'); i++) await new Promise((res) => setTimeout(res, 25));
    assert.deepEqual(
      lines.filter((e) => e.domain === 'vl1').map((e) => `${e.event} ${e.detail}`),
      ['Resumed Unpaused', 'Started Booted', 'Shutdown Finished after host request', 'Stopped Destroyed'],
    );
    s.value.stop();
    await s.value.exited;
  } finally {
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
