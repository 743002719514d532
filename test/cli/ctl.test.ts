import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { MemoryBackend, SAMPLE } from '../api/memory-backend.js';
import { TOKEN, startApi, type Running } from '../api/helpers.js';
import { ApiClient } from '../../src/cli/ctl/client.js';
import { EXIT } from '../../src/cli/ctl/exit.js';
import { processCtlIo, type CtlIo } from '../../src/cli/ctl/io.js';
import { showStatus, renderStatus, loadStatus, watchStatus } from '../../src/cli/ctl/status.js';
import { printEvents } from '../../src/cli/ctl/events.js';
import { admitNode, runAdmin, reportError } from '../../src/cli/ctl/admin.js';
import { applyFile } from '../../src/cli/config/apply.js';
import { editConfig, stripErrorHeader } from '../../src/cli/config/edit.js';
import { configCommand } from '../../src/cli/config/index.js';
import { CTL_COMMANDS } from '../../src/cli/ctl/index.js';

type TestIo = CtlIo & { out: string; err: string; files: Record<string, string> };

/** Output captured, local files in memory (the editor and temp files are real), env given. */
function testIo(api: Running | null, env: Record<string, string> = {}, files: Record<string, string> = {}): TestIo {
  const real = processCtlIo(undefined, { AMFCTL_TOKEN: TOKEN, ...(api ? { AMFCTL_ADDR: api.base } : {}), ...env });
  const io: TestIo = {
    ...real,
    interactive: false,
    out: '',
    err: '',
    files: { ...files },
    stdout: (t) => void (io.out += t),
    stderr: (t) => void (io.err += t),
    readFile: async (p) => {
      const t = io.files[p];
      if (t !== undefined) return t;
      return readFileSync(p, 'utf8');
    },
    writeFile: async (p, t) => {
      if (p in io.files) io.files[p] = t;
      else writeFileSync(p, t);
    },
  };
  return io;
}

async function client(io: CtlIo): Promise<ApiClient> {
  const c = await ApiClient.create({}, io);
  assert.ok(c.ok);
  return c.value;
}

async function withApi(fn: (api: Running, b: MemoryBackend) => Promise<void>, text?: string): Promise<void> {
  const b = new MemoryBackend(text);
  const api = await startApi(b);
  try {
    await fn(api, b);
  } finally {
    await api.close();
  }
}

