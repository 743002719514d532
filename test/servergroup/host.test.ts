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
import { ServerGroupClient } from '../../src/servergroup/client.js';
import type { ServerGroup } from '../../src/servergroup/group.js';
import { GuestAgent } from '../../src/servergroup/guest-agent.js';
import { ServerGroupHost, type GossipChannel } from '../../src/servergroup/host.js';
import { quietPorts, realHarness, tempDir } from '../runtime/node-fixtures.js';

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
  const apps = new Map<string, { sg: ServerGroupClient; got: string[] }>();

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
      members: ['vm1', 'vm2', 'vm3'].map((i) => ({ instance: `instance-${i}`, su: i, comp: 'vm', displayName: i, channel: join(dir, `${i}.channel.sock`) })),
    };
    for (const m of group.members) {
      const a = new GuestAgent({ clock, channels: net, logger: q.logger, host: { listen: m.channel }, appSocket: join(dir, `${m.su}.app.sock`) });
      assert.ok((await a.start()).ok);
      agents.push(a);
    }
    for (const node of ['n1', 'n2']) {
      hosts.set(node, new ServerGroupHost({ node, clock, channels: net, gossip: gossip(node), logger: q.logger, metrics: createMetricsRegistry(node), minBackoffMs: 20, maxBackoffMs: 100 }));
    }
    const base = { groups: [group], time: Date.UTC(2024, 4, 1), changes: [] };
    for (const h of hosts.values()) h.onCommitted({ ...base, amf: amfState({ vm1: 'n1', vm2: 'n1', vm3: 'n2' }) });
    await realHarness.waitFor(() => agents.every((a) => a.hostConnected), 10_000, 'every member channel connected by its host');
    for (const m of group.members) {
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
    for (const a of apps.values()) a.sg.close();
    for (const h of hosts.values()) h.stop();
    for (const a of agents) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds a channel for each member it hosts and none for the others', () => {
    assert.deepEqual(hosts.get('n1')?.channels().map((c) => [c.instance, c.state]), [['instance-vm1', 'connected'], ['instance-vm2', 'connected']]);
    assert.deepEqual(hosts.get('n2')?.channels().map((c) => [c.instance, c.state]), [['instance-vm3', 'connected']]);
  });

  it('broadcasts reach every other member, on this node and across', async () => {
    assert.ok(apps.get('vm1')?.sg.broadcast('this is a test').ok);
    await realHarness.waitFor(() => apps.get('vm2')!.got.length === 1 && apps.get('vm3')!.got.length === 1, 5000, 'two receivers');
    assert.deepEqual(apps.get('vm2')?.got, ['broadcast instance-vm1 this is a test']);
    assert.deepEqual(apps.get('vm3')?.got, ['broadcast instance-vm1 this is a test']);
    assert.deepEqual(apps.get('vm1')?.got, [], 'not back to the sender');
  });

  it('answers status from the committed state: every member, itself included', async () => {
    const app = apps.get('vm3')!;
    app.got.length = 0;
    assert.ok(app.sg.requestStatus().ok);
    await realHarness.waitFor(() => app.got.length === 1, 5000, 'status');
    const list = JSON.parse(app.got[0]!.slice('status '.length)) as Array<{ instance_id: string; host: string; state: string }>;
    assert.deepEqual(list.map((s) => [s.instance_id, s.host, s.state]), [['instance-vm1', 'n1', 'active'], ['instance-vm2', 'n1', 'active'], ['instance-vm3', 'n2', 'active']]);
  });

  it('notifies the other members when one fails, each through its own host', async () => {
    for (const a of apps.values()) a.got.length = 0;
    const amf = amfState({ vm1: 'n1', vm2: 'n1', vm3: 'n2' }, { vm2: 'restarting' });
    for (const h of hosts.values()) h.onCommitted({ groups: [group], amf, time: Date.UTC(2024, 4, 1, 0, 0, 5), changes: [], recoveries: new Map([['vm2', 'component-restart: process died']]) });
    await realHarness.waitFor(() => apps.get('vm1')!.got.length === 1 && apps.get('vm3')!.got.length === 1, 5000, 'notifications');
    for (const su of ['vm1', 'vm3']) {
      const n = JSON.parse(apps.get(su)!.got[0]!.slice('notification '.length)) as { payload: { instance_id: string; event: string; reason: string }; priority: string; timestamp: string };
      assert.deepEqual([n.payload.instance_id, n.payload.event, n.payload.reason, n.priority, n.timestamp], ['instance-vm2', 'failed', 'component-restart: process died', 'ERROR', '2024-05-01T00:00:05.000Z']);
    }
    assert.deepEqual(apps.get('vm2')?.got, [], 'the failed member is not told about itself');
  });
});
