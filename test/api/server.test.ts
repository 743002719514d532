import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { MemoryBackend, SAMPLE } from './memory-backend.js';
import { TOKEN, readLines, startApi } from './helpers.js';
import type { GroupView } from '../../src/api/backend.js';

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

function errorOf(body: Record<string, unknown>): { code: string; message: string; details: unknown } {
  return body['error'] as { code: string; message: string; details: unknown };
}

test('auth: /ping is open; every other endpoint needs the bearer token', async () => {
  const api = await startApi(new MemoryBackend());
  try {
    const ping = await fetch(`${api.base}/ping`);
    assert.equal(ping.status, 200);
    assert.deepEqual(await ping.json(), { ping: 'pong' });
    const paths: [string, string][] = [
      ['GET', '/status'],
      ['GET', '/metrics'],
      ['GET', '/v1/nodes'],
      ['GET', '/v1/groups'],
      ['GET', '/v1/groups/web'],
      ['GET', '/v1/sis/SI_web'],
      ['GET', '/v1/sis'],
      ['GET', '/v1/nodes/n1'],
      ['GET', '/v1/sus'],
      ['GET', '/v1/sus/SU_1'],
      ['GET', '/v1/components'],
      ['GET', '/v1/components/SU_1/httpd'],
      ['GET', '/v1/admin/su/SU_1/lock'],
      ['GET', '/v1/config'],
      ['PUT', '/v1/config'],
      ['POST', '/v1/admin/su/SU_1/lock'],
      ['POST', '/v1/components/SU_1/httpd/error'],
      ['PUT', '/v1/members/n9/seat'],
      ['GET', '/v1/events'],
    ];
    for (const [method, path] of paths) {
      for (const headers of [{} as Record<string, string>, { authorization: 'Bearer wrong' }, { authorization: `Basic ${TOKEN}` }, { authorization: `Bearer ${TOKEN}x` }]) {
        const res = await fetch(`${api.base}${path}`, { method, headers });
        assert.equal(res.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="amfd"');
        const e = errorOf(await json(res));
        assert.equal(e.code, 'unauthorized');
        assert.match(e.message, /Authorization: Bearer/);
      }
    }
  } finally {
    await api.close();
  }
});

test('reads: status, nodes, groups, one group, one SI, config with ETag, metrics; ?consistent reaches the backend', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b);
  try {
    const status = await json(await api.req('/status'));
    assert.equal(status['pid'], process.pid);
    assert.deepEqual((status['raft'] as Record<string, unknown>)['leader'], 'n1');
    assert.equal((status['members'] as unknown[]).length, 3);

    const nodes = (await json(await api.req('/v1/nodes')))['nodes'] as { name: string; up: boolean; sus: string[]; leader: boolean }[];
    assert.deepEqual(nodes.map((n) => [n.name, n.up, n.sus, n.leader]), [['n1', true, ['SU_1'], true], ['n2', true, ['SU_2'], false], ['n3', true, [], false]]);

    const groups = (await json(await api.req('/v1/groups?consistent')))['groups'] as GroupView[];
    assert.equal(b.consistentReads.at(-1), true);
    assert.equal(groups.length, 1);
    const web = groups[0]!;
    assert.deepEqual(web.units.map((u) => [u.name, u.node, u.presence, u.readiness, u.admin, u.oper, u.assignments]), [
      ['SU_1', 'n1', 'instantiated', 'in-service', 'unlocked', 'enabled', [{ si: 'SI_web', ha: 'active' }]],
      ['SU_2', 'n2', 'instantiated', 'in-service', 'unlocked', 'enabled', [{ si: 'SI_web', ha: 'standby' }]],
    ]);
    assert.deepEqual(web.units[0]!.components, [{ name: 'httpd', kind: 'clccli', category: 'sa_aware', healthchecks: [], presence: 'instantiated', oper: 'enabled', attempt: 1 }]);
    assert.deepEqual(await json(await api.req('/v1/groups/web?consistent=0')), web as unknown as Record<string, unknown>);
    assert.equal(b.consistentReads.at(-1), false);
    const si = await json(await api.req('/v1/sis/SI_web'));
    assert.deepEqual(si, { name: 'SI_web', group: 'web', admin: 'unlocked', assignment: 'fully-assigned', assignments: [{ su: 'SU_1', node: 'n1', ha: 'active' }, { su: 'SU_2', node: 'n2', ha: 'standby' }] });

    for (const path of ['/v1/groups/nope', '/v1/sis/nope']) {
      const res = await api.req(path);
      assert.equal(res.status, 404);
      assert.match(errorOf(await json(res)).message, /GET \/v1\/groups lists them/);
    }
    const bad = await api.req('/v1/groups?consistent=maybe');
    assert.equal(bad.status, 400);

    const cfg = await api.req('/v1/config');
    assert.equal(cfg.headers.get('etag'), '"1"');
    assert.deepEqual(await cfg.json(), { text: SAMPLE, epoch: 1, lastChange: null });

    const metrics = await api.req('/metrics');
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain/);
    const text = await metrics.text();
    assert.match(text, /amfd_api_requests_total\{method="GET",route="groups",status="200"\} 1/);

    const unknown = await api.req('/v2/nothing');
    assert.equal(unknown.status, 404);
    const wrongMethod = await api.req('/v1/groups', { method: 'DELETE' });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'GET');
  } finally {
    await api.close();
  }
});

