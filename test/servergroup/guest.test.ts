/**
 * The guest side on real unix sockets: the guest agent (in QEMU's place: it listens for the
 * host), a stand-in host that speaks the host's half of the wire, and the client library.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NodeChannelNetwork } from '../../src/runtime/node/channel.js';
import { NodeClock } from '../../src/runtime/node/clock.js';
import type { Channel } from '../../src/runtime/ports/channel.js';
import { ServerGroupClient } from '../../src/servergroup/client.js';
import { GuestAgent } from '../../src/servergroup/guest-agent.js';
import { LineDecoder } from '../../src/util/lines.js';
import { quietPorts, realHarness, tempDir } from '../runtime/node-fixtures.js';

/** Generous: a loaded 2-core machine can stall a process for seconds. */
const WAIT_MS = 30_000;

const host = (dest: string, data: object): string => `\n${JSON.stringify({ version: 2, source_addr: 'cgcs.server_grp', dest_addr: dest, data })}\n`;

describe('guest agent and client library', () => {
  const q = quietPorts('guest');
  const net = new NodeChannelNetwork(q.logger);
  const clock = new NodeClock();
  let dir: string;
  let agent: GuestAgent;
  let hostEnd: Channel;
  const fromGuest: string[] = [];
  const clients: ServerGroupClient[] = [];

  before(async () => {
    dir = tempDir('sg-guest');
    agent = new GuestAgent({ clock, channels: net, logger: q.logger, host: { listen: join(dir, 'channel.sock') }, appSocket: join(dir, 'app.sock') });
    assert.deepEqual(await agent.start(), { ok: true, value: undefined });
  });
  after(async () => {
    for (const c of clients) c.close();
    hostEnd?.close();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const client = async (): Promise<{ sg: ServerGroupClient; got: string[] }> => {
    const got: string[] = [];
    const r = await ServerGroupClient.init(
      { broadcast: (from, msg) => got.push(`broadcast ${from} ${msg}`), notification: (m) => got.push(`notification ${m}`), status: (m) => got.push(`status ${m}`) },
      { channels: net, clock, socketPath: join(dir, 'app.sock') },
    );
    assert.ok(r.ok, r.ok ? '' : r.error);
    r.value.on('error', (e) => got.push(`error ${e}`));
    clients.push(r.value);
    return { sg: r.value, got };
  };

  it('init fails as a value when no agent answers', async () => {
    const r = await ServerGroupClient.init({}, { channels: net, clock, socketPath: join(dir, 'nobody.sock') });
    assert.ok(!r.ok);
    assert.match(r.error, /cannot reach the server-group guest agent at .*nobody\.sock: .*nothing listens/);
  });

  it('with no host connected, the agent refuses and the client hears why', async () => {
    const { sg, got } = await client();
    assert.deepEqual(sg.broadcast('anyone?'), { ok: true, value: undefined });
    await realHarness.waitFor(() => got.length > 0, WAIT_MS, 'the refusal');
    assert.deepEqual(got, ['error Nack received, error message from guest agent: guest agent: the host is not connected; message dropped']);
  });

  it('relays both ways: source_addr per application, answers to the asker, broadcasts to every application', async () => {
    const h = await net.connect(join(dir, 'channel.sock'), { timeoutMs: 2000 });
    assert.ok(h.ok);
    hostEnd = h.value;
    const lines = new LineDecoder(65536);
    hostEnd.onData((c) => fromGuest.push(...lines.push(c).lines));
    await realHarness.waitFor(() => agent.hostConnected, WAIT_MS, 'agent sees the host');
    const a = await client();
    const b = await client();
    assert.deepEqual(a.sg.requestStatus(), { ok: true, value: 1 });
    assert.deepEqual(b.sg.broadcast('from b'), { ok: true, value: undefined });
    await realHarness.waitFor(() => fromGuest.length === 2, WAIT_MS, 'two messages at the host');
    const [qa, bb] = fromGuest.map((l) => JSON.parse(l) as { source_addr: string; dest_addr: string; data: object });
    assert.deepEqual(qa?.data, { version: 2, msg_type: 'status_query', seq: 1 });
    assert.deepEqual(bb?.data, { version: 2, msg_type: 'broadcast', data: 'from b' });
    assert.equal(qa?.dest_addr, 'cgcs.server_grp');
    assert.notEqual(qa?.source_addr, bb?.source_addr, 'each application has its own address');
    // The host answers the query to its asker, and broadcasts to every application.
    hostEnd.write(host(qa!.source_addr, { version: 2, msg_type: 'status_response', seq: 1, data: { instance_id: 'i-1' } }));
    hostEnd.write(host(qa!.source_addr, { version: 2, msg_type: 'status_response', seq: 1, data: { instance_id: 'i-2' } }));
    hostEnd.write(host(qa!.source_addr, { version: 2, msg_type: 'status_response_done', seq: 1 }));
    hostEnd.write(host('cgcs.server_grp', { version: 2, msg_type: 'broadcast', source_instance: 'instance-x', data: 'hello all' }));
    hostEnd.write(host('cgcs.server_grp', { version: 2, msg_type: 'notification', data: { payload: { instance_id: 'i-2', state: 'error' } } }));
    hostEnd.write(host(bb!.source_addr, { version: 2, msg_type: 'nack', orig_msg_type: 'broadcast', log_msg: 'too long' }));
    await realHarness.waitFor(() => a.got.length === 3 && b.got.length === 3, WAIT_MS, 'deliveries');
    assert.deepEqual(a.got, ['status [{"instance_id":"i-1"},{"instance_id":"i-2"}]', 'broadcast instance-x hello all', 'notification {"payload":{"instance_id":"i-2","state":"error"}}']);
    assert.deepEqual(b.got, ['broadcast instance-x hello all', 'notification {"payload":{"instance_id":"i-2","state":"error"}}', 'error Nack received, error message from host: too long']);
  });

  it('a newer query drops the answers of an older one; checks its own broadcasts first', async () => {
    const { sg, got } = await client();
    sg.requestStatus();
    const seq = sg.requestStatus();
    assert.deepEqual(seq, { ok: true, value: 2 });
    await realHarness.waitFor(() => fromGuest.filter((l) => l.includes('"seq":2')).length > 0, WAIT_MS, 'second query');
    const src = (JSON.parse(fromGuest.at(-1)!) as { source_addr: string }).source_addr;
    hostEnd.write(host(src, { version: 2, msg_type: 'status_response', seq: 1, data: { old: true } }));
    hostEnd.write(host(src, { version: 2, msg_type: 'status_response', seq: 2, data: { new: true } }));
    hostEnd.write(host(src, { version: 2, msg_type: 'status_response_done', seq: 2 }));
    await realHarness.waitFor(() => got.length === 2, WAIT_MS, 'answers');
    assert.deepEqual(got, ["error status resp seqnum 1 doesn't match expected 2", 'status [{"new":true}]']);
    const tooLong = sg.broadcast('x'.repeat(3051));
    assert.deepEqual(tooLong, { ok: false, error: 'broadcast data is 3051 bytes, above the limit of 3050 bytes (MAX_MSG_DATA_LEN)' });
    assert.equal(sg.error, tooLong.ok ? '' : tooLong.error);
    assert.deepEqual(sg.broadcast('a\nb'), { ok: false, error: 'broadcast data must not contain a newline' });
  });
});
