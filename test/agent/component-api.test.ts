import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type AmfApiError, AmfClient, type CsiDescriptor } from '../../src/client/index.js';
import { MAX_TRACKED_CSIS } from '../../src/agent/agent.js';
import type { StreamConnection } from '../../src/runtime/ports/stream.js';
import { counterConf, eventually, freePort, makeDir, model, processes, readEnvFile, sleep, startAgent, streamNetwork } from './harness.js';

function httpGet(port: number, path: string): Promise<{ counter: number; comp: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(JSON.parse(body) as { counter: number; comp: string }));
    }).on('error', (e) => reject(new Error(`GET ${path}: ${e.message}`)));
  });
}

describe('agent: the SA-aware counter-service sample', () => {
  it('registers, takes CSI set active/standby, answers healthchecks, reports errors, fails over with its state', async () => {
    const dir = makeDir();
    const port = await freePort();
    const t = await startAgent(dir, model(dir, counterConf(dir, port)));
    const csi = { si: 'counter_si', csi: 'counter_csi', csiType: 'counter_type', attributes: [{ name: 'port', value: String(port) }] };
    try {
      const [a, b] = await Promise.all([t.agent.instantiate('counter_a', 'counter'), t.agent.instantiate('counter_b', 'counter')]);
      assert.ok(a.ok && b.ok, JSON.stringify([a, b]));
      assert.ok((await t.agent.csiSet('counter_a', 'counter', { ...csi, haState: 'active' })).ok);
      assert.ok((await t.agent.csiSet('counter_b', 'counter', { ...csi, haState: 'standby' })).ok);
      assert.equal((await httpGet(port, '/next')).counter, 1);
      const second = await httpGet(port, '/next');
      assert.equal(second.counter, 2);
      assert.equal(second.comp, 'counter');
      await sleep(600); // the standby follows the copy; a few healthcheck periods pass
      assert.equal(t.faults.length, 0, 'healthy healthchecks report nothing');

      const pidA = t.agent.pid('counter_a', 'counter');
      assert.ok(pidA !== undefined);
      process.kill(pidA, 'SIGKILL');
      const died = await t.waitFault((f) => f.kind === 'error-report' && f.su === 'counter_a');
      assert.ok(died.kind === 'error-report' && died.source === 'process-died');
      await sleep(100);
      assert.equal(t.faults.filter((f) => f.su === 'counter_a').length, 1, 'the exit and the closed connection are one death');
      assert.ok((await t.agent.csiSet('counter_b', 'counter', { ...csi, haState: 'active' })).ok);
      assert.equal((await httpGet(port, '/value')).counter, 2, 'the standby kept a copy of the counter');
      assert.ok((await t.agent.cleanup('counter_a', 'counter', 'failover')).ok);

      // A standby CSI set with a bad port attribute is refused, not a crash of the follower.
      assert.ok((await t.agent.instantiate('counter_a', 'counter')).ok);
      const refused = await t.agent.csiSet('counter_a', 'counter', { ...csi, attributes: [{ name: 'port', value: 'none' }], haState: 'standby' });
      assert.ok(!refused.ok && /FAILED/.test(refused.error), JSON.stringify(refused));
      await sleep(300);
      assert.equal(t.faults.filter((f) => f.su === 'counter_a').length, 1, 'the refused standby is still running');

      const pidB = t.agent.pid('counter_b', 'counter');
      assert.ok(pidB !== undefined);
      process.kill(pidB, 'SIGUSR1');
      const reported = await t.waitFault((f) => f.kind === 'error-report' && f.su === 'counter_b');
      assert.ok(reported.kind === 'error-report' && reported.source === 'error-report' && reported.recovery === 'component-restart', JSON.stringify(reported));

      writeFileSync(join(dir, 'fail'), '');
      const hc = await t.waitFault((f) => f.kind === 'healthcheck-failed' && f.su === 'counter_b', 3000);
      assert.ok(hc.kind === 'healthcheck-failed' && hc.key === 'counter-hc');

      assert.ok((await t.agent.terminate('counter_b', 'counter')).ok, 'the terminate callback ends the process');
      assert.ok(await eventually(() => !processes.isAlive(pidB)));
    } finally {
      await t.agent.cleanup('counter_a', 'counter', 'end');
      await t.agent.cleanup('counter_b', 'counter', 'end');
      await t.close();
    }
  });
});

