/**
 * Two host sides (ServerGroupHost of nodes n1 and n2) over an in-memory gossip bus, each member's
 * channel served by a real guest agent on a unix socket, applications on the client library:
 * broadcasts cross nodes, status comes from the committed state, notifications follow it.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AmfState } from '../../src/amf/state.js';
import { newCompState, newNodeState, newSuEscalation } from '../../src/amf/state.js';
import { NodeChannelNetwork } from '../../src/runtime/node/channel.js';
import { NodeClock } from '../../src/runtime/node/clock.js';
import { createMetricsRegistry } from '../../src/runtime/observability.js';
import type { Registry } from '../../src/runtime/ports/observability.js';
import { ServerGroupClient } from '../../src/servergroup/client.js';
import type { ServerGroup } from '../../src/servergroup/group.js';
import { GuestAgent } from '../../src/servergroup/guest-agent.js';
import { ServerGroupHost, type GossipChannel } from '../../src/servergroup/host.js';
import type { Channel } from '../../src/runtime/ports/channel.js';
import { LineDecoder } from '../../src/util/lines.js';
import { quietPorts, realHarness, tempDir } from '../runtime/node-fixtures.js';

/** Generous: a loaded 2-core machine can stall a process for seconds. */
const WAIT_MS = 30_000;

function amfState(placement: Record<string, string>, presence: Record<string, 'instantiated' | 'restarting'> = {}): AmfState {
  const s: AmfState = { nodes: { n1: { ...newNodeState('unlocked'), up: true }, n2: { ...newNodeState('unlocked'), up: true } }, sgs: {}, sus: {}, sis: {} };
  for (const [su, node] of Object.entries(placement)) {
    s.sus[su] = { node, admin: 'unlocked', oper: 'enabled', disabledCause: null, evacuate: false, comps: { vm: { ...newCompState(), presence: presence[su] ?? 'instantiated' } }, assignments: {}, escalation: newSuEscalation() };
  }
  return s;
}

