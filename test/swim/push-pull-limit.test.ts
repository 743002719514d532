import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import type { StreamConnection } from '../../src/runtime/ports/stream.js';
import { swimConfig } from '../../src/swim/config.js';
import { MAX_SERVED_PUSH_PULLS, MAX_SERVED_PUSH_PULLS_PER_HOST, Memberlist } from '../../src/swim/memberlist.js';
import { Simulation } from '../../simulator/index.js';

test('push-pull connections served at once are capped per host and in all; the rest are closed at accept, and the caps free up', async () => {
  const config = swimConfig('lan-fast');
  assert.ok(config.ok);
  const sim = new Simulation({ seed: 5, traceKeep: 0 });
  sim.addNode('a', (p: NodePorts) => {
    void Memberlist.start(p, { name: 'a', bind: 'a:7946', config: config.value });
    return {};
  });
  const hosts = Array.from({ length: Math.ceil(MAX_SERVED_PUSH_PULLS / MAX_SERVED_PUSH_PULLS_PER_HOST) + 1 }, (_, i) => `m${i}`);
  for (const h of hosts) sim.addNode(h, () => ({}));
  await sim.runFor(10);
  const closed = new Set<StreamConnection>();
  const open = (host: string, n: number): Promise<StreamConnection[]> =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const c = await sim.ports(host).stream.connect('a:7946', { timeoutMs: 1000 });
        assert.ok(c.ok);
        c.value.onClose(() => closed.add(c.value));
        return c.value;
      }),
    );
  // Connections that never send a frame, as a flood would: one host gets its share and no more.
  const one = await (async () => {
    const p = open('m0', MAX_SERVED_PUSH_PULLS_PER_HOST + 2);
    await sim.runFor(200);
    return p;
  })();
  assert.equal(closed.size, 2, 'beyond its per-host share a host is closed at accept');
  // Many hosts: all but the total are closed at once.
  const flood = Promise.all(hosts.slice(1).map((h) => open(h, MAX_SERVED_PUSH_PULLS_PER_HOST)));
  await sim.runFor(200);
  const all = [...one, ...(await flood).flat()];
  const served = all.filter((c) => !closed.has(c)).length;
  assert.equal(served, MAX_SERVED_PUSH_PULLS);
  // The served ones are closed at streamTimeoutMs and free their slots.
  await sim.runFor(config.value.streamTimeoutMs + 500);
  assert.equal(closed.size, all.length);
  const [later] = await (async () => {
    const p = open('m0', 1);
    await sim.runFor(200);
    return p;
  })();
  assert.ok(later && !closed.has(later), 'a connection after the flood is served again');
});