interface RawPeer {
  readonly conn: StreamConnection;
  readonly frames: Array<Record<string, unknown>>;
  send(obj: unknown): void;
  next(pred?: (f: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  closed: Promise<string>;
}

async function rawPeer(socketPath: string): Promise<RawPeer> {
  const c = await streamNetwork().connect(`unix:${socketPath}`, { timeoutMs: 1000 });
  assert.ok(c.ok);
  const conn = c.value;
  const frames: Array<Record<string, unknown>> = [];
  let seen = 0;
  const closed = new Promise<string>((resolve) => conn.onClose((i) => resolve(i.reason)));
  conn.onFrame((f) => frames.push(JSON.parse(new TextDecoder().decode(f)) as Record<string, unknown>));
  return {
    conn,
    frames,
    closed,
    send: (obj) => conn.send(typeof obj === 'string' ? new TextEncoder().encode(obj) : new TextEncoder().encode(JSON.stringify(obj))),
    async next(pred = () => true) {
      for (let i = 0; i < 300; i++) {
        const idx = frames.findIndex((f, j) => j >= seen && pred(f));
        if (idx >= 0) {
          seen = idx + 1;
          return frames[idx]!;
        }
        await sleep(10);
      }
      throw new Error(`no frame; got ${JSON.stringify(frames)}`);
    },
  };
}

describe('agent: component API input validation', () => {
  it('a connection that sends but never reads is cut off after a bounded backlog; others are served', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, counterConf(dir, 1)));
    const sock = createConnection(t.socketPath);
    try {
      await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
      // The agent closing on us makes our own pending write fail with EPIPE: expected here.
      sock.on('error', () => undefined);
      const gone = new Promise<boolean>((resolve) => sock.on('close', () => resolve(true)));
      sock.pause();
      const frame = new TextEncoder().encode(JSON.stringify({ v: 1, type: 'error-clear', id: 1 }));
      const header = Buffer.alloc(4);
      header.writeUInt32BE(frame.length);
      const requests = 20_000;
      sock.write(Buffer.concat(Array.from({ length: requests }, () => [header, frame]).flat()));
      // Each request is refused with a reply nobody reads, until the agent gives up on the reader.
      const other = await rawPeer(t.socketPath);
      await sleep(500);
      other.send({ v: 1, type: 'error-clear', id: 9 });
      assert.equal((await other.next()).code, 'not-registered', 'the others are still served');
      sock.resume();
      assert.ok(await Promise.race([gone, sleep(8000).then(() => false)]), 'the agent did not close the connection');
      other.conn.close();
    } finally {
      sock.destroy();
      await t.close();
    }
  });

