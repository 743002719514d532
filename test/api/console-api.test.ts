/**
 * What the API gained for the web console (docs/api.md, docs/web.md): the node views' lease and
 * Raft place, the last config change, admin dry runs, status lines in the event stream, and the
 * console's files under /ui/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLines, startApi } from './helpers.js';
import { MemoryBackend, SAMPLE } from './memory-backend.js';
import type { ConfigView, NodeView } from '../../src/api/backend.js';
import type { ConfigChangePlan } from '../../src/api/plan.js';
import { WebConsole } from '../../src/web/site.js';

const json = async (r: Response): Promise<Record<string, unknown>> => (await r.json()) as Record<string, unknown>;

test('nodes: lease held / expired, incarnation, since, Raft place', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b);
  try {
    b.nodeDown('n3');
    const nodes = (await json(await api.req('/v1/nodes')))['nodes'] as NodeView[];
    assert.deepEqual(nodes.map((n) => [n.name, n.up, n.lease, n.incarnation, n.raft]), [
      ['n1', true, 'held', 'i1', 'leader'],
      ['n2', true, 'held', 'i1', 'voter'],
      ['n3', false, 'expired', 'i1', 'voter'],
    ]);
    assert.ok(nodes.every((n) => n.since !== null && !Number.isNaN(Date.parse(n.since))));
  } finally {
    await api.close();
  }
});

test('config: lastChange is the epoch event and the semantic diff of the last committed change', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b);
  try {
    const changed = SAMPLE.replace('\t\tname = SU_2\n\t\tnode = n2\n\t\trank = 2', '\t\tname = SU_2\n\t\tnode = n2\n\t\trank = 3');
    const put = await api.req('/v1/config', { method: 'PUT', body: JSON.stringify({ text: changed }), headers: { 'content-type': 'application/json', 'if-match': '1' } });
    assert.equal(put.status, 200);
    b.failComponent('SU_1', 'httpd');
    const cfg = (await json(await api.req('/v1/config'))) as unknown as ConfigView;
    assert.equal(cfg.epoch, 2);
    assert.ok(cfg.lastChange);
    assert.equal(cfg.lastChange.epoch, 2);
    assert.deepEqual(cfg.lastChange.changes.map((c) => [c.entity, c.field, c.old, c.new]), [['config/unit/web/SU_2', 'rank', '2', '3']]);
  } finally {
    await api.close();
  }
});

test('admin ?dry_run=1: the plan of the operation, the refusal it would get, and nothing changed', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b);
  try {
    const seq = b.lastSeq;
    const swap = await api.req('/v1/admin/si/SI_web/si-swap?dry_run=1', { method: 'POST' });
    assert.equal(swap.status, 200);
    const body = await json(swap);
    assert.equal(body['done'], false);
    const plan = body['plan'] as ConfigChangePlan;
    assert.deepEqual(plan.moves, [{ si: 'SI_web', from: [{ su: 'SU_1', ha: 'active' }, { su: 'SU_2', ha: 'standby' }], to: [{ su: 'SU_1', ha: 'standby' }, { su: 'SU_2', ha: 'active' }] }]);
    assert.deepEqual([plan.instantiate, plan.terminate], [[], []]);

    const lock = (await json(await api.req('/v1/admin/su/SU_1/lock?dry_run', { method: 'POST' })))['plan'] as ConfigChangePlan;
    assert.deepEqual(lock.moves.map((m) => [m.si, m.to]), [['SI_web', [{ su: 'SU_2', ha: 'active' }]]]);

    const refused = await api.req('/v1/admin/su/SU_1/unlock?dry_run=1', { method: 'POST' });
    assert.equal(refused.status, 409);
    assert.match(((await json(refused))['error'] as { message: string }).message, /unlock on SU SU_1 refused: it is unlocked/);
    assert.equal((await api.req('/v1/admin/su/nope/lock?dry_run=1', { method: 'POST' })).status, 404);
    assert.equal((await api.req('/v1/admin/su/SU_1/lock?dry_run=maybe', { method: 'POST' })).status, 400);
    assert.equal(b.lastSeq, seq, 'a dry run logs nothing');
    assert.equal(b.mutations, 0);
    const groups = (await json(await api.req('/v1/groups')))['groups'] as Array<{ units: Array<{ admin: string }> }>;
    assert.equal(groups[0]!.units[0]!.admin, 'unlocked');
  } finally {
    await api.close();
  }
});

test('events ?status=1: a status line first, another when the Raft view changes, none for events alone', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b);
  try {
    const res = await api.req(`/v1/events?since=${b.lastSeq}&status=1`);
    assert.equal(res.status, 200);
    let step = 0;
    const lines = await readLines(res, (line) => {
      if ('status' in line && step === 0) {
        step = 1;
        // An event alone sends no status line; an election does.
        setTimeout(() => {
          b.failComponent('SU_1', 'httpd');
          b.setRaft({ role: 'follower', term: 4, leader: 'n2' });
        }, 10);
        return false;
      }
      return 'status' in line && step === 1;
    });
    const statuses = lines.filter((l) => 'status' in l).map((l) => (l['status'] as { raft: { role: string; term: number }; lease: unknown }));
    assert.deepEqual(statuses.map((s) => [s.raft.role, s.raft.term]), [['leader', 3], ['follower', 4]]);
    assert.deepEqual(statuses[0]!.lease, { phase: 'active', held: true });
    assert.ok(lines.some((l) => typeof l['seq'] === 'number'), 'the events came too');
    assert.equal((await api.req('/v1/events?status=perhaps')).status, 400);
  } finally {
    await api.close();
  }
});

test('/ui/: the page and its files without a token, redirects to it, ETag revalidation, a strict policy; 404 and 503 said plainly', async () => {
  const html = '<!doctype html><script type="importmap">{"imports":{}}</script><script type="module" src="./js/main.js"></script>';
  const ui = new WebConsole({ files: new Map([['index.html', new TextEncoder().encode(html)], ['js/main.js', new TextEncoder().encode('export {};\n')]]) });
  const api = await startApi(new MemoryBackend(), { ui });
  try {
    for (const from of ['/', '/ui']) {
      const r = await fetch(`${api.base}${from}`, { redirect: 'manual' });
      assert.equal(r.status, 308, from);
      assert.equal(r.headers.get('location'), '/ui/');
    }
    const page = await fetch(`${api.base}/ui/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await page.text(), html);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/, 'only our files and the import map run');
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const js = await fetch(`${api.base}/ui/js/main.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const etag = js.headers.get('etag')!;
    assert.equal((await fetch(`${api.base}/ui/js/main.js`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(`${api.base}/ui/js/main.js`, { method: 'HEAD' })).status, 200);
    const missing = await fetch(`${api.base}/ui/nope.js`);
    assert.equal(missing.status, 404);
    assert.match(((await json(missing))['error'] as { message: string }).message, /open \/ui\//);
    assert.equal((await fetch(`${api.base}/ui/../v1/nodes`)).status, 401, 'dot segments leave /ui/ and need the token');
    assert.equal((await fetch(`${api.base}/ui/`, { method: 'POST' })).status, 405);
    assert.equal((await fetch(`${api.base}/v1/nodes`)).status, 401, 'the data still needs the token');
  } finally {
    await api.close();
  }
  const none = await startApi(new MemoryBackend());
  const unbuilt = await startApi(new MemoryBackend(), { ui: new WebConsole({ missing: 'dist/web/index.html is missing: build it with npm run build:web' }) });
  try {
    assert.equal((await fetch(`${none.base}/ui/`)).status, 404);
    const r = await fetch(`${unbuilt.base}/ui/`);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /npm run build:web/);
  } finally {
    await none.close();
    await unbuilt.close();
  }
});
