/**
 * Node services hosted by the cluster node, on whole simulated clusters with the real agent:
 * start and stop order, failures that leave the node running, gossip channels between the
 * services of different nodes (sealed and in clear), the committed-state feed, the agent's hooks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import type { RealAgentExecutor } from '../../simulator/cluster/real-agent.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';
import type { ChangeRecord } from '../../src/cluster/changelog.js';
import type { GossipChannel } from '../../src/cluster/gossip.js';
import { SERVICE_START_TIMEOUT_MS, type NodeService, type ServiceContext } from '../../src/cluster/node-service.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { err, ok, type Result } from '../../src/util/result.js';

/** Every service call of every node, in order: `n1 start a`, `n2 stop b`. */
type Journal = string[];

/** A service that records its calls; `start` says how its start ends. */
class Recorder implements NodeService {
  ctx: ServiceContext | undefined;
  constructor(
    readonly name: string,
    private readonly node: string,
    private readonly journal: Journal,
    private readonly start_: (ctx: ServiceContext) => Promise<Result<void, string>> = () => Promise.resolve(ok(undefined)),
  ) {}
  start(ctx: ServiceContext): Promise<Result<void, string>> {
    this.journal.push(`${this.node} start ${this.name}`);
    this.ctx = ctx;
    return this.start_(ctx);
  }
  stop(): Promise<void> {
    this.journal.push(`${this.node} stop ${this.name}`);
    return Promise.resolve();
  }
}

async function metric(ports: NodePorts, name: string, labels: Record<string, string>): Promise<number> {
  const m = await ports.metrics.getSingleMetric(name)?.get();
  return m?.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value ?? 0;
}

async function formed(h: ClusterHarness): Promise<void> {
  assert.ok(await h.sim.runUntil(() => h.formed(), 20_000), 'the cluster formed');
}

test('services start in order once the node runs and stop in reverse before it leaves; failed ones are logged, counted and stopped too', async () => {
  const journal: Journal = [];
  const made = new Map<string, Recorder[]>();
  const portsOf = new Map<string, NodePorts>();
  const h = new ClusterHarness({
    seed: 3,
    nodes: 3,
    agent: 'real',
    services: (ports) => {
      const n = ports.nodeName;
      portsOf.set(n, ports);
      const list = [
        new Recorder('first', n, journal),
        new Recorder('refuses', n, journal, () => Promise.resolve(err('no channel socket'))),
        new Recorder('throws', n, journal, () => {
          throw new Error('a bug in start');
        }),
        new Recorder('hangs', n, journal, () => new Promise<never>(() => {})),
        new Recorder('last', n, journal),
      ];
      made.set(n, list);
      return list;
    },
  });
  await formed(h);
  await h.sim.runFor(SERVICE_START_TIMEOUT_MS + 1000);
  assert.deepEqual(
    journal.filter((l) => l.startsWith('n1 ')),
    ['n1 start first', 'n1 start refuses', 'n1 start throws', 'n1 start hangs', 'n1 start last'],
  );
  const n1 = h.app('n1')!;
  assert.deepEqual(n1.node.serviceStatus(), [
    { name: 'first', state: 'running' },
    { name: 'refuses', state: 'failed', error: 'no channel socket' },
    { name: 'throws', state: 'failed', error: 'threw: a bug in start' },
    { name: 'hangs', state: 'failed', error: `did not start within ${SERVICE_START_TIMEOUT_MS} ms` },
    { name: 'last', state: 'running' },
  ]);
  for (const s of ['refuses', 'throws', 'hangs']) assert.equal(await metric(portsOf.get('n1')!, 'amf_node_service_failures_total', { service: s }), 1, s);
  // The node runs on: it converges with the others.
  assert.ok(await h.setConfig(clusterConfig(h.names, false, 'real')));
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), h.convergence().join('; '));

  journal.length = 0;
  let stopped = false;
  void n1.node.stop().then(() => (stopped = true));
  assert.ok(await h.sim.runUntil(() => stopped, 10_000));
  assert.deepEqual(journal, ['n1 stop last', 'n1 stop hangs', 'n1 stop throws', 'n1 stop refuses', 'n1 stop first']);
  assert.deepEqual(
    n1.node.serviceStatus().map((s) => s.state),
    ['stopped', 'failed', 'failed', 'failed', 'stopped'],
  );
});

/** A service that opens one gossip channel and keeps what it receives. */
class Talker implements NodeService {
  readonly name = 'talker';
  channel: GossipChannel | undefined;
  readonly heard: string[] = [];
  readonly changes: ChangeRecord[] = [];
  ctx: ServiceContext | undefined;
  start(ctx: ServiceContext): Promise<Result<void, string>> {
    this.ctx = ctx;
    const ch = ctx.gossip.channel('talk');
    if (!ch.ok) return Promise.resolve(ch);
    this.channel = ch.value;
    ch.value.onMessage((m) => this.heard.push(`${m.from}:${new TextDecoder().decode(m.body)}`));
    ctx.committed.onChange((c) => this.changes.push(...c));
    return Promise.resolve(ok(undefined));
  }
  stop(): Promise<void> {
    this.channel?.close();
    return Promise.resolve();
  }
}

