/**
 * The HTTP API and amfctl across 3 real amfd processes on 127.0.0.1 (tokens on): every node
 * answers the same; writes sent to a follower commit; `?consistent` on any node is linearizable
 * (a write acknowledged anywhere is seen, or the read is refused with 503, never answered stale),
 * also while the leader is killed and a new one elected; the event stream reads the same on every
 * node (same seqs); amfctl through a follower.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { GroupView } from '../../src/api/backend.js';
import { ROOT, type LocalCluster } from '../../scripts/local-cluster.js';
import { readLines } from '../api/helpers.js';
import { actives, allActiveOn, clusterSteps, groupsOn, sleep, startTestCluster, stopTestCluster, testGroupsConf, waitFor } from './harness.js';

const NODES = ['n1', 'n2', 'n3'];

interface Status {
  node: string;
  raft: { role: string; term: number; leader: string | null; appliedIndex: number; commitIndex: number };
  configEpoch: number;
  lastEventSeq: number;
}

interface ApiErrorBody {
  error: { code: string; message: string };
}

describe('HTTP API on a cluster of real amfd processes', { timeout: 90_000 }, () => {
  let c: LocalCluster;
  /** The config text and epoch last acknowledged by a PUT. */
  let text = testGroupsConf();
  let epoch = 1;

  const req = (node: string, path: string, init: RequestInit = {}, timeoutMs = 5000): Promise<Response> =>
    fetch(`http://${c.node(node).api}${path}`, { ...init, signal: AbortSignal.timeout(timeoutMs), headers: { authorization: `Bearer ${c.token}`, ...(init.headers as Record<string, string> | undefined) } });
  const json = async <T>(node: string, path: string): Promise<T> => {
    const r = await req(node, path);
    assert.equal(r.status, 200, `${node} ${path}: ${r.status}`);
    return (await r.json()) as T;
  };
  const status = (node: string): Promise<Status> => json<Status>(node, '/status');
  const put = (node: string, body: string, ifMatch: number): Promise<Response> =>
    req(node, '/v1/config', { method: 'PUT', body: JSON.stringify({ text: body }), headers: { 'content-type': 'application/json', 'if-match': String(ifMatch) } }, 10_000);
  /** A harmless change (db's probation) that makes a new epoch. */
  const nextText = (): string => text.replace(/(group \{\n\tname = db\n\tmodel = 2n\n\tcomponent_restart_max = 1\n\tcomponent_restart_probation = )(\d+)s/, (_, head: string, s: string) => `${head}${Number(s) + 1}s`);

  let leader = '';
  let followers: string[] = [];

  before(async () => {
    c = await startTestCluster('api');
    await waitFor('every SI active', 40_000, () => allActiveOn(c, NODES, NODES));
    // Settled: one leader, the same on every node.
    const all = await waitFor('the same leader on every node', 10_000, async () => {
      const s = await Promise.all(NODES.map((n) => c.get<Status>(n, '/status')));
      const l = s[0]?.raft.leader;
      return l && s.every((x) => x?.raft.leader === l && x.raft.term === s[0]!.raft.term) ? (s as Status[]) : undefined;
    });
    leader = all[0]!.raft.leader!;
    followers = NODES.filter((n) => n !== leader);
  });

  after(async () => {
    const left = await stopTestCluster(c, run.failed);
    assert.deepEqual(left, [], 'no amfd or component process is left');
  });

  const { run, step } = clusterSteps();

  step('every node answers /ping, /status (same leader and term), /v1/nodes, /v1/groups (same after a barrier)', async () => {
    for (const n of NODES) {
      const ping = await fetch(`http://${c.node(n).api}/ping`);
      assert.deepEqual(await ping.json(), { ping: 'pong' }, `${n} /ping without a token`);
      assert.equal((await fetch(`http://${c.node(n).api}/v1/groups`)).status, 401, `${n} refuses a request without the token`);
    }
    const st = await Promise.all(NODES.map(status));
    assert.deepEqual(st.map((s) => s.node), NODES);
    assert.deepEqual(new Set(st.map((s) => `${s.raft.leader}@${s.raft.term}`)).size, 1, JSON.stringify(st.map((s) => s.raft)));
    assert.deepEqual(st.map((s) => s.raft.role === 'leader'), NODES.map((n) => n === leader));
    for (const n of NODES) {
      const nodes = (await json<{ nodes: { name: string; up: boolean; leader: boolean }[] }>(n, '/v1/nodes')).nodes;
      assert.deepEqual(nodes.map((x) => [x.name, x.up, x.leader]).sort(), NODES.map((x) => [x, true, x === leader]), `${n} /v1/nodes`);
    }
    // A consistent read on each node is a barrier: its replica has applied everything committed
    // before the read, so with nothing changing the three views are equal.
    const views = await Promise.all(NODES.map((n) => json<{ groups: GroupView[] }>(n, '/v1/groups?consistent')));
    for (const v of views.slice(1)) assert.deepEqual(v.groups, views[0]!.groups);
    const sis = actives(views[0]!.groups);
    assert.deepEqual([...sis.keys()].sort(), ['db-main', 'web-a', 'web-b']);
    for (const [si, list] of sis) assert.equal(list.length, 1, `${si} active once`);
  });

  step('PUT /v1/config to a follower commits; a consistent GET on the other follower sees it at once; a stale If-Match gets 409', async () => {
    const [f1, f2] = followers as [string, string];
    const got = await req(f1, '/v1/config');
    assert.equal(got.headers.get('etag'), `"${epoch}"`);
    const next = nextText();
    assert.notEqual(next, text);
    const r = await put(f1, next, epoch);
    const body = (await r.json()) as { committed: boolean; epoch: number };
    assert.equal(r.status, 200, JSON.stringify(body));
    assert.deepEqual([body.committed, body.epoch], [true, epoch + 1]);
    text = next;
    epoch = body.epoch;
    const read = await req(f2, '/v1/config?consistent');
    const cfg = (await read.json()) as { text: string; epoch: number };
    assert.equal(read.status, 200, JSON.stringify(cfg));
    assert.equal(cfg.epoch, epoch, 'a linearizable read sees the write acknowledged on another node');
    assert.equal(cfg.text, text);
    assert.equal(read.headers.get('etag'), `"${epoch}"`);

    const stale = await put(f2, testGroupsConf(), epoch - 1);
    assert.equal(stale.status, 409);
    const e = ((await stale.json()) as ApiErrorBody & { error: { details: { epoch: number; ifMatch: number } } }).error;
    assert.equal(e.code, 'stale-epoch');
    assert.match(e.message, new RegExp(`it is at epoch ${epoch} now.*If-Match: ${epoch}`));
    assert.deepEqual(e.details, { epoch, ifMatch: epoch - 1 });
    assert.equal((await json<{ epoch: number }>(f2, '/v1/config?consistent')).epoch, epoch, 'the refused write changed nothing');
  });

  step('lock through a follower: every node shows it; the event stream reads the same, with the same seqs, on every node', async () => {
    const [f1, f2] = followers as [string, string];
    // A web SU that holds no active assignment, so locking it moves nothing that serves.
    const web = (await json<GroupView>(f1, '/v1/groups/web?consistent'));
    const su = web.units.find((u) => !u.assignments.some((a) => a.ha === 'active'))!;
    assert.ok(su, JSON.stringify(web.units.map((u) => [u.name, u.assignments])));
    const start = (await status(f1)).lastEventSeq;
    const stream = await req(f1, `/v1/events?since=${start}`, {}, 30_000);
    assert.match(stream.headers.get('content-type') ?? '', /^application\/x-ndjson/);

    const lock = await req(f1, `/v1/admin/su/${su.name}/lock`, { method: 'POST' });
    assert.equal(lock.status, 200, await lock.clone().text());
    const seen = (all: Record<string, unknown>[], field: string, value: string): boolean => all.some((l) => l['entity'] === `su/${su.name}` && l['field'] === field && l['new'] === value);
    const lines = await readLines(stream, (_, all) => seen(all, 'admin', 'locked') && seen(all, 'readiness', 'out-of-service'));
    const events = lines.filter((l) => 'seq' in l);
    const seqs = events.map((l) => l['seq'] as number);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => start + 1 + i), 'contiguous seqs from ?since');
    const told = events.map((l) => `${String(l['entity'])} ${String(l['kind'])} ${String(l['field'])} ${String(l['old'])}->${String(l['new'])}`);
    const at = (re: RegExp): number => told.findIndex((l) => re.test(l));
    const op = at(new RegExp(`^su/${su.name} admin op null->lock$`));
    const admin = at(new RegExp(`^su/${su.name} modify admin unlocked->locked$`));
    const readiness = at(new RegExp(`^su/${su.name} modify readiness in-service->out-of-service$`));
    assert.ok(op >= 0 && admin > op && readiness > op, told.join('\n'));

    for (const n of NODES) {
      await waitFor(`${su.name} locked on ${n}`, 5000, async () => ((await groupsOn(c, n))?.flatMap((g) => g.units).find((u) => u.name === su.name)?.admin === 'locked' ? true : undefined));
    }
    // Resume on the other follower: the same events under the same seqs.
    const last = seqs.at(-1)!;
    await waitFor(`${f2} has event ${last}`, 5000, async () => ((await status(f2)).lastEventSeq >= last ? true : undefined));
    const again = (await readLines(await req(f2, `/v1/events?since=${start}&follow=0`), () => false)).filter((l) => 'seq' in l && (l['seq'] as number) <= last);
    assert.deepEqual(again, events);

    const unlock = await req(f2, `/v1/admin/su/${su.name}/unlock`, { method: 'POST' });
    assert.equal(unlock.status, 200, await unlock.clone().text());
  });

  step('amfctl --addr <follower>: status --json equals that follower\'s /v1/groups; config apply through a follower commits', async () => {
    const f = followers[0]!;
    const run = (argv: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        // Connection options before the command; no AMFCTL_* from the environment running the tests.
        const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AMFCTL_')));
        const p = spawn(process.execPath, [join(ROOT, 'bin/amfctl.js'), '--addr', c.node(f).api, '--token-file', c.tokenFile, ...argv], { cwd: c.o.workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (b: Buffer) => (out += b.toString()));
        p.stderr.on('data', (b: Buffer) => (err += b.toString()));
        p.once('exit', (code) => resolve({ code, out, err }));
      });
    // The unlock above settles first (SU back in service on this follower's replica).
    await waitFor('every SU in service again', 10_000, async () => ((await groupsOn(c, f))?.every((g) => g.units.every((u) => u.readiness === 'in-service')) ? true : undefined));
    const st = await run(['status', '--json']);
    assert.equal(st.code, 0, st.err);
    assert.deepEqual((JSON.parse(st.out) as { groups: unknown }).groups, (await json<{ groups: GroupView[] }>(f, '/v1/groups')).groups);

    const file = join(c.o.workDir, 'next.conf');
    const next = nextText();
    writeFileSync(file, next);
    const apply = await run(['config', 'apply', file, '--yes']);
    assert.equal(apply.code, 0, apply.err);
    assert.match(apply.out, new RegExp(`applied: config epoch ${epoch + 1}`));
    text = next;
    epoch += 1;
    for (const n of NODES) assert.equal((await json<{ epoch: number }>(n, '/v1/config?consistent')).epoch, epoch, n);
  });

  step('kill -9 the leader: consistent reads on the survivors answer 503 or the latest value, never a stale one; then a new leader serves', async (t) => {
    // A write acknowledged just before the crash: the survivors may not have applied it yet.
    const next = nextText();
    const r = await put(leader, next, epoch);
    assert.equal(r.status, 200, await r.clone().text());
    text = next;
    epoch += 1;
    const oldTerm = (await status(followers[0]!)).raft.term;
    c.kill(leader);

    const refusals = new Map<string, number>();
    let served = 0;
    const readUntilNewLeader = async (n: string): Promise<void> => {
      const until = Date.now() + 30_000;
      for (;;) {
        assert.ok(Date.now() < until, `${n}: no consistent read served within 30 s of the leader's death`);
        let res: Response;
        try {
          res = await req(n, '/v1/config?consistent', {}, 5000);
        } catch {
          await sleep(50);
          continue;
        }
        const body = (await res.json()) as { text: string; epoch: number } & Partial<ApiErrorBody>;
        if (res.status === 200) {
          assert.equal(body.epoch, epoch, `${n} served a stale consistent read`);
          assert.equal(body.text, text);
          served++;
          const st = await status(n);
          if (st.raft.leader !== null && st.raft.leader !== leader) return;
        } else {
          assert.equal(res.status, 503, `${n}: ${JSON.stringify(body)}`);
          assert.ok(body.error && ['no-leader', 'unavailable'].includes(body.error.code), JSON.stringify(body));
          assert.match(body.error.message, /retry|leader/);
          refusals.set(body.error.code, (refusals.get(body.error.code) ?? 0) + 1);
        }
        await sleep(50);
      }
    };
    const killedAt = Date.now();
    await Promise.all(followers.map(readUntilNewLeader));
    assert.ok(served >= 2);
    t.diagnostic(`consistent reads while electing: ${[...refusals].map(([code, n]) => `${n} x 503 ${code}`).join(', ') || 'no refusal'}, ${served} served (all at epoch ${epoch}); both survivors served under a new leader ${Date.now() - killedAt} ms after the kill`);

    const st = await Promise.all(followers.map(status));
    const newLeader = st[0]!.raft.leader!;
    assert.notEqual(newLeader, leader);
    assert.ok(followers.includes(newLeader));
    for (const s of st) {
      assert.equal(s.raft.leader, newLeader, `${s.node} /status names the new leader`);
      assert.ok(s.raft.term > oldTerm, `${s.node}: term ${s.raft.term} after ${oldTerm}`);
    }
    // Writes work again, and the survivors read them consistently.
    const after = nextText();
    const w = await put(followers.find((n) => n !== newLeader)!, after, epoch);
    assert.equal(w.status, 200, await w.clone().text());
    for (const n of followers) assert.equal((await json<{ epoch: number }>(n, '/v1/config?consistent')).epoch, epoch + 1);
  });
});
