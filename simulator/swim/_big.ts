import { Simulation } from '../index.js';
import { Memberlist, swimConfig } from '../../src/swim/index.js';
import type { NodePorts } from '../../src/runtime/tokens.js';

const cfg = swimConfig(process.argv[3] === 'lan' ? 'lan' : 'lan-fast');
if (!cfg.ok) throw new Error(cfg.error);
const sim = new Simulation({ seed: 1, traceKeep: 0 });
const mls = new Map<string, Memberlist>();
const N = Number(process.argv[2] ?? 100);
for (let i = 0; i < N; i++) {
  const name = `n${i}`;
  sim.addNode(name, (ports: NodePorts) => {
    void Memberlist.start(ports, { name, bind: `${name}:7946`, config: cfg.value }).then((r) => {
      if (!r.ok) throw new Error(r.error);
      mls.set(name, r.value);
      if (i > 0) ports.clock.setTimer(i * 5, () => void r.value.join(['n0:7946']));
    });
    return {};
  });
}
const t0 = Date.now();
for (let s = 1; s <= Number(process.env.SECS ?? 120); s++) {
  await sim.runFor(1000);
  let min = Infinity; let full = 0;
  for (const m of mls.values()) { const c = m.liveCount(); min = Math.min(min, c); if (c === N) full++; }
  console.log(`t=${s}s min=${min} full=${full} wall=${Date.now() - t0}ms events=${sim.scheduler.executed}`);
  if (full === N) break;
}