test('PUT /v1/config: refused bodies change nothing; 422 lists located errors; 409 on a stale epoch; dry run plans; commit bumps the epoch', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b, { maxBodyBytes: 64 * 1024 });
  const put = (body: string, headers: Record<string, string> = {}, query = '') =>
    api.req(`/v1/config${query}`, { method: 'PUT', body, headers: { 'content-type': 'application/json', 'if-match': '"1"', ...headers } });
  try {
    const refused: [Response, number, string, RegExp][] = [
      [await put('{"text": "group {"'), 400, 'bad-json', /not valid JSON/],
      [await put(''), 400, 'bad-json', /empty/],
      [await put(JSON.stringify({ text: 5 })), 400, 'invalid-request', /text: .*string/i],
      [await put(JSON.stringify({ text: SAMPLE, extra: 1 })), 400, 'invalid-request', /extra/],
      [await put(JSON.stringify([SAMPLE])), 400, 'invalid-request', /\(root\)/],
      [await put(JSON.stringify({ text: 'x'.repeat(70 * 1024) })), 413, 'body-too-large', /larger than 65536 bytes/],
      [await put(JSON.stringify({ text: SAMPLE }), { 'content-type': 'text/plain' }), 415, 'unsupported-media-type', /Content-Type: application\/json/],
      [await put(JSON.stringify({ text: SAMPLE }), { 'if-match': 'yesterday' }), 400, 'invalid-request', /If-Match/],
      [await api.req('/v1/config', { method: 'PUT', body: JSON.stringify({ text: SAMPLE }), headers: { 'content-type': 'application/json' } }), 428, 'if-match-required', /GET \/v1\/config/],
      [await put(JSON.stringify({ text: SAMPLE }), {}, '?dry_run=perhaps'), 400, 'invalid-request', /dry_run/],
    ];
    for (const [res, status, code, message] of refused) {
      const e = errorOf(await json(res));
      assert.equal(res.status, status, e.message);
      assert.equal(e.code, code);
      assert.match(e.message, message);
    }

    const invalid = await put(JSON.stringify({ text: SAMPLE.replace('model = 2n', 'modle = 2n').replace('rank = 2', 'rank = high') }));
    assert.equal(invalid.status, 422);
    const ie = errorOf(await json(invalid));
    assert.equal(ie.code, 'invalid-config');
    const located = ie.details as { file: string; line: number; col: number; message: string }[];
    assert.equal(located.length, 2);
    assert.match(located[0]!.message, /did you mean "model"/);
    assert.equal(located[0]!.line, 12);
    assert.match(ie.message, /groups\.conf:12:2: unknown key "modle"/);
    assert.equal(b.mutations, 0);
    assert.equal(b.epoch, 1);

    const moved = SAMPLE.replace('node = n2', 'node = n3');
    const stale = await put(JSON.stringify({ text: moved }), { 'if-match': '0' });
    assert.equal(stale.status, 409);
    const se = errorOf(await json(stale));
    assert.equal(se.code, 'stale-epoch');
    assert.match(se.message, /changed since epoch 0 \(it is at epoch 1 now\).*If-Match: 1/);

    const dry = await put(JSON.stringify({ text: moved }), {}, '?dry_run=1');
    assert.equal(dry.status, 200);
    const plan = await json(dry);
    assert.equal(plan['committed'], false);
    assert.deepEqual((plan['changes'] as { op: string; attribute: string; old: string; new: string }[]).map((c) => [c.op, c.attribute, c.old, c.new]), [['modify', 'node', 'n2', 'n3']]);
    assert.ok(plan['plan']);
    assert.equal(b.mutations, 0);

    const done = await put(JSON.stringify({ text: moved }));
    assert.equal(done.status, 200);
    assert.equal(done.headers.get('etag'), '"2"');
    assert.equal((await json(done))['epoch'], 2);
    assert.equal(b.text, moved);
    const again = await put(JSON.stringify({ text: moved }));
    assert.equal(again.status, 409, 'the old epoch is stale now');
  } finally {
    await api.close();
  }
});

