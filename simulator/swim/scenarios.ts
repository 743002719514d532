import { swimConfig, type SwimConfig, type SwimProfile } from '../../src/swim/config.js';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { quantile, SwimCluster } from './cluster.js';

/**
 * The amf-sim swim scenarios. Each builds a cluster of real Memberlist drivers on the simulator,
 * prints a table and checks invariants (never wall-clock timings): (a) join and convergence,
 * (b) crash detection at every member, (c) false positives with Lifeguard on versus off under loss
 * and stalls, (d) partition and heal.
 */
export interface ScenarioOptions {
  readonly seed: number;
  /** Cluster size (scenario default when absent: 1000 for a, 100 for b and c, 20 for d). */
  readonly nodes?: number;
  readonly profile: SwimProfile;
  /** Virtual run time for scenario c (default 120 s). */
  readonly durationMs?: number;
  readonly print: (line: string) => void;
}

export interface ScenarioResult {
  readonly violations: string[];
  readonly figures: Record<string, number>;
}

const NAME = (i: number) => `n${i}`;

function profileConfig(profile: SwimProfile, overrides: Partial<SwimConfig> = {}): SwimConfig {
  const c = swimConfig(profile, overrides);
  if (!c.ok) throw new Error(c.error);
  return c.value;
}

const s = (ms: number) => (ms / 1000).toFixed(2);

/**
 * Start `n` nodes; node 0 is the seed, node i joins through it at i · spread / n. Returns once
 * everyone sees everyone alive (or maxMs passed) with the convergence time, or undefined.
 */
async function joinAll(c: SwimCluster, n: number, spreadMs: number, maxMs: number): Promise<number | undefined> {
  const names = Array.from({ length: n }, (_, i) => NAME(i));
  names.forEach((name, i) => c.add(name, i === 0 ? [] : [NAME(0)], Math.floor((i * spreadMs) / n)));
  const start = c.sim.now;
  // Converged is checked every 100 ms of virtual time (the check is O(N) per node).
  for (let t = 0; t < maxMs; t += 100) {
    await c.sim.runFor(100);
    if (c.sim.now - start >= spreadMs && c.converged(names)) return c.sim.now - start;
  }
  return undefined;
}

/** (a) N nodes join through one seed node and converge. */
export async function scenarioConverge(o: ScenarioOptions): Promise<ScenarioResult> {
  const n = o.nodes ?? 1000;
  const config = profileConfig(o.profile);
  const c = new SwimCluster({ seed: o.seed, config });
  let deaths = 0;
  c.onEvent((ev) => {
    if (ev.event.kind === 'dead') deaths++;
  });
  const spread = Math.min(5000, n * 5);
  const t = await joinAll(c, n, spread, 180_000);
  const violations: string[] = c.failures();
  if (t === undefined) violations.push(`(a) ${n} nodes did not converge within 180 s of virtual time`);
  if (deaths > 0) violations.push(`(a) ${deaths} dead declarations while joining a healthy cluster`);
  const convergedS = (t ?? NaN) / 1000;
  o.print(`(a) converge: ${n} nodes join through n0 (joins spread over ${s(spread)} s), profile ${o.profile}`);
  o.print('    nodes  join_window_s  converged_s  after_last_join_s  probe_periods  gossip_rounds  false_deaths  events');
  o.print(
    `    ${String(n).padStart(5)}  ${s(spread).padStart(13)}  ${convergedS.toFixed(2).padStart(11)}  ${s((t ?? NaN) - spread).padStart(17)}  ` +
      `${((t ?? NaN) / config.probeIntervalMs).toFixed(0).padStart(13)}  ${((t ?? NaN) / config.gossipIntervalMs).toFixed(0).padStart(13)}  ` +
      `${String(deaths).padStart(12)}  ${c.sim.scheduler.executed}`,
  );
  return { violations, figures: { converge_s: convergedS } };
}

