/**
 * npm run bench:sim — how fast the simulator kernel runs, in simulated events per second of CPU
 * time (wall time is printed too; on a loaded machine it mostly measures the other processes):
 * 1. the bare scheduler (timers only, no microtask draining);
 * 2. the amf-sim run demo (5 nodes, 60 s virtual, loss + partitions + crashes);
 * 3. a 1 000-node cluster, each node sending one datagram to a random peer every 100 ms (a
 *    SWIM-sized load through the full Simulation: fault model, trace hash, node domains).
 * The last line is `bench:sim events_per_cpu_sec=<median of the 1 000-node runs>`.
 */
import type { NodePorts } from '../src/runtime/node-ports.js';
import { Domain, Scheduler, SimClock, Simulation } from '../simulator/index.js';
import { runDemo } from '../simulator/demo/run.js';
import { parseFaults } from '../simulator/faults.js';
import { formatStats, measure, summarize, type Sample, type Stats } from './harness.js';

/** Events per second over the runs; "p99" is the slow tail (the lowest rate). */
function rates(samples: readonly Sample[], events: number, clock: 'cpuMs' | 'wallMs'): Stats {
  const perRun = samples.map((s) => (events / s[clock]) * 1000);
  const s = summarize(perRun);
  return { ...s, p99: s.min };
}

function report(name: string, samples: readonly Sample[], events: number): number {
  const cpu = rates(samples, events, 'cpuMs');
  console.log(formatStats(`${name} (${events} events) per CPU s`, cpu, 'events/s', 0));
  console.log(formatStats(`${name} wall time`, summarize(samples.map((s) => s.wallMs)), 'ms'));
  return cpu.median;
}

async function bareScheduler(): Promise<void> {
  let events = 0;
  const samples = await measure(
    () => {
      const s = new Scheduler();
      for (let i = 0; i < 1000; i++) new SimClock(s, new Domain(`n${i}`)).setPeriodic(1000 + i, () => undefined);
      while (s.step(1_000_000));
      events = s.executed;
    },
    { warmup: 1, runs: 5 },
  );
  report('scheduler only, 1 000 intervals, 1 000 s virtual', samples, events);
}

async function demo(): Promise<void> {
  const faults = parseFaults('loss=0.1,partition,crash');
  if (!faults.ok) throw new Error(faults.error);
  let events = 0;
  const samples = await measure(
    async () => {
      events = (await runDemo({ seed: 7, nodes: 5, durationMs: 60_000, faults: faults.value })).events;
    },
    { warmup: 1, runs: 5 },
  );
  report('amf-sim run demo, 5 nodes, 60 s virtual', samples, events);
}

async function thousandNodes(): Promise<number> {
  const NODES = 1000;
  let events = 0;
  const samples = await measure(
    async () => {
      const sim = new Simulation({ seed: 1, link: { loss: 0.01 } });
      const names = Array.from({ length: NODES }, (_, i) => `n${i}`);
      for (const name of names) {
        sim.addNode(name, (p: NodePorts) => {
          void p.datagram.bind(`${name}:7946`).then((s) => {
            s.onMessage(() => undefined);
            const msg = new Uint8Array(64);
            p.clock.setPeriodic(100, () => void s.send(`${names[p.random.int(0, NODES)]}:7946`, msg));
          });
          return p;
        });
      }
      await sim.runFor(10_000);
      events = sim.scheduler.executed;
    },
    { warmup: 1, runs: 3 },
  );
  return report('1 000 nodes, a datagram each per 100 ms, 10 s virtual', samples, events);
}

await bareScheduler();
await demo();
const median = await thousandNodes();
console.log(`bench:sim events_per_cpu_sec=${Math.round(median)}`);