test('admin operations and error reports: validated, mapped to 404/409, and applied', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b);
  try {
    const post = (path: string, body?: string) => api.req(path, { method: 'POST', ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) });
    const badOp = await post('/v1/admin/su/SU_2/explode');
    assert.equal(badOp.status, 400);
    assert.match(errorOf(await json(badOp)).message, /op: .*lock/);
    const badKind = await post('/v1/admin/cluster/x/lock');
    assert.equal(badKind.status, 400);
    const missing = await post('/v1/admin/su/SU_9/lock');
    assert.equal(missing.status, 404);
    const withBody = await post('/v1/admin/su/SU_2/lock', '{"force":true}');
    assert.equal(withBody.status, 400);
    const lockTo = await post('/v1/admin/su/SU_2/lock', '{"to":"n2"}');
    assert.equal(lockTo.status, 400, 'only migrate takes a destination');
    const migrateNowhere = await post('/v1/admin/su/SU_2/migrate');
    assert.equal(migrateNowhere.status, 400);
    assert.match(errorOf(await json(migrateNowhere)).message, /migrate body: to/);
    // The destination reaches the engine, which refuses: these SUs are no VMs.
    const migrate = await post('/v1/admin/su/SU_2/migrate', '{"to":"n3"}');
    assert.equal(migrate.status, 409);
    assert.equal(errorOf(await json(migrate)).message, 'migrate on SU SU_2 refused: the SU may run only on n2, not on n3');
    assert.equal(b.mutations, 0);

    const lock = await post('/v1/admin/su/SU_2/lock');
    assert.equal(lock.status, 200);
    assert.deepEqual(await lock.json(), { done: true, kind: 'su', name: 'SU_2', op: 'lock' });
    assert.equal(b.h.state.sus['SU_2']!.admin, 'locked');
    const twice = await post('/v1/admin/su/SU_2/lock', '{}');
    assert.equal(twice.status, 409);
    assert.equal(errorOf(await json(twice)).code, 'invalid-state');

    const badRecovery = await post('/v1/components/SU_1/httpd/error', '{"recovery":"pray"}');
    assert.equal(badRecovery.status, 400);
    assert.match(errorOf(await json(badRecovery)).message, /recovery/);
    const noComp = await post('/v1/components/SU_1/nginx/error');
    assert.equal(noComp.status, 404);
    const report = await post('/v1/components/SU_1/httpd/error', '{"recovery":"component-restart","reason":"stuck"}');
    assert.equal(report.status, 200);
    assert.ok(b.h.state.sus['SU_1']!.escalation.compRestarts >= 1);

    const seat = (name: string, body: string) => api.req(`/v1/members/${name}/seat`, { method: 'PUT', body, headers: { 'content-type': 'application/json' } });
    const admitted = await seat('n9', '{"seat":"voter"}');
    assert.equal(admitted.status, 200);
    assert.deepEqual(await admitted.json(), { node: 'n9', seat: 'voter' });
    assert.equal(b.admitted.get('n9'), 'voter');
    const badSeat = await seat('n9', '{"seat":"king"}');
    assert.equal(badSeat.status, 400);
    assert.match(errorOf(await json(badSeat)).message, /seat/);
    assert.equal((await seat('n9', '{"seat":"none"}')).status, 200);
    assert.equal(b.admitted.has('n9'), false);
  } finally {
    await api.close();
  }
});

