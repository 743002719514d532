import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodePorts } from '../../src/runtime/tokens.js';
import type { StreamConnection } from '../../src/runtime/ports/stream.js';
import { swimConfig } from '../../src/swim/config.js';
import { MAX_SERVED_PUSH_PULLS, Memberlist } from '../../src/swim/memberlist.js';
import { Simulation } from '../../simulator/index.js';

test('push-pull connections served at once are capped; the rest are refused and counted, and the cap frees up', async () => {
  const config = swimConfig('lan-fast');
  assert.ok(config.ok);
  const sim = new Simulation({ seed: 5, traceKeep: 0 });
  let ports: NodePorts | undefined;
  sim.addNode('a', (p: NodePorts) => {
    ports = p;
    void Memberlist.start(p, { name: 'a', bind: 'a:7946', config: config.value });
    return {};
  });
  sim.addNode('m', () => ({}));
  await sim.runFor(10);
  const busy = async () => (await ports?.metrics.getSingleMetric('swim_packets_dropped_total')?.get())?.values.find((v) => v.labels.reason === 'busy')?.value ?? 0;
  const closed = new Set<StreamConnection>();
  const open = (n: number): Promise<StreamConnection[]> =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const c = await sim.ports('m').stream.connect('a:7946', { timeoutMs: 1000 });
        assert.ok(c.ok);
        c.value.onClose(() => closed.add(c.value));
        return c.value;
      }),
    );
  // Connections that never send a frame, as a flood would.
  const flood = open(MAX_SERVED_PUSH_PULLS + 2);
  await sim.runFor(200);
  const conns = await flood;
  assert.equal(closed.size, 2, 'all but the capped number are closed at once');
  assert.equal(await busy(), 2);
  // The served ones time out (streamTimeoutMs) and free their slots.
  await sim.runFor(config.value.streamTimeoutMs + 500);
  assert.equal(closed.size, conns.length);
  const later = open(1);
  await sim.runFor(200);
  const [c] = await later;
  assert.ok(c && !closed.has(c), 'a connection after the flood is served again');
  assert.equal(await busy(), 2);
});