/** (b) N nodes, crash one: the time until each survivor declares it dead. */
export async function scenarioDetect(o: ScenarioOptions): Promise<ScenarioResult> {
  const n = o.nodes ?? 100;
  const config = profileConfig(o.profile);
  const c = new SwimCluster({ seed: o.seed, config });
  const t = await joinAll(c, n, 2000, 120_000);
  if (t === undefined) return { violations: [...c.failures(), `(b) ${n} nodes did not converge before the crash`], figures: {} };
  await c.sim.runFor(5000);
  const rnd = Xoshiro128.fromSeed(o.seed).fork('swim-b');
  const victim = NAME(rnd.int(1, n));
  const crashAt = c.sim.now;
  const suspectAt = new Map<string, number>();
  const deadAt = new Map<string, number>();
  let falseDeaths = 0;
  c.onEvent(({ observer, event }) => {
    if (event.member.name === victim) {
      if (event.kind === 'suspect' && !suspectAt.has(observer)) suspectAt.set(observer, event.at - crashAt);
      if (event.kind === 'dead' && !deadAt.has(observer)) deadAt.set(observer, event.at - crashAt);
    } else if (event.kind === 'dead') falseDeaths++;
  });
  c.crash(victim);
  const survivors = c.names.filter((x) => x !== victim);
  await c.sim.runUntil(() => deadAt.size === survivors.length, 120_000);
  await c.sim.runFor(2000);
  const violations = c.failures();
  const missing = survivors.filter((x) => !deadAt.has(x));
  if (missing.length > 0) violations.push(`(b) ${missing.length} survivors never declared ${victim} dead (e.g. ${missing.slice(0, 5).join(',')})`);
  if (falseDeaths > 0) violations.push(`(b) ${falseDeaths} dead declarations about members that did not crash`);
  const det = [...deadAt.values()].sort((a, b) => a - b);
  const sus = [...suspectAt.values()].sort((a, b) => a - b);
  const p50 = det.length > 0 ? quantile(det, 0.5) : NaN;
  o.print(`(b) detect: ${n} nodes, crash ${victim} at ${s(crashAt)} s, profile ${o.profile}; seconds after the crash`);
  o.print('    what        members    min    p50    p99    max');
  const row = (what: string, xs: number[]) =>
    o.print(
      `    ${what.padEnd(10)}  ${String(xs.length).padStart(7)}  ` +
        (xs.length === 0 ? '      -' : [0, 0.5, 0.99, 1].map((q) => s(quantile(xs, q)).padStart(5)).join('  ')),
    );
  row('suspect', sus);
  row('dead', det);
  return { violations, figures: { detect_p50_s: p50 / 1000, detect_p99_s: det.length > 0 ? quantile(det, 0.99) / 1000 : NaN } };
}

interface FalsePositives {
  aboutHealthy: number;
  aboutStalled: number;
  healthyHit: number;
  refutes: number;
  maxHealth: number;
}

/**
 * How a node stalls in (c). `slow`: its message processing stalls (CPU starvation, a blocked
 * network stack): datagrams to and from it wait until the stall ends while its timers keep
 * running, Lifeguard's slow-node model. `freeze`: the whole process stops (GC, SIGSTOP): its
 * timers run late too, and when it wakes its overdue timers fire before it reads what arrived
 * meanwhile, as on Node, where the timers phase runs before the poll phase.
 */
export type StallModel = 'slow' | 'freeze';

function stall(c: SwimCluster, name: string, ms: number, model: StallModel): void {
  c.sim.clog(name, ms);
  if (model === 'freeze') c.sim.pause(name, ms);
}

/**
 * One run of (c): N nodes, 5 % loss on every link, N/10 nodes stalled for 1–3 s at random times
 * (gaps of 2–18 s) for durationMs. Nobody crashes, so every dead declaration is false; those about
 * members that never stalled are the false positives Lifeguard exists to prevent.
 */
async function falsePositiveRun(o: ScenarioOptions, lifeguard: boolean, model: StallModel): Promise<{ fp: FalsePositives; violations: string[] }> {
  const n = o.nodes ?? 100;
  const config = profileConfig(o.profile, { lifeguard });
  const c = new SwimCluster({ seed: o.seed, config });
  const fp: FalsePositives = { aboutHealthy: 0, aboutStalled: 0, healthyHit: 0, refutes: 0, maxHealth: 0 };
  const t = await joinAll(c, n, 2000, 120_000);
  if (t === undefined) return { fp, violations: [...c.failures(), `(c) ${n} nodes did not converge before the faults`] };
  c.sim.links.setDefaults({ loss: 0.05 });
  // The same stall schedule for Lifeguard on and off: drawn from its own stream.
  const rnd = Xoshiro128.fromSeed(o.seed).fork('swim-c-stalls');
  const stalledNodes = rnd.shuffle(c.names.slice(1)).slice(0, Math.max(1, Math.round(n / 10)));
  const duration = o.durationMs ?? 60_000;
  for (const name of stalledNodes) {
    for (let at = rnd.float() * 10_000; at < duration; at += 2000 + rnd.float() * 16_000) {
      const ms = 1000 + rnd.float() * 2000;
      c.sim.at(at, () => stall(c, name, ms, model));
    }
  }
  const stalled = new Set(stalledNodes);
  const hit = new Set<string>();
  c.onEvent(({ event }) => {
    if (event.kind !== 'dead') return;
    if (stalled.has(event.member.name)) fp.aboutStalled++;
    else {
      fp.aboutHealthy++;
      hit.add(event.member.name);
    }
  });
  for (let elapsed = 0; elapsed < duration; elapsed += 1000) {
    await c.sim.runFor(1000);
    for (const x of c.names) fp.maxHealth = Math.max(fp.maxHealth, c.list(x)?.healthScore ?? 0);
  }
  // Faults over: everyone must see everyone alive again.
  c.sim.links.setDefaults({ loss: 0 });
  const healed = await c.sim.runUntil(() => c.converged(c.names), 120_000);
  fp.healthyHit = hit.size;
  fp.refutes = c.sum((ml) => ml.stats().refutes);
  const violations = c.failures();
  if (!healed) violations.push(`(c) ${model} lifeguard=${lifeguard}: membership did not reconverge within 120 s after the faults stopped`);
  return { fp, violations };
}