test('config edit: EDITOR script saves an invalid config first, sees the errors as comments at the right lines, fixes it; the change is applied with the epoch check', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amfctl-edit-test-'));
  try {
    await withApi(async (api, b) => {
      const editor = join(dir, 'editor.sh');
      writeFileSync(
        editor,
        `#!/bin/sh
n=$(cat "${dir}/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${dir}/count"
cp "$1" "${dir}/seen.$n"
case $n in
1) sed -i 's/rank = 2/rank = high/' "$1" ;;
2) sed -i -e 's/rank = high/rank = 2/' -e 's/node = n2/node = n3/' "$1" ;;
esac
`,
        { mode: 0o755 },
      );
      const io = testIo(api, { EDITOR: editor });
      const code = await editConfig(await client(io), true, io);
      assert.equal(code, EXIT.ok, io.err);
      assert.equal(readFileSync(join(dir, 'count'), 'utf8').trim(), '2');
      // The second round shows the error on the line where the editor has it.
      const second = readFileSync(join(dir, 'seen.2'), 'utf8');
      assert.match(second, /^# amfctl: this config is not valid/);
      const badLine = second.split('\n').findIndex((l) => l.includes('rank = high')) + 1;
      assert.match(second, new RegExp(`# amfctl: {3}\\S+groups\\.conf:${badLine}:\\d+: .*rank`));
      assert.equal(stripErrorHeader(second), SAMPLE.replace('rank = 2', 'rank = high'));
      assert.match(io.err, /1 error in the edited config; reopening the editor/);
      assert.match(io.out, /Changes:\n {2}SU_2 modify: node changed :: "n2" -> "n3"\n/);
      assert.match(io.out, /Plan:\n/);
      assert.match(io.out, /applied: config epoch 2/);
      assert.equal(b.epoch, 2);
      assert.equal(b.text, SAMPLE.replace('node = n2', 'node = n3'));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config edit: unchanged means cancelled; an error left unfixed gives up and keeps the copy; no --yes without a terminal applies nothing', async () => {
  await withApi(async (api, b) => {
    const io = testIo(api, { EDITOR: 'true' });
    assert.equal(await editConfig(await client(io), false, io), EXIT.ok);
    assert.match(io.out, /edit cancelled, no changes made/);

    const dir = mkdtempSync(join(tmpdir(), 'amfctl-edit-test-'));
    try {
      // Breaks the file the first time, then saves whatever it is shown unchanged.
      const editor = join(dir, 'editor.sh');
      writeFileSync(editor, `#!/bin/sh\n[ -e "${dir}/once" ] || { touch "${dir}/once"; sed -i 's/model = 2n/modle = 2n/' "$1"; }\n`, { mode: 0o755 });
      const io2 = testIo(api, { EDITOR: editor });
      assert.equal(await editConfig(await client(io2), false, io2), EXIT.aborted);
      const kept = /kept at (\S+)/.exec(io2.err)?.[1];
      assert.ok(kept && existsSync(kept), io2.err);
      rmSync(join(kept, '..'), { recursive: true, force: true });

      const editor3 = join(dir, 'editor3.sh');
      writeFileSync(editor3, `#!/bin/sh\nsed -i 's/node = n2/node = n3/' "$1"\n`, { mode: 0o755 });
      const io3 = testIo(api, { EDITOR: editor3 });
      assert.equal(await editConfig(await client(io3), false, io3), EXIT.aborted);
      assert.match(io3.err, /add --yes/);
      const kept3 = /kept at (\S+)/.exec(io3.err)?.[1];
      if (kept3) rmSync(join(kept3, '..'), { recursive: true, force: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(b.epoch, 1);
    assert.equal(b.mutations, 0);
  });
});

test('config edit: an editor that deletes the copy ends with a clear message and leaves no temp dir behind', async () => {
  await withApi(async (api, b) => {
    const dir = mkdtempSync(join(tmpdir(), 'amfctl-edit-test-'));
    try {
      const editor = join(dir, 'editor.sh');
      writeFileSync(editor, `#!/bin/sh\necho "$1" > "${dir}/path"\nrm "$1"\n`, { mode: 0o755 });
      const io = testIo(api, { EDITOR: editor });
      assert.equal(await editConfig(await client(io), true, io), EXIT.usage);
      assert.match(io.err, /amfctl: the edited copy could not be handled \(ENOENT.*\); nothing was applied/);
      const copy = readFileSync(join(dir, 'path'), 'utf8').trim();
      assert.ok(!existsSync(join(copy, '..')), `temp dir ${join(copy, '..')} left behind`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(b.mutations, 0);
  });
});

test('config apply: local errors located; --plan changes nothing; a stale epoch is refused with a clear message; --yes applies', async () => {
  await withApi(async (api, b) => {
    const moved = SAMPLE.replace('node = n2', 'node = n3');
    const io = testIo(api, {}, { 'bad.conf': SAMPLE.replace('model = 2n', 'modle = 2n'), 'new.conf': moved, 'other.conf': SAMPLE.replace('rank = 2', 'rank = 5') });
    const c = await client(io);
    assert.equal(await applyFile(c, 'bad.conf', { plan: false, yes: true }, io), EXIT.refused);
    assert.match(io.err, /bad\.conf:12:2: unknown key "modle" in group; did you mean "model"\?/);
    assert.equal(await applyFile(c, 'missing.conf', { plan: false, yes: true }, io), 2);

    io.out = '';
    assert.equal(await applyFile(c, 'new.conf', { plan: true, yes: false }, io), EXIT.ok);
    assert.match(io.out, /SU_2 modify: node changed :: "n2" -> "n3"/);
    assert.equal(b.epoch, 1);

    // Someone else applies a change after we read epoch 1.
    assert.equal(await applyFile(c, 'other.conf', { plan: false, yes: true }, io), EXIT.ok);
    assert.equal(b.epoch, 2);
    io.err = '';
    assert.equal(await applyFile(c, 'new.conf', { plan: false, yes: true, epoch: 1 }, io), EXIT.conflict);
    assert.match(io.err, /the config changed since you read it \(epoch 1, now epoch 2\); nothing was applied\. Run `amfctl config show`/);
    assert.equal(b.text, SAMPLE.replace('rank = 2', 'rank = 5'));

    // Through commander: `amfctl config apply new.conf --yes`.
    let code = -1;
    await configCommand(io, (x) => (code = x)).parseAsync(['apply', 'new.conf', '--yes'], { from: 'user' });
    assert.equal(code, EXIT.ok, io.err);
    assert.equal(b.epoch, 3);
    assert.match(b.text, /node = n3/);
  });
});

test('status --json matches /v1/groups; the screen shows nodes, SUs, components, SIs and recent failures', async () => {
  await withApi(async (api, b) => {
    b.failComponent('SU_1', 'httpd');
    const io = testIo(api);
    assert.equal(await showStatus(await client(io), true, io), EXIT.ok);
    const parsed = JSON.parse(io.out) as { groups: unknown; nodes: unknown };
    const groups = (await (await api.req('/v1/groups')).json()) as { groups: unknown };
    assert.deepEqual(parsed.groups, groups.groups);
    const nodes = (await (await api.req('/v1/nodes')).json()) as { nodes: unknown };
    assert.deepEqual(parsed.nodes, nodes.nodes);

    const s = await loadStatus(await client(io));
    assert.ok(s.ok);
    const screen = renderStatus(s.value);
    assert.match(screen, /amfd on n1: raft leader, term 3, leader n1, config epoch 1/);
    assert.match(screen, /Nodes: 3 of 3 up/);
    assert.match(screen, /n1\* +up +unlocked +enabled +SU_1/);
    assert.match(screen, /Group web \(2n, unlocked\)/);
    assert.match(screen, /SU_1 +on n1 +in-service +instantiated +unlocked +enabled +SI_web:active/);
    assert.match(screen, /httpd +instantiated +enabled/);
    assert.match(screen, /SI_web +fully-assigned +unlocked +SU_1@n1 active, SU_2@n2 standby/);
    assert.match(screen, /Recent failures and escalations:\n {2}\[2026-11-22T10:00:00\.\d{3}Z\] SU_1\/httpd escalation: recovery added :: null -> "component-restart L0: healthcheck: healthcheck missed/);
  });
});

test('status: a server group with its members, where each runs and its channel as the answering node holds it', async () => {
  const sg = 'server_group {\n\tname = pair\n\tpolicy = anti-affinity\n\tmember {\n\t\tunit = SU_1\n\t\tcomponent = httpd\n\t\tchannel = /run/sg1.sock\n\t\tinstance = instance-1\n\t}\n\tmember {\n\t\tunit = SU_2\n\t\tcomponent = httpd\n\t\tchannel = /run/sg2.sock\n\t}\n}\n';
  await withApi(async (api) => {
    const io = testIo(api);
    const s = await loadStatus(await client(io));
    assert.ok(s.ok);
    assert.deepEqual(s.value.serverGroups.map((g) => [g.name, g.members.map((m) => m.instance)]), [['pair', ['instance-1', 'SU_2']]]);
    const screen = renderStatus(s.value);
    assert.match(screen, /Server group pair \(anti-affinity\)\n {2}instance-1 +SU_1\/httpd +on n1 +active +active +channel -\n {2}SU_2 +SU_2\/httpd +on n2 +active +standby +channel on n2\n/);
  }, SAMPLE + sg);
});

test('status --watch repaints when something changes', async () => {
  await withApi(async (api, b) => {
    const io = testIo(api);
    const ac = new AbortController();
    const watching = watchStatus(await client(io), io, ac.signal, 10);
    const until = async (re: RegExp) => {
      for (let i = 0; i < 500 && !re.test(io.out); i++) await new Promise((r) => setTimeout(r, 10));
      assert.match(io.out, re);
    };
    await until(/Nodes: 3 of 3 up/);
    b.nodeDown('n1');
    await until(/Nodes: 2 of 3 up/);
    ac.abort();
    assert.equal(await watching, EXIT.ok);
    assert.ok(io.out.split('\x1b[H\x1b[2J').length >= 3, 'at least two paints');
  });
});

test('events: vminfod lines and JSON lines; --since resumes exactly after the given event', async () => {
  await withApi(async (api, b) => {
    const io = testIo(api);
    const c = await client(io);
    b.failComponent('SU_1', 'httpd');
    assert.equal(await printEvents(c, { since: 0, json: false, follow: false }, io), EXIT.ok);
    const lines = io.out.trimEnd().split('\n');
    assert.equal(lines.length, b.lastSeq);
    assert.match(io.out, /^\[2026-11-22T10:00:00\.001Z\] n1 membership: incarnation added :: null -> "i1 \(joined\)"$/m);
    assert.match(io.out, /^\[2026-11-22T10:00:00\.\d{3}Z\] SU_1\/httpd modify: presence changed :: "instantiated" -> "restarting"$/m);
    io.out = '';
    assert.equal(await printEvents(c, { since: 10, json: true, follow: false }, io), EXIT.ok);
    const seqs = io.out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq);
    assert.deepEqual(seqs, Array.from({ length: b.lastSeq - 10 }, (_, i) => 11 + i));

    // Following: new events arrive until interrupted.
    io.out = '';
    const ac = new AbortController();
    const following = printEvents(c, { since: null, json: false, follow: true }, io, ac.signal);
    await new Promise((r) => setTimeout(r, 50));
    await runAdmin(c, 'lock', 'SU_2', testIo(api));
    for (let i = 0; i < 300 && !/SU_2 admin/.test(io.out); i++) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    assert.equal(await following, EXIT.ok);
    assert.match(io.out, /SU_2 admin: op added :: null -> "lock"/);
  });
});

test('admin and report-error: bare names resolved, kinds when ambiguous, errors say what to do next', async () => {
  await withApi(async (api, b) => {
    const io = testIo(api);
    const c = await client(io);
    assert.equal(await runAdmin(c, 'lock', 'SU_2', io), EXIT.ok);
    assert.match(io.out, /lock su SU_2: done/);
    assert.equal(b.h.state.sus['SU_2']!.admin, 'locked');
    assert.equal(await runAdmin(c, 'lock', 'su/SU_2', io), EXIT.refused);
    assert.match(io.err, /amfctl: /);
    assert.equal(await runAdmin(c, 'unlock', 'nothing', io), EXIT.refused);
    assert.match(io.err, /no node, group, SU or SI is named nothing; amfctl status lists them/);
    assert.equal(await runAdmin(c, 'lock', 'cluster/x', io), EXIT.usage);
    assert.equal(await reportError(c, 'SU_1/httpd', 'component-restart', 'test', io), EXIT.ok);
    assert.ok(b.h.state.sus['SU_1']!.escalation.compRestarts >= 1);
    assert.equal(await reportError(c, 'httpd', 'component-restart', 'test', io), EXIT.usage);
    assert.match(io.err, /name the component as SU\/component/);
    assert.equal(await admitNode(c, 'n9', 'nonvoter', io), EXIT.ok);
    assert.match(io.out, /n9: admitted as a nonvoter/);
    assert.equal(b.admitted.get('n9'), 'nonvoter');

    // Commander wiring: an unknown op is refused before any request.
    const root = new Command('amfctl').exitOverride();
    let code = -1;
    for (const make of CTL_COMMANDS) root.addCommand(make(io, (x) => (code = x)).exitOverride());
    await assert.rejects(root.parseAsync(['admin', 'explode', 'SU_1'], { from: 'user' }), /one of lock, unlock/);
    await root.parseAsync(['admin', 'unlock', 'su/SU_2'], { from: 'user' });
    assert.equal(code, EXIT.ok);

    // migrate: the destination is required and only for it; the engine's refusal is printed.
    assert.equal(await runAdmin(c, 'migrate', 'SU_2', io), EXIT.usage);
    assert.match(io.err, /migrate needs the destination: amfctl admin migrate SU --to NODE/);
    assert.equal(await runAdmin(c, 'lock', 'SU_2', io, { to: 'n1' }), EXIT.usage);
    assert.match(io.err, /--to is for migrate only, not lock/);
    await root.parseAsync(['admin', 'migrate', 'SU_2', '--to', 'n1'], { from: 'user' });
    assert.equal(code, EXIT.refused);
    assert.match(io.err, /migrate on SU SU_2 refused: the SU may run only on n2, not on n1/);
  });
});

test('connection failures: wrong token exits 4, no node exits 3, each with what to do next', async () => {
  await withApi(async (api) => {
    const io = testIo(api, { AMFCTL_TOKEN: 'wrong' });
    assert.equal(await showStatus(await client(io), false, io), EXIT.unauthorized);
    assert.match(io.err, /wrong bearer token.*--token-file/);
  });
  const io = testIo(null, { AMFCTL_ADDR: '127.0.0.1:1' });
  assert.equal(await showStatus(await client(io), false, io), EXIT.unreachable);
  assert.match(io.err, /cannot reach amfd at 127\.0\.0\.1:1 .*--addr or AMFCTL_ADDR/);
  const noToken = testIo(null, { AMFCTL_TOKEN_FILE: '/nonexistent/token' });
  const env = { ...noToken.env };
  delete (env as Record<string, unknown>)['AMFCTL_TOKEN'];
  const c = await ApiClient.create({}, { ...noToken, env });
  assert.ok(!c.ok);
  assert.match(c.error.message, /cannot read the API token from \/nonexistent\/token .*AMFCTL_TOKEN/);
});

test('status: with an event ring shorter than its lookback, recent failures come from the oldest kept event', async () => {
  const b = new MemoryBackend(SAMPLE, 10);
  b.failComponent('SU_1', 'httpd');
  assert.ok(b.changes.records[0]!.seq > 1, 'the ring has dropped old events');
  const api = await startApi(b);
  try {
    const io = testIo(api);
    const s = await loadStatus(await client(io));
    assert.ok(s.ok);
    assert.ok(s.value.recent.some((e) => e.entity === 'comp/SU_1/httpd' && e.kind === 'escalation'));
  } finally {
    await api.close();
  }
});

test('admin waits until the operation has taken effect: progress printed, a hang times out with what it waits for (exit 7), --no-wait returns at once, --json', async () => {
  await withApi(async (api, b) => {
    const io = testIo(api);
    const c = await client(io);
    // The active's component never confirms its quiescing: the shutdown cannot complete.
    b.h.script.hang.add('SU_1/httpd');
    assert.equal(await runAdmin(c, 'shutdown', 'SU_1', io, { timeoutMs: 300, pollMs: 20 }), EXIT.failed);
    assert.match(io.out, /shutdown su SU_1: committed; waiting until it has taken effect/);
    assert.match(io.out, /SU_1 /, 'the SU moving is printed');
    assert.match(io.err, /shutdown su SU_1 has not taken effect after 0 s; still waiting for: .*SU_1 is quiescing SI_web/);
    b.h.release('SU_1/httpd');
    io.out = '';
    io.err = '';
    assert.equal(await runAdmin(c, 'unlock', 'SU_1', io, { json: true, pollMs: 20 }), EXIT.ok);
    const out = JSON.parse(io.out.trim()) as { state: string; op: string; kind: string; name: string; events: unknown[] };
    assert.deepEqual([out.state, out.op, out.kind, out.name], ['done', 'unlock', 'su', 'SU_1']);
    assert.ok(out.events.length > 0);
    io.out = '';
    assert.equal(await runAdmin(c, 'lock', 'SU_2', io, { wait: false }), EXIT.ok);
    assert.match(io.out, /lock su SU_2: committed \(not waiting\)/);
    // A failure: the SU cannot be instantiated again after a restart.
    b.h.script.failInstantiate.set('SU_2/httpd', 100);
    assert.equal(await runAdmin(c, 'unlock', 'SU_2', io, { pollMs: 20 }), EXIT.ok);
    io.err = '';
    assert.equal(await runAdmin(c, 'restart', 'SU_2', io, { pollMs: 20, timeoutMs: 5000 }), EXIT.failed);
    assert.match(io.err, /restart su SU_2 failed: (SU SU_2 is disabled|component SU_2\/httpd is instantiation-failed)/);
    // A refusal in JSON.
    io.out = '';
    assert.equal(await runAdmin(c, 'restart', 'SU_2', io, { json: true }), EXIT.refused);
    assert.equal((JSON.parse(io.out.trim()) as { state: string }).state, 'refused');
  });
});

test('admin restart of a component: SU/component as report-error names it; the API path /v1/admin/comp/SU/COMP/restart', async () => {
  await withApi(async (api, b) => {
    const io = testIo(api);
    const c = await client(io);
    const before = b.h.state.sus['SU_1']!.comps['httpd']!.attempt;
    assert.equal(await runAdmin(c, 'restart', 'SU_1/httpd', io, { pollMs: 20 }), EXIT.ok, io.err);
    assert.match(io.out, /restart comp SU_1\/httpd: done/);
    assert.ok(b.h.state.sus['SU_1']!.comps['httpd']!.attempt > before || b.h.state.sus['SU_1']!.comps['httpd']!.presence === 'instantiated');
    assert.equal(await runAdmin(c, 'lock', 'SU_1/httpd', io), EXIT.refused);
    assert.match(io.err, /only restart applies to a component/);
    assert.equal(await runAdmin(c, 'restart', 'nope/httpd', io), EXIT.usage);
    assert.match(io.err, /"nope" is neither an entity kind .* nor an SU/);
    assert.equal(await runAdmin(c, 'restart', 'SU_1/nope', io), EXIT.refused);
    assert.match(io.err, /no component SU_1\/nope/);
    const p = await c.get<{ state: string }>('/v1/admin/comp/SU_1/httpd/restart');
    assert.ok(p.ok && p.value.body.state === 'done');
  });
});

test('amfctl --help of admin says which entity kinds each operation takes', () => {
  const io = testIo(null);
  const admin = CTL_COMMANDS.map((make) => make(io, () => undefined)).find((x) => x.name() === 'admin')!;
  let help = '';
  admin.configureOutput({ writeOut: (s) => void (help += s) });
  admin.outputHelp();
  assert.match(help, /lock, unlock, shutdown\s+node, sg, su, si/);
  assert.match(help, /restart\s+su, component \(SU\/component\)/);
  assert.match(help, /--no-wait/);
  assert.match(help, /--json/);
});

test('config apply --json: one object with applied, epoch, changes and plan; without --yes it refuses to prompt; report-error --json', async () => {
  await withApi(async (api, b) => {
    const moved = SAMPLE.replace('node = n2', 'node = n3');
    const io = testIo(api, {}, { 'new.conf': moved });
    const c = await client(io);
    assert.equal(await applyFile(c, 'new.conf', { plan: true, yes: false, json: true }, io), EXIT.ok);
    const planned = JSON.parse(io.out.trim()) as { applied: boolean; epoch: number; changes: unknown[]; plan: unknown };
    assert.equal(planned.applied, false);
    assert.equal(planned.changes.length, 1);
    io.out = '';
    assert.equal(await applyFile(c, 'new.conf', { plan: false, yes: false, json: true }, io), EXIT.aborted);
    assert.match(io.err, /--json never prompts/);
    assert.equal(await applyFile(c, 'new.conf', { plan: false, yes: true, json: true }, io), EXIT.ok);
    assert.deepEqual((({ applied, epoch }) => ({ applied, epoch }))(JSON.parse(io.out.trim()) as { applied: boolean; epoch: number }), { applied: true, epoch: 2 });
    assert.equal(b.epoch, 2);
    io.out = '';
    assert.equal(await reportError(c, 'SU_1/httpd', 'component-restart', 'test', io, true), EXIT.ok);
    assert.deepEqual(JSON.parse(io.out.trim()), { component: 'SU_1/httpd', recovery: 'component-restart', reported: true });
  });
});

test('config edit without a terminal and without $VISUAL/$EDITOR refuses instead of opening vi', async () => {
  await withApi(async (api) => {
    const io = testIo(api);
    const env = { ...io.env };
    delete (env as Record<string, unknown>)['VISUAL'];
    delete (env as Record<string, unknown>)['EDITOR'];
    const bare = { ...io, env };
    assert.equal(await editConfig(await client(bare), false, bare), EXIT.usage);
    assert.match(io.err + bare.err, /config edit needs a terminal for vi/);
  });
});