  it('bounds the connections: one over the limit is told busy, an idle unregistered one is closed after the register timeout', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, counterConf(dir, 1)), { apiMaxConnections: 3, apiRegisterTimeoutMs: 400 });
    const peers: RawPeer[] = [];
    try {
      for (let i = 0; i < 3; i++) peers.push(await rawPeer(t.socketPath));
      const extra = await rawPeer(t.socketPath);
      const busy = await extra.next();
      assert.equal(busy.type, 'error');
      assert.equal(busy.code, 'busy');
      assert.match(String(busy.message), /too many component API connections \(3 open\)/);
      assert.equal(await extra.closed, 'peer');
      // The three in the table are still served before their deadline.
      peers[0]!.send({ v: 1, type: 'error-clear', id: 1 });
      assert.equal((await peers[0]!.next()).code, 'not-registered');
      // None registers: each is closed at its deadline, telling why, and the slots are free again.
      for (const p of peers) {
        const why = await p.next((f) => f.type === 'error');
        assert.equal(why.code, 'not-registered');
        assert.match(String(why.message), /no register within 400 ms/);
        assert.equal(await p.closed, 'peer');
      }
      const again = await rawPeer(t.socketPath);
      again.send({ v: 1, type: 'error-clear', id: 2 });
      const reply = await again.next();
      assert.equal(reply.type, 'reply', 'a new connection is served once the slots are free');
      again.conn.close();
    } finally {
      for (const p of peers) p.conn.close();
      await t.close();
    }
  });

  it('refuses to replace a file that is not a socket at the socket path, and leaves it alone', async () => {
    const dir = makeDir();
    const precious = join(dir, 'precious');
    writeFileSync(precious, 'keep');
    await assert.rejects(startAgent(dir, model(dir, counterConf(dir, 1)), { socketPath: precious }), /a regular file is there, not a stale socket/);
    assert.equal(readFileSync(precious, 'utf8'), 'keep');
  });

  it('refuses malformed, oversized, out-of-order and unauthorised frames with clear errors and keeps serving the others', async () => {
    const dir = makeDir();
    const t = await startAgent(
      dir,
      model(
        dir,
        `group {
	name = g
	model = noredundancy
	unit {
		name = su1
		component {
			name = c1
			comptype = sa_aware
			command = /bin/sh -c "env > ${dir}/env; exec sleep 1000"
			instantiate_timeout = 5000
			csi_type_name {
				name = t
			}
		}
	}
}
`,
      ),
    );
    try {
      const instantiating = t.agent.instantiate('su1', 'c1');
      assert.ok(await eventually(() => existsSync(join(dir, 'env')) && readFileSync(join(dir, 'env'), 'utf8').includes('AMF_COMPONENT_SECRET=')));
      const env = readEnvFile(join(dir, 'env'));
      assert.equal(env.AMF_COMPONENT_SOCKET, t.socketPath);
      const dn = 'safComp=c1,safSu=su1,safSg=g';

      const bad = await rawPeer(t.socketPath);
      bad.send('{not json');
      assert.match(String((await bad.next()).message), /not UTF-8 JSON/);
      bad.send({ v: 2, type: 'register', id: 1, comp: dn, secret: 'x' });
      assert.deepEqual(await bad.next().then((f) => [f.id, f.code]), [1, 'unsupported-version']);
      bad.send({ v: 1, type: 'bogus', id: 2 });
      const bogus = await bad.next();
      assert.equal(bogus.code, 'bad-frame');
      assert.match(String(bogus.message), /'bogus'/);
      bad.send({ v: 1, type: 'register', id: 3, comp: dn });
      assert.match(String((await bad.next()).message), /at 'secret'/);
      // (healthcheck-start alone is accepted before register, as openais did: see below.)
      bad.send({ v: 1, type: 'error-clear', id: 4 });
      assert.equal((await bad.next()).code, 'not-registered');
      bad.send({ v: 1, type: 'register', id: 5, comp: 'safComp=nope,safSu=su1,safSg=g', secret: 'x' });
      const unknown = await bad.next();
      assert.deepEqual([unknown.id, unknown.code], [5, 'unknown-component']);
      bad.send({ v: 1, type: 'register', id: 6, comp: dn, secret: 'not-the-secret' });
      const thief = await bad.next();
      assert.deepEqual([thief.id, thief.code], [6, 'not-owner']);

      // The rightful owner registers and completes the instantiation.
      const client = await AmfClient.connect({ network: streamNetwork(), env });
      const sets: CsiDescriptor[] = [];
      client.onCsiSet((d) => void sets.push(d));
      await client.register();
      assert.ok((await instantiating).ok);
      await assert.rejects(client.request({ type: 'register', comp: dn, secret: env.AMF_COMPONENT_SECRET! }), (e: AmfApiError) => e.code === 'already-registered');
      await assert.rejects(client.request({ type: 'response', invocation: 999, result: 'ok' }), (e: AmfApiError) => e.code === 'unknown-invocation');
      await assert.rejects(client.healthcheckConfirm('nothing'), (e: AmfApiError) => e.code === 'bad-state');
      await assert.rejects(client.healthcheckStart('nothing'), (e: AmfApiError) => e.code === 'unknown-key');
      await assert.rejects(client.haStateGet('t1'), (e: AmfApiError) => e.code === 'not-assigned');

      // An oversized frame closes only the sender's connection.
      bad.send({ v: 1, type: 'error-clear', id: 7, pad: 'x'.repeat(70 * 1024) });
      assert.notEqual(await bad.closed, 'local', 'the agent closed the connection');

      assert.ok((await t.agent.csiSet('su1', 'c1', { si: 'si', csi: 'csi1', csiType: 't', haState: 'active', attributes: [{ name: 'a', value: '1' }] })).ok);
      assert.equal(sets.length, 1);
      assert.deepEqual(sets[0]!.attributes, { a: '1' });
      assert.equal(await client.haStateGet('csi1'), 'active');
      assert.deepEqual(await client.protectionGroupTrack('csi1', 'current'), [{ comp: dn, haState: 'active' }]);
      assert.equal(t.faults.length, 0, 'none of the bad input became a fault of the component');

      // A CSI set answered FAILED is a failure.
      client.onCsiSet(() => {
        throw new Error('no');
      });
      const refused = await t.agent.csiSet('su1', 'c1', { si: 'si', csi: 'csi1', csiType: 't', haState: 'standby', attributes: [] });
      assert.ok(!refused.ok && /FAILED/.test(refused.error));

      // A hung CSI set callback does not hold up a cleanup.
      client.onCsiSet(() => new Promise<void>(() => {}));
      const hung = t.agent.csiSet('su1', 'c1', { si: 'si', csi: 'csi1', csiType: 't', haState: 'quiesced', attributes: [] });
      await sleep(50);
      assert.ok((await t.agent.cleanup('su1', 'c1', 'hung')).ok);
      const cut = await hung;
      assert.ok(!cut.ok);
      assert.match(cut.error, /disconnected/, 'the cleanup cut the callback short instead of letting it time out');
      assert.equal(t.faults.length, 0, 'a component the agent stops is not reported dead');
    } finally {
      await t.agent.cleanup('su1', 'c1', 'end');
      await t.close();
    }
  });

  it('closing the connection without unregister is a component death', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, `group {\n\tname = g\n\tmodel = 2n\n${fakeComp('su1', 'c1', dir)}}\n`));
    try {
      const client = await registerFake(t, 'su1', 'c1');
      client.close();
      const gone = await t.waitFault((f) => f.kind === 'error-report');
      assert.ok(gone.kind === 'error-report' && gone.source === 'process-died', 'closing without unregister is a component death');
    } finally {
      await t.agent.cleanup('su1', 'c1', 'end');
      await t.close();
    }
  });
});