test('events: a component failure is told in order; ?since resumes without gaps or duplicates', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b);
  try {
    const start = b.lastSeq;
    const res = await api.req(`/v1/events?since=${start}`);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
    b.failComponent('SU_1', 'httpd');
    const end = b.lastSeq;
    const story = await readLines(res, (l) => l['seq'] === end);
    assert.deepEqual(story.map((e) => e['seq']), Array.from({ length: end - start }, (_, i) => start + 1 + i));
    const lines = story.map((e) => `${e['entity']} ${e['kind']} ${e['field']} ${JSON.stringify(e['old'])}->${JSON.stringify(e['new'])}`);
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    // The story: recovery decided, the component goes down and comes back.
    const recovery = at(/^comp\/SU_1\/httpd escalation recovery null->"component-restart L0/);
    const down = at(/^comp\/SU_1\/httpd modify presence "instantiated"->"restarting"/);
    const up = at(/^comp\/SU_1\/httpd modify presence "restarting"->"instantiated"/);
    assert.ok(recovery >= 0 && down > recovery && up > down, lines.join('\n'));
    for (const e of story) assert.match(String(e['time']), /^2026-11-22T10:\d\d:\d\d\.\d{3}Z$/);

    // Resume: read a part, disconnect, more happens, reconnect with the last seq seen.
    const first = await api.req('/v1/events?since=0');
    const part = await readLines(first, (l) => l['seq'] === 5);
    b.nodeDown('n1');
    const second = await api.req('/v1/events?since=5');
    const last = b.lastSeq;
    const rest = await readLines(second, (l) => l['seq'] === last);
    const seqs = [...part, ...rest].map((e) => e['seq']);
    assert.deepEqual(seqs, Array.from({ length: last }, (_, i) => i + 1));
    assert.ok(rest.some((e) => e['entity'] === 'si/SI_web' && e['field'] === 'su/SU_2' && e['new'] === 'active'), 'the SI moved to SU_2');

    const bad = await api.req('/v1/events?since=-1');
    assert.equal(bad.status, 400);
    const future = await api.req(`/v1/events?since=${last + 10}`);
    assert.equal(future.status, 410);
  } finally {
    await api.close();
  }
});

test('events: a resume older than the ring is refused with 410 and where to go on', async () => {
  const b = new MemoryBackend(SAMPLE, 5);
  const api = await startApi(b);
  try {
    const res = await api.req('/v1/events?since=1');
    assert.equal(res.status, 410);
    const e = errorOf(await json(res));
    assert.equal(e.code, 'events-gone');
    assert.match(e.message, /re-read the state/);
  } finally {
    await api.close();
  }
});

test('events: heartbeats keep an idle stream alive; shutdown ends streams with a final line', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b, { heartbeatMs: 20 });
  const res = await api.req('/v1/events');
  const got = await readLines(res, (l) => 'heartbeat' in l);
  assert.equal(got[0]!['latest'], null);
  const second = await api.req('/v1/events');
  const lines = readLines(second, () => false);
  await new Promise((r) => setTimeout(r, 50));
  await api.close();
  const all = await lines;
  const lastLine = all.at(-1)!;
  assert.equal(errorOf(lastLine).code, 'shutting-down');
});

