import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Simulation } from '../../simulator/index.js';
import type { Message } from '../../src/raft/core/types.js';
import { StreamTransport } from '../../src/raft/transport/stream-transport.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';

const options = (id: string) => ({ id, connectTimeoutMs: 200, minBackoffMs: 20, maxBackoffMs: 250, maxQueued: 4 });
const hb = (from: string, to: string, term: number): Message => ({ type: 'heartbeat', from, to, term, commit: 0, context: '' });

/** A node app that is just a transport, recording what it receives. */
class Endpoint {
  readonly got: Message[] = [];
  readonly peers: Array<[string, string]> = [];
  transport: StreamTransport | undefined;
  constructor(ports: NodePorts) {
    void StreamTransport.listen(ports.stream, `${ports.nodeName}:7000`, ports.clock, ports.logger, ports.metrics, options(ports.nodeName)).then((t) => {
      this.transport = t;
      t.onMessage((m) => this.got.push(m));
      t.onPeerAddress((id, address) => this.peers.push([id, address]));
    });
  }
}

test('messages to a peer that is down are queued (bounded), then delivered in order once it is up', async () => {
  const sim = new Simulation({ seed: 1 });
  sim.addNode('a', (p: NodePorts) => new Endpoint(p));
  sim.addNode('b', (p: NodePorts) => new Endpoint(p), { start: false });
  await sim.runFor(10);
  const a = sim.app<Endpoint>('a')!;
  for (let term = 1; term <= 10; term++) a.transport!.send('b:7000', hb('a', 'b', term));
  await sim.runFor(500);
  sim.start('b');
  for (let term = 11; term <= 12; term++) a.transport!.send('b:7000', hb('a', 'b', term));
  assert.ok(await sim.runUntil(() => sim.app<Endpoint>('b')!.got.length >= 2, 2000));
  await sim.runFor(100);
  const b = sim.app<Endpoint>('b')!;
  const terms = b.got.map((m) => m.term);
  assert.deepEqual(terms, [...terms].sort((x, y) => x - y), 'out of order');
  assert.ok(terms.length <= 4, `queue not bounded: ${terms.join(',')}`);
  assert.equal(terms[terms.length - 1], 12);
  assert.deepEqual(b.peers, [['a', 'a:7000']]);
});

test('a message whose from differs from the hello is refused and closes the connection', async () => {
  const sim = new Simulation({ seed: 2 });
  sim.addNode('a', (p: NodePorts) => new Endpoint(p));
  sim.addNode('b', (p: NodePorts) => new Endpoint(p));
  await sim.runFor(10);
  sim.app<Endpoint>('a')!.transport!.send('b:7000', hb('mallory', 'b', 1));
  sim.app<Endpoint>('a')!.transport!.send('b:7000', hb('a', 'b', 2));
  await sim.runFor(1000);
  const b = sim.app<Endpoint>('b')!;
  assert.ok(!b.got.some((m) => m.from === 'mallory'));
  const bad = await sim.ports('b').metrics.getSingleMetric('raft_transport_bad_frames_total')!.get();
  assert.deepEqual(bad.values.map((v) => [v.labels.reason, v.value]), [['spoofed', 1]]);
});