/** Start an SA-aware "component" that only dumps its environment, and register a client in its name. */
async function registerFake(t: Awaited<ReturnType<typeof startAgent>>, su: string, comp: string): Promise<AmfClient> {
  const instantiating = t.agent.instantiate(su, comp);
  const envFile = join(t.dir, `env-${comp}`);
  assert.ok(await eventually(() => existsSync(envFile) && readFileSync(envFile, 'utf8').includes('AMF_COMPONENT_SECRET=')));
  const env = readEnvFile(envFile);
  const client = await AmfClient.connect({ network: streamNetwork(), env });
  client.onCsiSet(() => undefined);
  await client.register();
  assert.ok((await instantiating).ok);
  return client;
}

function fakeComp(su: string, comp: string, dir: string): string {
  return `	unit {
		name = ${su}
		component {
			name = ${comp}
			comptype = sa_aware
			command = /bin/sh -c "env > ${dir}/env-$SA_AMF_COMPONENT_NAME; exec sleep 1000"
			healthcheck {
				key = amf-hc
				period = 50
				maximum_duration = 100
				invocation = amf
			}
			healthcheck {
				key = comp-hc
				period = 100
				maximum_duration = 100
				invocation = component
			}
			csi_type_name {
				name = t
			}
		}
	}
`;
}