test('events: a reader that does not read is dropped with a final error line; the daemon never waits', async () => {
  const b = new MemoryBackend();
  const api = await startApi(b, { maxStreamBufferBytes: 64 * 1024, heartbeatMs: 60_000 });
  try {
    const port = Number(new URL(api.base).port);
    const sock = connect(port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    sock.pause();
    // Wait for the stream to be registered.
    for (let i = 0; i < 200 && !/amfd_api_event_streams 1/.test(await (await api.req('/metrics')).text()); i++) await new Promise((r) => setTimeout(r, 10));
    // 40 MB of events, far beyond socket buffers: emitting must neither block nor buffer it all.
    const reason = 'x'.repeat(10_000);
    for (let i = 0; i < 4000; i++) b.emit({ entity: 'su/SU_1', kind: 'modify', field: 'note', old: null, new: `${i} ${reason}` });
    const metrics = await (await api.req('/metrics')).text();
    assert.match(metrics, /amfd_api_event_streams_dropped_total 1/);
    // The reader, reading at last, finds the final error line after what was already sent.
    sock.resume();
    let raw = '';
    sock.setEncoding('utf8');
    for await (const chunk of sock) raw += chunk as string;
    const lines = raw.split('\n').filter((l) => l.startsWith('{'));
    const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    assert.equal(errorOf(last).code, 'slow-reader');
    assert.match(errorOf(last).message, /reconnect with \?since=\d+ to resume/);
    assert.ok(lines.length < 1000, `only what fit in the buffers was sent (${lines.length} lines)`);
  } finally {
    await api.close();
  }
});

test('vminfod-style views: lists and single entities of nodes, SUs, components and SIs, ?group= and ?node= filters, /status state', async () => {
  const api = await startApi(new MemoryBackend());
  const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${api.base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return { status: res.status, body: await json(res) };
  };
  const names = (body: Record<string, unknown>, key: string): string[] => (body[key] as Array<{ name: string }>).map((x) => x.name);
  try {
    const status = await get('/status');
    assert.equal(status.body['state'], 'running');
    assert.deepEqual(names((await get('/v1/sus')).body, 'sus'), ['SU_1', 'SU_2']);
    assert.deepEqual(names((await get('/v1/sus?node=n2')).body, 'sus'), ['SU_2']);
    assert.deepEqual(names((await get('/v1/sus?group=web&node=n1')).body, 'sus'), ['SU_1']);
    assert.deepEqual(names((await get('/v1/sus?group=nothing')).body, 'sus'), []);
    const su = await get('/v1/sus/SU_1');
    assert.deepEqual([su.status, su.body['name'], su.body['group'], su.body['node']], [200, 'SU_1', 'web', 'n1']);
    const missing = await get('/v1/sus/SU_9');
    assert.equal(missing.status, 404);
    assert.match(errorOf(missing.body).message, /no SU SU_9; GET \/v1\/sus lists them/);
    const comps = (await get('/v1/components?node=n2')).body['components'] as Array<{ name: string; su: string; node: string; group: string }>;
    assert.deepEqual(comps.map((c) => [c.su, c.name, c.node, c.group]), [['SU_2', 'httpd', 'n2', 'web']]);
    const comp = await get('/v1/components/SU_1/httpd');
    assert.deepEqual([comp.status, comp.body['su'], comp.body['presence']], [200, 'SU_1', 'instantiated']);
    assert.equal((await get('/v1/components/SU_1/nope')).status, 404);
    assert.deepEqual(names((await get('/v1/sis')).body, 'sis'), ['SI_web']);
    assert.deepEqual(names((await get('/v1/sis?node=n3')).body, 'sis'), []);
    assert.deepEqual(names((await get('/v1/nodes?group=web')).body, 'nodes'), ['n1', 'n2']);
    assert.deepEqual(names((await get('/v1/nodes')).body, 'nodes'), ['n1', 'n2', 'n3']);
    const node = await get('/v1/nodes/n3');
    assert.deepEqual([node.status, node.body['name']], [200, 'n3']);
    assert.equal((await get('/v1/nodes/n9')).status, 404);
    const bad = await get('/v1/sus?node=a%20b');
    assert.equal(bad.status, 400);
    assert.match(errorOf(bad.body).message, /node/);
  } finally {
    await api.close();
  }
});