describe('ServerGroupHost', () => {
  const q = quietPorts('sg-host');
  const net = new NodeChannelNetwork(q.logger);
  const clock = new NodeClock();
  let dir: string;
  let group: ServerGroup;
  const agents: GuestAgent[] = [];
  const hosts = new Map<string, ServerGroupHost>();
  const metricsOf = new Map<string, Registry>();
  const apps = new Map<string, { sg: ServerGroupClient; got: string[] }>();
  const raw: { channel?: Channel; got: string[] } = { got: [] };
  const closers: Array<() => Promise<void>> = [];
  const PLACEMENT = { vm1: 'n1', vm2: 'n1', vm3: 'n2', raw: 'n1' };

  /** Gossip between the two hosts: delivered asynchronously, as datagrams are. */
  const bus = new Map<string, (from: string, p: Uint8Array) => void>();
  const gossip = (self: string): GossipChannel => ({
    send: (node, payload) => void setImmediate(() => bus.get(node)?.(self, payload)),
    onMessage: (h) => void bus.set(self, h),
  });

  before(async () => {
    dir = tempDir('sg-host');
    group = {
      name: 'web',
      policy: 'affinity',
      broadcastRate: 100,
      broadcastBurst: 20,
      members: ['vm1', 'vm2', 'vm3', 'raw'].map((i) => ({ instance: `instance-${i}`, su: i, comp: 'vm', displayName: i, channel: join(dir, `${i}.channel.sock`) })),
    };
    // `raw` is a guest the test speaks for itself, byte for byte as StarlingX's guest_agent writes.
    const rawListener = await net.listen(join(dir, 'raw.channel.sock'));
    assert.ok(rawListener.ok);
    rawListener.value.onConnection((c) => {
      raw.channel = c;
      const lines = new LineDecoder(65536);
      c.onData((chunk) => raw.got.push(...lines.push(chunk).lines));
    });
    closers.push(() => rawListener.value.close());
    for (const m of group.members.filter((x) => x.su !== 'raw')) {
      const a = new GuestAgent({ clock, channels: net, logger: q.logger, host: { listen: m.channel! }, appSocket: join(dir, `${m.su}.app.sock`) });
      assert.ok((await a.start()).ok);
      agents.push(a);
    }
    for (const node of ['n1', 'n2']) {
      metricsOf.set(node, createMetricsRegistry(node));
      hosts.set(node, new ServerGroupHost({ node, clock, channels: net, gossip: gossip(node), logger: q.logger, metrics: metricsOf.get(node)!, minBackoffMs: 20, maxBackoffMs: 100 }));
    }
    const base = { groups: [group], time: Date.UTC(2024, 4, 1), changes: [] };
    for (const h of hosts.values()) h.onCommitted({ ...base, amf: amfState(PLACEMENT) });
    await realHarness.waitFor(() => agents.every((a) => a.hostConnected) && raw.channel !== undefined, WAIT_MS, 'every member channel connected by its host');
    for (const m of group.members.filter((x) => x.su !== 'raw')) {
      const got: string[] = [];
      const r = await ServerGroupClient.init(
        { broadcast: (from, msg) => got.push(`broadcast ${from} ${msg}`), notification: (n) => got.push(`notification ${n}`), status: (s) => got.push(`status ${s}`) },
        { channels: net, clock, socketPath: join(dir, `${m.su}.app.sock`) },
      );
      assert.ok(r.ok);
      r.value.on('error', (e) => got.push(`error ${e}`));
      apps.set(m.su, { sg: r.value, got });
    }
  });
  after(async () => {
    for (const c of closers) await c();
    raw.channel?.close();
    for (const a of apps.values()) a.sg.close();
    for (const h of hosts.values()) h.stop();
    for (const a of agents) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a channel for each member it hosts and none for the others', () => {
    assert.deepEqual(hosts.get('n1')?.channels().map((c) => [c.instance, c.state]), [['instance-vm1', 'connected'], ['instance-vm2', 'connected'], ['instance-raw', 'connected']]);
    assert.deepEqual(hosts.get('n2')?.channels().map((c) => [c.instance, c.state]), [['instance-vm3', 'connected']]);
  });

  it('broadcasts reach every other member, on this node and across', async () => {
    assert.ok(apps.get('vm1')?.sg.broadcast('this is a test').ok);
    await realHarness.waitFor(() => apps.get('vm2')!.got.length === 1 && apps.get('vm3')!.got.length === 1 && raw.got.length === 1, WAIT_MS, 'three receivers');
    assert.deepEqual(raw.got, ['{"version":2,"source_addr":"cgcs.server_grp","dest_addr":"cgcs.server_grp","data":{"version":2,"msg_type":"broadcast","source_instance":"instance-vm1","data":"this is a test"}}']);
    assert.deepEqual(apps.get('vm2')?.got, ['broadcast instance-vm1 this is a test']);
    assert.deepEqual(apps.get('vm3')?.got, ['broadcast instance-vm1 this is a test']);
    assert.deepEqual(apps.get('vm1')?.got, [], 'not back to the sender');
  });

  it('answers status from the committed state: every member, itself included', async () => {
    const app = apps.get('vm3')!;
    app.got.length = 0;
    assert.ok(app.sg.requestStatus().ok);
    await realHarness.waitFor(() => app.got.length === 1, WAIT_MS, 'status');
    const list = JSON.parse(app.got[0]!.slice('status '.length)) as Array<{ instance_id: string; host: string; state: string }>;
    assert.deepEqual(list.map((s) => [s.instance_id, s.host, s.state]), [['instance-vm1', 'n1', 'active'], ['instance-vm2', 'n1', 'active'], ['instance-vm3', 'n2', 'active'], ['instance-raw', 'n1', 'active']]);
  });

  it('notifies the other members when one fails, each through its own host', async () => {
    for (const a of apps.values()) a.got.length = 0;
    const amf = amfState(PLACEMENT, { vm2: 'restarting' });
    for (const h of hosts.values()) h.onCommitted({ groups: [group], amf, time: Date.UTC(2024, 4, 1, 0, 0, 5), changes: [], recoveries: new Map([['vm2', 'component-restart: process died']]) });
    await realHarness.waitFor(() => apps.get('vm1')!.got.length === 1 && apps.get('vm3')!.got.length === 1, WAIT_MS, 'notifications');
    for (const su of ['vm1', 'vm3']) {
      const n = JSON.parse(apps.get(su)!.got[0]!.slice('notification '.length)) as { payload: { instance_id: string; event: string; reason: string }; priority: string; timestamp: string };
      assert.deepEqual([n.payload.instance_id, n.payload.event, n.payload.reason, n.priority, n.timestamp], ['instance-vm2', 'failed', 'component-restart: process died', 'ERROR', '2024-05-01T00:00:05.000Z']);
    }
    assert.deepEqual(apps.get('vm2')?.got, [], 'the failed member is not told about itself');
  });

  it('answers a bad guest with nacks, drops its flood and counts it, while the others keep talking', async () => {
    const send = (line: string): boolean => raw.channel!.write(`\n${line}\n`);
    const tail = '"version":2,"dest_addr":"cgcs.server_grp","source_addr":"cgcs.server_grp"';
    raw.got.length = 0;
    send('{"data":{"version":2,"msg_type":"broadcast","data":"' + 'x'.repeat(3051) + '"},' + tail + '}');
    send('{"data":{"version":2,"msg_type":"broadcast",');
    send('{"data":{"version":2,"msg_type":"broadcast","data":"old"},"version":1,"dest_addr":"cgcs.server_grp","source_addr":"cgcs.server_grp"}');
    send('{"data":{"version":2,"msg_type":"broadcast","data":"psst"},"version":2,"dest_addr":"other","source_addr":"cgcs.server_grp"}');
    raw.channel!.write(`\n${'y'.repeat(30_000)}\n`);
    await realHarness.waitFor(() => raw.got.length === 5, WAIT_MS, 'five nacks');
    const logs = raw.got.map((l) => (JSON.parse(l) as { data: { msg_type: string; log_msg: string } }).data);
    assert.ok(logs.every((d) => d.msg_type === 'nack'));
    assert.deepEqual(
      logs.map((d) => d.log_msg),
      [
        'broadcast data is 3051 bytes, above the limit of 3050 bytes (MAX_MSG_DATA_LEN)',
        'failed to parse msg: not JSON',
        'invalid guest agent message version 1, expecting 2',
        'dest_addr "other" is not served here: a member reaches its own server group (web) at cgcs.server_grp',
        'message of 30000 bytes or more dropped: above the line limit',
      ],
    );
    // A flood: the burst gets through, the rest is dropped and counted; vm1 still reaches everyone.
    for (const a of apps.values()) a.got.length = 0;
    for (let i = 0; i < 500; i++) send('{"data":{"version":2,"msg_type":"broadcast","data":"flood ' + i + '"},' + tail + '}');
    assert.ok(apps.get('vm1')?.sg.broadcast('still here').ok);
    await realHarness.waitFor(() => apps.get('vm3')!.got.includes('broadcast instance-vm1 still here'), WAIT_MS, 'vm1 heard past the flood');
    // Every flood message is either delivered or counted as rate-limited; most are limited.
    const n1 = metricsOf.get('n1')!;
    const limited = async (): Promise<number> => Number(/reason="rate-limit"[^}]*} (\d+)/.exec(await n1.getSingleMetricAsString('amf_servergroup_dropped_total'))?.[1] ?? 0);
    const heard = (): number => apps.get('vm2')!.got.filter((g) => g.startsWith('broadcast instance-raw flood')).length;
    let counted = await limited();
    for (const end = Date.now() + WAIT_MS; counted + heard() !== 500; counted = await limited()) {
      assert.ok(Date.now() < end, `every flood message delivered or counted: ${counted} limited + ${heard()} heard`);
      await realHarness.sleep(20);
    }
    assert.ok(counted > 250, `most of the flood is rate-limited: ${counted} of 500`);
  });
});