function talkers(keys?: readonly Uint8Array[]): { h: ClusterHarness; of: (node: string) => Talker } {
  const all = new Map<string, Talker>();
  const h = new ClusterHarness({
    seed: 8,
    nodes: 3,
    agent: 'real',
    ...(keys ? { keys } : {}),
    services: (ports) => {
      const t = new Talker();
      all.set(ports.nodeName, t);
      return [t];
    },
  });
  return { h, of: (n) => all.get(n)! };
}

for (const sealed of [false, true]) {
  test(`services talk over gossip channels to one peer, some, all (${sealed ? 'sealed' : 'in clear'}); the committed feed tells every node the same story`, async () => {
    const { h, of } = talkers(sealed ? [new Uint8Array(32).fill(7)] : undefined);
    await formed(h);
    assert.ok(await h.sim.runUntil(() => h.names.every((n) => of(n).ctx?.gossip.peers().length === 2), 10_000));
    assert.deepEqual(of('n1').ctx!.gossip.peers().sort(), ['n2', 'n3']);
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    assert.deepEqual(of('n1').channel!.send(enc('to n2'), ['n2']), ok(1));
    assert.deepEqual(of('n2').channel!.send(enc('to all')), ok(2));
    await h.sim.runFor(200);
    assert.deepEqual(of('n1').heard, ['n2:to all']);
    assert.deepEqual(of('n2').heard, ['n1:to n2']);
    assert.deepEqual(of('n3').heard, ['n2:to all']);

    assert.ok(await h.setConfig(clusterConfig(h.names, false, 'real')));
    assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), h.convergence().join('; '));
    await h.sim.runFor(2000);
    const story = (n: string): string[] => of(n).changes.map((c) => `${c.seq} ${c.entity} ${c.field} ${c.old ?? '-'}>${c.new ?? '-'}`);
    const first = story('n1');
    assert.ok(first.length > 10 && first.some((l) => / si\/\S+ su\/\S+ -?>active$/.test(l)), first.slice(0, 5).join('\n'));
    // Every node applies the same log: from the first record all of them saw, the same records.
    const from = Math.max(...h.names.map((n) => of(n).changes[0]!.seq));
    const tail = (n: string): string[] => story(n).filter((l) => Number(l.split(' ')[0]) >= from);
    for (const n of h.names.slice(1)) assert.deepEqual(tail(n).slice(0, tail('n1').length), tail('n1').slice(0, tail(n).length), n);
    const seqs = of('n3').changes.map((c) => c.seq);
    assert.deepEqual(seqs, seqs.map((_, i) => seqs[0]! + i), 'no record skipped or repeated');
  });
}

test("a service's agent hooks: the local components, an error report the AMF recovers, a vote before a terminate", async () => {
  const { h, of } = talkers();
  await formed(h);
  assert.ok(await h.setConfig(clusterConfig(h.names, false, 'real')));
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 20_000), h.convergence().join('; '));
  const node = h.names.find((n) => (of(n).ctx?.agent.components() ?? []).some((c) => c.presence === 'instantiated' && c.assignments.some((a) => a.haState === 'active')))!;
  assert.ok(node, 'some node runs an active component');
  const agent = of(node).ctx!.agent;
  const comp = agent.components().find((c) => c.presence === 'instantiated' && c.assignments.some((a) => a.haState === 'active'))!;
  const { su, config } = { su: comp.entry.su.name, config: comp.entry.config };

  assert.ok(!agent.reportError('no-such-su', 'x', 'component-restart', 'talker: test').ok, 'a component this agent does not run is refused');
  const restartsBefore = h.leader()!.node.fsm.state.changes.records.filter((c) => c.entity === `comp/${su}/${config.name}` && c.field === 'recovery').length;
  assert.ok(agent.reportError(su, config.name, 'component-restart', 'talker: the guest stopped answering').ok);
  assert.ok(
    await h.sim.runUntil(() => h.leader()!.node.fsm.state.changes.records.filter((c) => c.entity === `comp/${su}/${config.name}` && c.field === 'recovery').length > restartsBefore, 10_000),
    'the AMF took a recovery action on the report',
  );

  const nodeAgent = (h.app(node)!.executor as RealAgentExecutor).agent;
  assert.deepEqual(await nodeAgent.preTerminate(su, config.name, { action: 'stop', reason: 'lock' }), ok(undefined), 'no vote: go ahead');
  const remove = agent.onPreTerminate((c, intent) => Promise.resolve(c.su.name === su ? { by: 'talker', reason: `not now (${intent.action})` } : undefined));
  assert.deepEqual(await nodeAgent.preTerminate(su, config.name, { action: 'stop', reason: 'lock' }), ok({ by: 'talker', reason: 'not now (stop)' }));
  const broken = agent.onPreTerminate(() => {
    throw new Error('a bug in a voter');
  });
  assert.deepEqual(await nodeAgent.preTerminate(su, config.name, { action: 'restart', reason: 'admin restart' }), ok({ by: 'talker', reason: 'not now (restart)' }), 'a failing voter does not hide a veto');
  remove();
  assert.deepEqual(await nodeAgent.preTerminate(su, config.name, { action: 'stop', reason: 'lock' }), ok(undefined), 'a failing voter has not voted');
  broken();
});

test('services need the real agent: a cluster node refuses them without its hooks', () => {
  assert.throws(() => new ClusterHarness({ seed: 1, nodes: 3, services: () => [new Talker()] }), /node services \(talker\) need the node agent's hooks/);
});
