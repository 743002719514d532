import 'reflect-metadata';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Gauge } from 'prom-client';
import { inject, injectable, Lifecycle } from 'tsyringe';
import type { DependencyContainer } from 'tsyringe';
import { createNodeContainer } from '../../src/runtime/container.js';
import { createNodePorts } from '../../src/runtime/node/index.js';
import type { Clock } from '../../src/runtime/ports/clock.js';
import type { Logger, Registry } from '../../src/runtime/ports/observability.js';
import type { Random } from '../../src/runtime/ports/random.js';
import type { DurableStore } from '../../src/runtime/ports/storage.js';
import { TOKENS, type NodePorts } from '../../src/runtime/tokens.js';
import { tempDir } from './node-fixtures.js';

// A small graph in the shape modules use: tokens for ports, explicit @inject on every parameter
// (tsx emits no decorator metadata), classes registered per node container.
const StatsToken = Symbol('Stats');

@injectable()
class Stats {
  readonly gauge: Gauge;
  constructor(@inject(TOKENS.Metrics) readonly metrics: Registry) {
    this.gauge = new Gauge({ name: 'amfd_test_members', help: 'test gauge', registers: [metrics] });
  }
}

@injectable()
class Engine {
  constructor(
    @inject(TOKENS.NodeName) readonly node: string,
    @inject(TOKENS.Clock) readonly clock: Clock,
    @inject(TOKENS.Random) readonly random: Random,
    @inject(TOKENS.DurableStore) readonly store: DurableStore,
    @inject(TOKENS.Logger) readonly logger: Logger,
    @inject(StatsToken) readonly stats: Stats,
  ) {}
}

function nodeContainer(ports: NodePorts): DependencyContainer {
  const c = createNodeContainer(ports);
  c.register(StatsToken, { useClass: Stats }, { lifecycle: Lifecycle.ContainerScoped });
  c.register(Engine, { useClass: Engine }, { lifecycle: Lifecycle.ContainerScoped });
  return c;
}

test('the graph resolves under tsx with every dependency present, one instance set per node', async () => {
  const dir = tempDir('compose');
  const a = createNodePorts({ nodeName: 'n1', dataDir: join(dir, 'n1'), logLevel: 'silent' });
  const b = createNodePorts({ nodeName: 'n2', dataDir: join(dir, 'n2'), logLevel: 'silent' });
  try {
    const ca = nodeContainer(a);
    const cb = nodeContainer(b);
    const ea = ca.resolve(Engine);
    const eb = cb.resolve(Engine);
    for (const [k, v] of Object.entries(ea)) assert.notEqual(v, undefined, `Engine.${k} resolved to undefined`);
    assert.equal(ea.node, 'n1');
    assert.equal(eb.node, 'n2');
    assert.equal(ea.clock, a.clock);
    assert.equal(ea.store, a.store);
    assert.notEqual(ea, eb, 'two node containers must not share an instance');
    assert.notEqual(ea.stats, eb.stats);
    assert.equal(ca.resolve(Engine), ea, 'container-scoped: one instance per node container');
    assert.equal(ea.stats.metrics, a.metrics);
  } finally {
    await a.store.close();
    await b.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one metrics registry per node: the same metric name on two nodes, labelled by node', async () => {
  const dir = tempDir('metrics');
  const a = createNodePorts({ nodeName: 'n1', dataDir: join(dir, 'n1'), logLevel: 'silent' });
  const b = createNodePorts({ nodeName: 'n2', dataDir: join(dir, 'n2'), logLevel: 'silent' });
  try {
    const sa = nodeContainer(a).resolve(StatsToken) as Stats;
    const sb = nodeContainer(b).resolve(StatsToken) as Stats;
    sa.gauge.set(3);
    sb.gauge.set(5);
    const ta = await a.metrics.metrics();
    const tb = await b.metrics.metrics();
    assert.match(ta, /amfd_test_members\{node="n1"\} 3/);
    assert.match(tb, /amfd_test_members\{node="n2"\} 5/);
    assert.doesNotMatch(ta, /n2/);
    // A third container on node a's registry collides: a registry is per node, not per object.
    assert.throws(() => new Stats(a.metrics), /already been registered/);
  } finally {
    await a.store.close();
    await b.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
