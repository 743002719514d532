import { Simulation } from '../index.js';
import { Memberlist, swimConfig } from '../../src/swim/index.js';
import type { NodePorts } from '../../src/runtime/tokens.js';

const cfg = swimConfig('lan-fast');
if (!cfg.ok) throw new Error(cfg.error);
const sim = new Simulation({ seed: 1 });
const mls = new Map<string, Memberlist>();
const N = Number(process.argv[2] ?? 5);
for (let i = 0; i < N; i++) {
  const name = `n${i}`;
  sim.addNode(name, (ports: NodePorts) => {
    void Memberlist.start(ports, { name, bind: `${name}:7946`, config: cfg.value }).then((r) => {
      if (!r.ok) throw new Error(r.error);
      mls.set(name, r.value);
      r.value.onEvent((e) => { if (e.kind !== 'join') console.log((e.at/1000).toFixed(3), name, e.kind, e.member.name); });
      if (i > 0) void r.value.join(['n0:7946']);
    });
    return {};
  });
}
const t0 = Date.now();
await sim.runFor(5000);
console.log('live counts', [...mls.values()].map((m) => m.liveCount()).join(','));
sim.crash('n3');
await sim.runFor(5000);
console.log('after crash', [...mls.entries()].map(([n, m]) => n + ':' + m.liveCount()).join(','), 'wall', Date.now() - t0);