describe('agent: component API healthchecks and protection groups', () => {
  it('AMF-invoked: an unanswered callback fails; component-invoked: missing confirmations fail; pg-track pushes changes', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, `group {\n\tname = g\n\tmodel = 2n\n${fakeComp('su1', 'c1', dir)}${fakeComp('su2', 'c2', dir)}}\n`));
    try {
      const c1 = await registerFake(t, 'su1', 'c1');
      const c2 = await registerFake(t, 'su2', 'c2');

      // AMF-invoked: healthy while answered, a failure once the component stops answering in time.
      let hang = false;
      c1.onHealthcheck(() => (hang ? new Promise<void>(() => {}) : undefined));
      await c1.healthcheckStart('amf-hc', { invocation: 'amf', recovery: 'component-failover' });
      await assert.rejects(c1.healthcheckStart('amf-hc'), (e: AmfApiError) => e.code === 'exists');
      await sleep(250);
      assert.equal(t.faults.length, 0);
      hang = true;
      const amf = await t.waitFault((f) => f.kind === 'healthcheck-failed' && f.comp === 'c1');
      assert.deepEqual(amf, { kind: 'healthcheck-failed', su: 'su1', comp: 'c1', key: 'amf-hc', recovery: 'component-failover' });

      // Component-invoked: confirmations keep it healthy; silence fails it.
      await c2.healthcheckStart('comp-hc', { invocation: 'component' });
      for (let i = 0; i < 4; i++) {
        await sleep(40);
        await c2.healthcheckConfirm('comp-hc');
      }
      assert.equal(t.faults.filter((f) => f.comp === 'c2').length, 0);
      const silent = await t.waitFault((f) => f.kind === 'healthcheck-failed' && f.comp === 'c2');
      assert.equal(silent.kind === 'healthcheck-failed' && silent.key, 'comp-hc');

      // Protection group tracking of a CSI held by both.
      const updates: unknown[] = [];
      c2.onProtectionGroup((u) => updates.push(u));
      assert.deepEqual(await c2.protectionGroupTrack('csi1', 'changes'), []);
      const csi = { si: 'si', csi: 'csi1', csiType: 't', attributes: [] };
      assert.ok((await t.agent.csiSet('su1', 'c1', { ...csi, haState: 'active' })).ok);
      assert.ok((await t.agent.csiSet('su2', 'c2', { ...csi, haState: 'standby' })).ok);
      assert.ok((await t.agent.csiRemove('su1', 'c1', 'si', 'csi1')).ok);
      assert.ok(await eventually(() => updates.length === 3));
      const dn1 = 'safComp=c1,safSu=su1,safSg=g';
      const dn2 = 'safComp=c2,safSu=su2,safSg=g';
      assert.deepEqual(updates, [
        { csi: 'csi1', members: [{ comp: dn1, haState: 'active' }], changes: [{ comp: dn1, haState: 'active', change: 'added' }] },
        { csi: 'csi1', members: [{ comp: dn1, haState: 'active' }, { comp: dn2, haState: 'standby' }], changes: [{ comp: dn2, haState: 'standby', change: 'added' }] },
        { csi: 'csi1', members: [{ comp: dn2, haState: 'standby' }], changes: [{ comp: dn1, haState: 'active', change: 'removed' }] },
      ]);
      await c2.protectionGroupTrackStop('csi1');
      await assert.rejects(c2.protectionGroupTrackStop('csi1'), (e: AmfApiError) => e.code === 'bad-state');

      // Any CSI name may be tracked, so one connection's table is bounded.
      for (let i = 0; i < MAX_TRACKED_CSIS; i++) await c2.protectionGroupTrack(`t${i}`, 'changes-only');
      await assert.rejects(c2.protectionGroupTrack('one-more', 'changes'), (e: AmfApiError) => e.code === 'bad-state' && /tracks 256 CSIs/.test(e.message));
      await c2.protectionGroupTrack('t0', 'changes');
      await c1.protectionGroupTrack('one-more', 'changes');
      await c2.protectionGroupTrackStop('t0');
      await c2.protectionGroupTrack('one-more', 'changes-only');

      // Quiescing: the CSI set is answered at once, quiescing-complete follows with its invocation.
      let quiescingInvocation = -1;
      c2.onCsiSet((d) => {
        if (d.haState === 'quiescing') quiescingInvocation = d.invocation;
      });
      assert.ok((await t.agent.csiSet('su2', 'c2', { ...csi, haState: 'quiescing' })).ok);
      assert.equal(await c2.haStateGet('csi1'), 'quiescing');
      await assert.rejects(c2.quiescingComplete(quiescingInvocation + 100), (e: AmfApiError) => e.code === 'unknown-invocation');
      await c2.quiescingComplete(quiescingInvocation);
      const q = await t.waitFault((f) => f.kind === 'quiescing-complete');
      assert.deepEqual(q, { kind: 'quiescing-complete', su: 'su2', comp: 'c2', si: 'si', csi: 'csi1' });

      // CSI names are unique only within their SI: removing si/csi1 leaves si2/csi1 held.
      assert.ok((await t.agent.csiSet('su2', 'c2', { ...csi, si: 'si2', haState: 'active' })).ok);
      assert.ok((await t.agent.csiRemove('su2', 'c2', 'si', 'csi1')).ok);
      assert.equal(await c2.haStateGet('csi1'), 'active');
      await c2.unregister();
      c2.close();
      await sleep(50);
      assert.equal(t.faults.filter((f) => f.kind === 'error-report').length, 0, 'closing after unregister is not a death');
      c1.close();
    } finally {
      await t.agent.cleanup('su1', 'c1', 'end');
      await t.agent.cleanup('su2', 'c2', 'end');
      await t.close();
    }
  });
});

