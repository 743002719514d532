import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Gauge, type Registry } from 'prom-client';
import { createNodePorts } from '../../src/runtime/node/index.js';
import { tempDir } from './node-fixtures.js';

const members = (metrics: Registry): Gauge =>
  new Gauge({ name: 'amfd_test_members', help: 'test gauge', registers: [metrics] });

test('one metrics registry per node: the same metric name on two nodes, labelled by node', async () => {
  const dir = tempDir('metrics');
  const a = createNodePorts({ nodeName: 'n1', dataDir: join(dir, 'n1'), logLevel: 'silent' });
  const b = createNodePorts({ nodeName: 'n2', dataDir: join(dir, 'n2'), logLevel: 'silent' });
  try {
    members(a.metrics).set(3);
    members(b.metrics).set(5);
    const ta = await a.metrics.metrics();
    const tb = await b.metrics.metrics();
    assert.match(ta, /amfd_test_members\{node="n1"\} 3/);
    assert.match(tb, /amfd_test_members\{node="n2"\} 5/);
    assert.doesNotMatch(ta, /n2/);
    // A second metric of that name on node a's registry collides: a registry is per node, not per object.
    assert.throws(() => members(a.metrics), /already been registered/);
  } finally {
    await a.store.close();
    await b.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