/** (c) false dead declarations under 5 % loss and stalls, Lifeguard on versus off. */
export async function scenarioFalsePositives(o: ScenarioOptions): Promise<ScenarioResult> {
  const n = o.nodes ?? 100;
  o.print(
    `(c) false positives: ${n} nodes, 5 % loss, ${Math.max(1, Math.round(n / 10))} nodes stalled 1–3 s at random, ` +
      `${s(o.durationMs ?? 60_000)} s per run, profile ${o.profile}; nobody crashes`,
  );
  o.print('    stall   lifeguard  dead_about_healthy  healthy_members_hit  dead_about_stalled  refutes  max_health');
  const violations: string[] = [];
  const total = { on: 0, off: 0 };
  for (const model of ['slow', 'freeze'] as const) {
    for (const lifeguard of [true, false]) {
      const r = await falsePositiveRun(o, lifeguard, model);
      violations.push(...r.violations);
      total[lifeguard ? 'on' : 'off'] += r.fp.aboutHealthy;
      o.print(
        `    ${model.padEnd(6)}  ${(lifeguard ? 'on' : 'off').padEnd(9)}  ${String(r.fp.aboutHealthy).padStart(18)}  ` +
          `${String(r.fp.healthyHit).padStart(19)}  ${String(r.fp.aboutStalled).padStart(18)}  ${String(r.fp.refutes).padStart(7)}  ${String(r.fp.maxHealth).padStart(10)}`,
      );
    }
  }
  o.print('    (a node stalled longer than the detection bound is rightly declared dead in both modes; fp_* count healthy members)');
  // "Far lower": at most half, unless off itself is tiny (then on must simply not exceed it).
  const limit = total.off >= 10 ? total.off / 2 : total.off;
  if (total.on > limit) violations.push(`(c) Lifeguard on: ${total.on} false dead declarations about healthy members, off: ${total.off}; on must be far lower`);
  return { violations, figures: { fp_on: total.on, fp_off: total.off } };
}

/** (d) partition into halves long enough for each side to declare the other dead, then heal. */
export async function scenarioPartition(o: ScenarioOptions): Promise<ScenarioResult> {
  const n = o.nodes ?? 20;
  const config = profileConfig(o.profile);
  const c = new SwimCluster({ seed: o.seed, config });
  const t = await joinAll(c, n, 1000, 120_000);
  if (t === undefined) return { violations: [...c.failures(), `(d) ${n} nodes did not converge before the partition`], figures: {} };
  const half = c.names.slice(0, Math.floor(n / 2));
  const other = c.names.slice(Math.floor(n / 2));
  const partitionMs = 2 * config.gossipToTheDeadMs;
  const partitionAt = c.sim.now;
  c.sim.partition([half, other]);
  const sides = await c.sim.runUntil(() => c.converged(half) && c.converged(other), partitionMs);
  await c.sim.runFor(partitionAt + partitionMs - c.sim.now);
  const healAt = c.sim.now;
  c.sim.heal();
  const merged = await c.sim.runUntil(() => c.converged(c.names), 300_000);
  const mergeMs = c.sim.now - healAt;
  const violations = c.failures();
  if (!sides) violations.push('(d) the halves did not each settle on their own side during the partition');
  if (!merged) violations.push('(d) membership did not merge back within 300 s of the heal');
  o.print(`(d) partition: ${n} nodes split ${half.length}/${other.length} for ${s(partitionMs)} s (beyond gossipToTheDead), then healed`);
  o.print('    halves_settled  merged  merge_after_heal_s');
  o.print(`    ${String(sides).padStart(14)}  ${String(merged).padStart(6)}  ${s(mergeMs).padStart(18)}`);
  return { violations, figures: { merge_s: mergeMs / 1000 } };
}