describe('agent: component API as openais and OpenSAF components use it', () => {
  it('healthcheck start before register (testamf1.c) is accepted and runs from the registration; a bad early key is reported on the connection', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, `group {\n\tname = g\n\tmodel = 2n\n${fakeComp('su1', 'c1', dir)}}\n`));
    try {
      const instantiating = t.agent.instantiate('su1', 'c1');
      const envFile = join(dir, 'env-c1');
      assert.ok(await eventually(() => existsSync(envFile) && readFileSync(envFile, 'utf8').includes('AMF_COMPONENT_SECRET=')));
      const env = readEnvFile(envFile);
      const client = await AmfClient.connect({ network: streamNetwork(), env });
      let checks = 0;
      client.onHealthcheck(() => void checks++);
      const errors: AmfApiError[] = [];
      client.onProtocolError((e) => errors.push(e));
      // testamf1.c: saAmfHealthcheckStart, then saAmfComponentRegister.
      await client.healthcheckStart('amf-hc', { invocation: 'amf' });
      await client.healthcheckStart('no-such-key', { invocation: 'amf' });
      assert.equal(checks, 0, 'nothing runs for a connection that has not proven who it is');
      await client.register();
      assert.ok((await instantiating).ok);
      assert.ok(await eventually(() => checks >= 2), 'the AMF-invoked healthcheck runs once registered');
      await assert.rejects(client.healthcheckStart('amf-hc'), (e: AmfApiError) => e.code === 'exists');
      assert.ok(await eventually(() => errors.length === 1));
      assert.equal(errors[0]!.code, 'unknown-key');
      assert.match(errors[0]!.message, /healthcheck-start 'no-such-key' sent before register: no healthcheck 'no-such-key' is configured/);
      assert.equal(t.faults.length, 0);
    } finally {
      await t.agent.cleanup('su1', 'c1', 'end');
      await t.close();
    }
  });

  it('a multi-valued CSI attribute (OpenSAF AttrMultiValue) reaches the SA-aware component whole and in order', async () => {
    const dir = makeDir();
    const si = `\tserviceinstance {\n\t\tname = AmfDemo\n\t\tcsi_descriptor {\n\t\t\tcsi_name = AmfDemo\n\t\t\ttype_name = t\n${[
      ['AttrNoValue', undefined],
      ['AttrSingleValue', 'val11'],
      ['AttrMultiValue', 'val21'],
      ['AttrMultiValue', 'val22'],
      ['AttrMultiValue', 'val23'],
    ]
      .map(([n, v]) => `\t\t\tname_value {\n\t\t\t\tname = ${n}\n${v === undefined ? '' : `\t\t\t\tvalue = ${v}\n`}\t\t\t}\n`)
      .join('')}\t\t}\n\t}\n`;
    const m = model(dir, `group {\n\tname = g\n\tmodel = 2n\n${fakeComp('su1', 'c1', dir)}${si}}\n`);
    const t = await startAgent(dir, m);
    try {
      const client = await registerFake(t, 'su1', 'c1');
      const sets: CsiDescriptor[] = [];
      client.onCsiSet((d) => void sets.push(d));
      const csi = m.groups[0]!.sis[0]!.csis[0]!;
      assert.ok((await t.agent.csiSet('su1', 'c1', { si: 'AmfDemo', csi: csi.name, csiType: 't', haState: 'active', attributes: csi.attributes })).ok);
      assert.equal(sets.length, 1);
      assert.deepEqual(sets[0]!.attributeList, [
        { name: 'AttrNoValue', value: '' },
        { name: 'AttrSingleValue', value: 'val11' },
        { name: 'AttrMultiValue', value: 'val21' },
        { name: 'AttrMultiValue', value: 'val22' },
        { name: 'AttrMultiValue', value: 'val23' },
      ]);
      assert.deepEqual(sets[0]!.attributes, { AttrNoValue: '', AttrSingleValue: 'val11', AttrMultiValue: 'val21' }, 'the map keeps the first value of each name');
    } finally {
      await t.agent.cleanup('su1', 'c1', 'end');
      await t.close();
    }
  });
});
