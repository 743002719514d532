/**
 * The API and amfctl against a real `amfd` process (single-node dev mode, bootstrap_expect 1) on
 * 127.0.0.1: every endpoint, a component's failure told in order by the event stream, ?since
 * resume, 401, refused bodies changing nothing, amfctl status/apply/admin; then a clean stop
 * with no process left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLines } from './helpers.js';
import type { GroupView } from '../../src/api/backend.js';
import { ApiClient } from '../../src/cli/ctl/client.js';
import { EXIT } from '../../src/cli/ctl/exit.js';
import { processCtlIo } from '../../src/cli/ctl/io.js';
import { showStatus } from '../../src/cli/ctl/status.js';
import { applyFile } from '../../src/cli/config/apply.js';
import { runAdmin } from '../../src/cli/ctl/admin.js';
import { freePort } from '../../scripts/local-cluster.js';
import { oneNode2nConf } from './helpers.js';

const root = new URL('../..', import.meta.url).pathname;
const TOKEN = 'daemon-test-token';

const groupsConf = (dir: string): string =>
  oneNode2nConf({
    group: 'web',
    si: 'web_si',
    csi: 'vip',
    type: 'web',
    body: (name) => `\t\t\tname = server\n\t\t\tcommand = /bin/sh -c "echo $$ > ${dir}/${name}.pid; exec sleep 600"\n\t\t\trecovery_on_error = component-restart\n`,
  });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until<T>(what: string | (() => string), f: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('real amfd: endpoints, failure story, resume, auth, refused bodies, amfctl, clean stop', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'amfd-api-daemon-'));
  writeFileSync(join(dir, 'groups.conf'), groupsConf(dir));
  const [swim, raft, rpc] = [await freePort(), await freePort(), await freePort()];
  const args = ['bin/amfd.js', '--node-name', 'n1', '--data-dir', join(dir, 'data'), '--swim-bind', `127.0.0.1:${swim}`, '--raft-bind', `127.0.0.1:${raft}`, '--rpc-bind', `127.0.0.1:${rpc}`, '--api-bind', '127.0.0.1:0', '--bootstrap-expect', '1', '--groups-conf', join(dir, 'groups.conf'), '--log-level', 'warn'];
  // Run in the temp dir so that the repository's conf/amfd.json is not read.
  const daemon = spawn(process.execPath, [join(root, 'bin/amfd.js'), ...args.slice(1)], { cwd: dir, env: { ...process.env, AMFD_API_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  daemon.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  daemon.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  try {
    const addrFile = join(dir, 'data', 'amfd.addr.json');
    const api = await until(() => `amfd to start (${stderr})`, () => (existsSync(addrFile) ? (JSON.parse(readFileSync(addrFile, 'utf8')) as { api: string }).api : undefined));
    const base = `http://${api}`;
    const req = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) } });
    const groups = async (): Promise<GroupView[]> => ((await (await req('/v1/groups')).json()) as { groups: GroupView[] }).groups;
    await until('web_si fully assigned', async () => ((await groups())[0]?.sis[0]?.assignment === 'fully-assigned' ? true : undefined));

    await t.test('every endpoint answers; 401 without the token', async () => {
      assert.deepEqual(await (await fetch(`${base}/ping`)).json(), { ping: 'pong' });
      for (const path of ['/status', '/metrics', '/v1/nodes', '/v1/groups', '/v1/groups/web', '/v1/sis/web_si', '/v1/config', '/v1/events']) {
        assert.equal((await fetch(`${base}${path}`)).status, 401, path);
      }
      const status = (await (await req('/status')).json()) as { node: string; raft: { role: string; leader: string }; configEpoch: number; pid: number };
      assert.equal(status.node, 'n1');
      assert.equal(status.raft.role, 'leader');
      assert.equal(status.configEpoch, 1);
      assert.equal(status.pid, daemon.pid);
      const nodes = ((await (await req('/v1/nodes')).json()) as { nodes: { name: string; up: boolean; leader: boolean }[] }).nodes;
      assert.deepEqual(nodes.map((n) => [n.name, n.up, n.leader]), [['n1', true, true]]);
      const web = (await (await req('/v1/groups/web')).json()) as GroupView;
      assert.deepEqual(web.units.map((u) => [u.name, u.readiness, u.assignments]), [['SU_1', 'in-service', [{ si: 'web_si', ha: 'active' }]], ['SU_2', 'in-service', [{ si: 'web_si', ha: 'standby' }]]]);
      assert.equal(((await (await req('/v1/sis/web_si')).json()) as { assignment: string }).assignment, 'fully-assigned');
      const cfg = await req('/v1/config?consistent');
      assert.equal(cfg.headers.get('etag'), '"1"');
      assert.equal(((await cfg.json()) as { text: string }).text, groupsConf(dir));
      const metrics = await (await req('/metrics')).text();
      assert.match(metrics, /amfd_api_requests_total/);
      assert.match(metrics, /raft/);
    });

    await t.test('bad JSON, wrong types, oversized bodies: 4xx with a clear message and no change', async () => {
      const put = (body: string) => req('/v1/config', { method: 'PUT', body, headers: { 'content-type': 'application/json', 'if-match': '1' } });
      for (const [body, status] of [['{"text":', 400], ['{"text": 1}', 400], [JSON.stringify({ text: 'x'.repeat(2 * 1024 * 1024) }), 413], [JSON.stringify({ text: 'group {' }), 422]] as const) {
        const res = await put(body);
        assert.equal(res.status, status, body.slice(0, 40));
        const e = ((await res.json()) as { error: { message: string } }).error;
        assert.ok(e.message.length > 20, e.message);
      }
      const admin = await req('/v1/admin/su/SU_1/explode', { method: 'POST' });
      assert.equal(admin.status, 400);
      assert.equal(((await (await req('/status')).json()) as { configEpoch: number }).configEpoch, 1);
    });

    await t.test('a component failure, told in order; ?since resumes without gaps or duplicates', async () => {
      const start = ((await (await req('/status')).json()) as { lastEventSeq: number }).lastEventSeq;
      const stream = await req(`/v1/events?since=${start}`);
      const pid = Number(readFileSync(join(dir, 'SU_1.pid'), 'utf8'));
      assert.ok(alive(pid));
      process.kill(pid, 'SIGKILL');
      const story = await readLines(stream, (l) => l['entity'] === 'comp/SU_1/server' && l['field'] === 'presence' && l['new'] === 'instantiated');
      const lines = story.filter((l) => 'seq' in l).map((l) => `${l['entity']} ${l['kind']} ${l['field']} ${String(l['old'])}->${String(l['new'])}`);
      const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
      const recovery = at(/^comp\/SU_1\/server escalation recovery null->component-restart/);
      const down = at(/^comp\/SU_1\/server modify presence instantiated->/);
      const up = at(/^comp\/SU_1\/server modify presence \S+->instantiated/);
      assert.ok(recovery >= 0 && down >= 0 && up > down, lines.join('\n'));
      const seqs = story.filter((l) => 'seq' in l).map((l) => l['seq'] as number);
      assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => start + 1 + i));

      // Resume: the first three events, then from the third on; equal to one read of all of them.
      const all = (await readLines(await req('/v1/events?since=0&follow=0'), () => false)).map((l) => l['seq']);
      const head = await readLines(await req('/v1/events?since=0'), (l) => l['seq'] === 3);
      const rest = await readLines(await req('/v1/events?since=3&follow=0'), () => false);
      assert.deepEqual([...head, ...rest].map((l) => l['seq']), all);
      assert.deepEqual(all, Array.from({ length: all.length }, (_, i) => i + 1));
    });

    await t.test('amfctl: status --json matches /v1/groups; a stale apply is refused; admin works', async () => {
      const out: string[] = [];
      const err: string[] = [];
      const io = { ...processCtlIo(undefined, { AMFCTL_ADDR: api, AMFCTL_TOKEN: TOKEN }), interactive: false, stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) };
      const c = await ApiClient.create({}, io);
      assert.ok(c.ok);
      await until('SU_1 back in service', async () => ((await groups())[0]?.units[0]?.readiness === 'in-service' ? true : undefined));
      assert.equal(await showStatus(c.value, true, io), EXIT.ok);
      assert.deepEqual((JSON.parse(out.join('')) as { groups: unknown }).groups, await groups());
      const file = join(dir, 'new.conf');
      writeFileSync(file, groupsConf(dir).replace('rank = 2', 'rank = 3'));
      assert.equal(await applyFile(c.value, file, { plan: false, yes: true, epoch: 0 }, io), EXIT.conflict);
      assert.match(err.join(''), /the config changed since you read it \(epoch 0, now epoch 1\)/);
      assert.equal(await applyFile(c.value, file, { plan: false, yes: true }, io), EXIT.ok, err.join(''));
      assert.equal(((await (await req('/status')).json()) as { configEpoch: number }).configEpoch, 2);
      assert.equal(await runAdmin(c.value, 'lock', 'SU_2', io), EXIT.ok, err.join(''));
      await until('SU_2 locked', async () => ((await groups())[0]?.units[1]?.admin === 'locked' ? true : undefined));
    });

    await t.test('amfctl binary: status screen, config edit with an EDITOR script (invalid first save), events', async () => {
      const run = (argv: string[], env: Record<string, string> = {}) =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          const p = spawn(process.execPath, [join(root, 'bin/amfctl.js'), ...argv], { cwd: dir, env: { ...process.env, AMFCTL_ADDR: api, AMFCTL_TOKEN: TOKEN, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          let err = '';
          p.stdout.on('data', (c: Buffer) => (out += c.toString()));
          p.stderr.on('data', (c: Buffer) => (err += c.toString()));
          p.once('exit', (code) => resolve({ code, out, err }));
        });
      const status = await run(['status']);
      assert.equal(status.code, 0, status.err);
      assert.match(status.out, /amfd on n1: raft leader/);
      assert.match(status.out, /Group web \(2n, unlocked\)/);
      assert.match(status.out, /Recent failures and escalations:\n.*SU_1\/server escalation: recovery added/);

      const editor = join(dir, 'editor.sh');
      writeFileSync(
        editor,
        `#!/bin/sh\nn=$(cat "${dir}/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${dir}/count"\ncase $n in\n1) sed -i 's/model = 2n/modle = 2n/' "$1" ;;\n2) grep -q '# amfctl:' "$1" && sed -i -e 's/modle = 2n/model = 2n/' -e 's/rank = 3/rank = 4/' "$1" ;;\nesac\n`,
        { mode: 0o755 },
      );
      const edit = await run(['config', 'edit', '--yes'], { EDITOR: editor });
      assert.equal(edit.code, 0, edit.err);
      assert.match(edit.err, /1 error in the edited config; reopening the editor/);
      assert.match(edit.out, /SU_2 modify: rank changed :: 3 -> 4/);
      assert.match(edit.out, /applied: config epoch 3/);

      const events = await run(['events', '--since', '0', '--no-follow']);
      assert.equal(events.code, 0, events.err);
      assert.match(events.out, /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] SU_1\/server modify: presence changed :: "instantiated" -> "restarting"$/m);
      assert.match(events.out, /^\[[^\]]+\] config modify: epoch changed :: "2" -> "3"$/m);

      const denied = await run(['ping'], { AMFCTL_TOKEN: 'wrong' });
      assert.equal(denied.code, 0, 'ping needs no token');
      const refused = await run(['members'], { AMFCTL_TOKEN: 'wrong' });
      assert.equal(refused.code, EXIT.unauthorized);
      assert.match(refused.err, /--token-file/);
    });

    const pids = ['SU_1', 'SU_2'].map((su) => Number(readFileSync(join(dir, `${su}.pid`), 'utf8')));
    await t.test('a hang-up is logged and ignored: amfd and its components run on', async () => {
      daemon.kill('SIGHUP');
      await until('the SIGHUP logged', () => (stdout.includes('SIGHUP ignored') ? true : undefined));
      assert.equal(daemon.exitCode, null);
      assert.deepEqual(await (await fetch(`${base}/ping`)).json(), { ping: 'pong' });
      assert.ok(pids.every(alive), 'components untouched');
    });
    daemon.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    await until('components stopped', () => (pids.every((p) => !alive(p)) ? true : undefined), 10_000);
  } finally {
    if (daemon.exitCode === null && daemon.signalCode === null) {
      daemon.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
