import type { DurableStore } from '../../src/runtime/ports/storage.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { DurableLogStore } from '../../src/raft/storage/log-store.js';
import { checkLinearizable } from './linearizability.js';
import { HistoryRecorder } from './history.js';
import { encodeKv, kvModel, type KvInput, type KvOutput } from './kv.js';
import type { MessageFaults } from './faulty-transport.js';
import type { RaftError } from '../../src/raft/driver/types.js';
import type { Result } from '../../src/util/result.js';
import { FaultPlan, formatFaults, type FaultCounts, type FaultSpec } from '../faults.js';
import { Simulation } from '../simulation.js';
import type { SimDisk } from '../storage.js';
import { SafetyChecker } from './checker.js';
import { RaftSimNode, raftAddress } from './node.js';

export interface RaftSeedOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly faults: FaultSpec;
  /** Virtual length of the run, chaos then heal. */
  readonly durationMs: number;
  /** Concurrent KV clients. */
  readonly clients: number;
  /** After the heal, a write must commit within this long (liveness). */
  readonly livenessBoundMs: number;
  readonly verbose?: boolean;
  readonly print?: (line: string) => void;
  /**
   * Checker self-test: break the system on purpose and expect violations. 'no-fsync' makes
   * flush() lie (acknowledged writes die with a crash); 'stale-read' makes followers
   * answer reads from their local state.
   */
  readonly mutation?: Mutation;
}

export type Mutation = 'no-fsync' | 'stale-read';
export const MUTATIONS: readonly Mutation[] = ['no-fsync', 'stale-read'];

/**
 * A disk whose write cache lies: flush() resolves at once; the cache writes back once a second
 * (one flush per second, not one per call: else, under steady load, some call's delayed flush
 * would land every few milliseconds and the window would vanish). A crash loses up to a second
 * of acknowledged writes (votes, log entries).
 */
function noFsync(store: DurableStore, ports: NodePorts): DurableStore {
  let writeBackScheduled = false;
  return {
    get: (n, k) => store.get(n, k),
    range: (n, o) => store.range(n, o),
    write: (ops) => store.write(ops),
    flush: () => {
      if (!writeBackScheduled) {
        writeBackScheduled = true;
        ports.clock.setTimer(1000, () => {
          writeBackScheduled = false;
          void store.flush();
        });
      }
      return Promise.resolve();
    },
    close: () => store.close(),
  };
}

export const RAFT_SEED_DEFAULTS = { nodes: 5, durationMs: 20_000, clients: 4, livenessBoundMs: 5000 } as const;

export interface RaftSeedResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly ops: { ok: number; fail: number; info: number };
  readonly elections: number;
  readonly faults: FaultCounts;
  /** Whole-cluster crashes right after an acknowledged write. */
  readonly powerCuts: number;
  /** Time from the heal to the first write that committed after it. */
  readonly livenessMs: number | undefined;
  /** Partitions the checker gave up on (search budget), not counted as violations. */
  readonly unknownPartitions: number;
  readonly traceHash: string;
  readonly traceTail: readonly string[];
  /** Snapshots taken and installed from a leader, summed over the servers' last incarnations. */
  readonly snapshots: { taken: number; installed: number };
}

const KEYS = ['a', 'b', 'c', 'd', 'e'];
const SIM_SNAPSHOT_THRESHOLD = 300;
const SIM_TRAILING_LOGS = 20;
/** A client gives up on a request after this long and records it as indeterminate. */
const CLIENT_TIMEOUT_MS = 1500;
/** Whole-cluster crashes right after an acknowledged write, per seed with crash faults. */
const POWER_CUTS = 2;

/** A read-only DurableStore view of a node's disk, to read its final log even while it is down. */
function diskView(disk: SimDisk): DurableStore {
  return {
    get: (ns, key) => disk.get(ns, key),
    range: (ns, o) => disk.range(ns, o),
    write: () => {
      throw new Error('read-only view');
    },
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/**
 * One seed of `amf-sim raft`: a cluster of the real driver on simulated networks and disks, KV
 * clients recording a history, faults from the seed, a heal, then the checks.
 */
export async function runRaftSeed(o: RaftSeedOptions): Promise<RaftSeedResult> {
  const sim = new Simulation({ seed: o.seed, verbose: o.verbose, print: o.print });
  const checker = new SafetyChecker(() => sim.now);
  const names = Array.from({ length: o.nodes }, (_, i) => `n${i + 1}`);
  const servers = names.map((id) => ({ id, address: raftAddress(id) }));
  let healed = false;
  const msgFaults: MessageFaults = { loss: o.faults.loss, dup: o.faults.dup, reorder: o.faults.reorder, reorderDelayMs: 20 };
  const none: MessageFaults = { loss: 0, dup: 0, reorder: 0, reorderDelayMs: 0 };
  /** Leader-completeness checks waiting for the new leader's first entry of its term. */
  const pendingLeaderChecks = new Map<string, { term: number; upTo: number }>();

  const hooks = {
    wrapStore: o.mutation === 'no-fsync' ? noFsync : undefined,
    messageFaults: () => (healed ? none : msgFaults),
    onError: (node: string, e: string) => checker.violation(`${node} failed to start: ${e}`),
    onApply: (node: string, e: { index: number; term: number; data: Uint8Array }) => {
      checker.onApply(node, e);
      const pending = pendingLeaderChecks.get(node);
      if (pending && e.term >= pending.term) {
        pendingLeaderChecks.delete(node);
        if (e.term === pending.term) {
          const log = new DurableLogStore(diskView(sim.disk(node)));
          checker.checkLeaderLog(node, pending.term, pending.upTo, log.firstIndex(), (i) => log.getLog(i)?.term);
        }
      }
    },
    observer: (node: string, raft: { currentTerm: number }) => (ob: { type: string; state?: string }) => {
      if (ob.type === 'state' && ob.state === 'leader') {
        const upTo = checker.onLeader(node, raft.currentTerm);
        pendingLeaderChecks.set(node, { term: raft.currentTerm, upTo });
      }
    },
  };
  // Small snapshot settings, so that snapshots, compaction and InstallSnapshot happen under faults.
  const config = { snapshotThreshold: SIM_SNAPSHOT_THRESHOLD, trailingLogs: SIM_TRAILING_LOGS };
  for (const name of names) sim.addNode(name, (ports: NodePorts) => new RaftSimNode(ports, servers, hooks, config));

  const plan = new FaultPlan(sim, o.faults, { durationMs: o.durationMs, meanGapMs: 1500 });
  plan.install();
  sim.at(plan.healAt - sim.now, () => (healed = true));

  // Power cuts (with crash faults): right after a client's write is acknowledged, every server
  // goes down at once, losing what its disk had not made durable. A random single crash rarely
  // hurts a storage that acknowledges before durability (the other replicas still hold the entry);
  // this loses the entry on a quorum, so such a bug shows as a lost write or a diverging log.
  const cuts = { armed: false, count: 0 };
  if (o.faults.crash) {
    const cutRnd = sim.random.fork('power-cuts');
    for (let i = 0; i < POWER_CUTS; i++) sim.at(cutRnd.int(1000, Math.max(1001, plan.healAt - sim.now - 3000)), () => (cuts.armed = true));
  }
  const powerCut = (): void => {
    cuts.count++;
    const cutRnd = sim.random.fork(`power-cut-${cuts.count}`);
    for (const n of names) {
      if (!sim.isUp(n)) continue;
      sim.crash(n);
      sim.at(cutRnd.int(100, 1000), () => {
        if (!sim.isUp(n)) sim.start(n);
      });
    }
  };

  // Clients ------------------------------------------------------------------------------------
  const history = new HistoryRecorder<KvInput, KvOutput>(() => sim.now);
  const rnd = sim.random.fork('clients');
  const counts = { ok: 0, fail: 0, info: 0 };
  let leaderHint: string | undefined;
  let seq = 0;
  const clientsEnd = o.durationMs;
  let firstOkAfterHeal: number | undefined;

  const sleep = (ms: number) => new Promise<void>((r) => sim.at(ms, r));

  /** One request to one node: resolves with its answer, or undefined when the client timed out. */
  const call = (node: string, input: KvInput): Promise<Result<unknown, RaftError> | undefined> =>
    new Promise((resolve) => {
      let done = false;
      const finish = (r: Result<unknown, RaftError> | undefined) => {
        if (done) return;
        done = true;
        resolve(r);
      };
      sim.at(CLIENT_TIMEOUT_MS, () => finish(undefined));
      // The request runs on the node's own clock: a paused node answers late, a crashed one never.
      sim.ports(node).clock.setTimer(0, () => {
        const app = sim.app<RaftSimNode>(node);
        const raft = app?.raft;
        if (!raft) return finish({ ok: false, error: { kind: 'shutdown' } });
        // The classic bug Jepsen found in etcd 0.4 and Consul: a read served from local state.
        if (o.mutation === 'stale-read' && input.f === 'read' && raft.state() !== 'leader') return finish({ ok: true, value: { value: app.fsm.get(input.key) ?? null } });
        void raft.apply(encodeKv(input), 1000).then(finish);
      });
    });

  const client = async (id: number): Promise<void> => {
    while (sim.now < clientsEnd) {
      const up = names.filter((n) => sim.isUp(n));
      if (up.length === 0) {
        await sleep(50);
        continue;
      }
      const target = leaderHint && sim.isUp(leaderHint) && rnd.chance(0.9) ? leaderHint : up[rnd.int(0, up.length)];
      if (target === undefined) {
        await sleep(50);
        continue;
      }
      const key = KEYS[rnd.int(0, KEYS.length)]!;
      const kind = rnd.int(0, 3);
      const value = `${id}.${++seq}`;
      const input: KvInput =
        kind === 0 ? { f: 'read', key } : kind === 1 ? { f: 'write', key, value } : { f: 'cas', key, from: rnd.chance(0.5) ? null : `${rnd.int(0, 4)}.${rnd.int(1, seq + 1)}`, to: value };
      const opId = history.invoke(id, input);
      const r = await call(target, input);
      if (r === undefined) {
        history.info(opId);
        counts.info++;
        leaderHint = undefined;
      } else if (r.ok) {
        history.ok(opId, r.value as KvOutput);
        counts.ok++;
        leaderHint = target;
        if (healed && firstOkAfterHeal === undefined && input.f !== 'read') firstOkAfterHeal = sim.now;
        if (cuts.armed && !healed && input.f !== 'read') {
          cuts.armed = false;
          sim.at(0, powerCut);
        }
      } else if (r.error.kind === 'notLeader' || r.error.kind === 'rejected') {
        // Refused before it was proposed: surely no effect.
        history.fail(opId);
        counts.fail++;
        leaderHint = r.error.kind === 'notLeader' ? r.error.leader?.id : undefined;
        await sleep(10 + rnd.int(0, 20));
      } else {
        history.info(opId);
        counts.info++;
        leaderHint = undefined;
      }
      await sleep(rnd.int(0, 15));
    }
  };
  const clientRuns = Array.from({ length: o.clients }, (_, i) => client(i));

  await sim.runFor(o.durationMs);
  // Liveness: after the heal, a write must have committed within the bound.
  const healAt = plan.healAt;
  if (firstOkAfterHeal === undefined || firstOkAfterHeal - healAt > o.livenessBoundMs) {
    checker.violation(`liveness: no write committed within ${o.livenessBoundMs} ms of the heal at ${healAt.toFixed(0)} ms (first: ${firstOkAfterHeal?.toFixed(0) ?? 'none'})`);
  }
  await sim.runFor(CLIENT_TIMEOUT_MS + 100);
  await Promise.all(clientRuns);

  // Convergence: every server applies the same last index.
  const applied = () => names.map((n) => sim.app<RaftSimNode>(n)?.raft?.appliedIndex ?? -1);
  const converged = await sim.runUntil(() => {
    const a = applied();
    return a.every((x) => x === a[0] && x > 0);
  }, 10_000);
  if (!converged) checker.violation(`convergence: applied indexes differ after the heal: ${applied().join(',')}`);
  else {
    const states = names.map((n) => KEYS.map((k) => sim.app<RaftSimNode>(n)!.fsm.get(k) ?? '-').join('|'));
    if (new Set(states).size !== 1) checker.violation(`state-machine safety: final KV states differ: ${states.join(' / ')}`);
  }

  const logs = new Map(names.map((n) => {
    const log = new DurableLogStore(diskView(sim.disk(n)));
    return [n, { first: log.firstIndex(), entries: log.getLogs(log.firstIndex(), log.lastIndex() + 1) }] as const;
  }));
  checker.checkLogMatching(logs);

  const lin = checkLinearizable(kvModel, history.operations(), 2_000_000);
  if (lin.verdict === 'illegal') {
    const bad = lin.partitions.filter((p) => p.verdict === 'illegal').length;
    checker.violation(`linearizability: ${bad} key(s) have no linearization`);
  }
  const unknownPartitions = lin.partitions.filter((p) => p.verdict === 'unknown').length;

  const snapshots = { taken: 0, installed: 0 };
  for (const n of names) {
    if (!sim.isUp(n)) continue;
    const m = await sim.ports(n).metrics.getSingleMetric('raft_snapshots_total')?.get();
    for (const v of m?.values ?? []) {
      if (v.labels.kind === 'taken') snapshots.taken += v.value;
      if (v.labels.kind === 'installed') snapshots.installed += v.value;
    }
  }

  return {
    snapshots,
    seed: o.seed,
    violations: checker.violations,
    ops: counts,
    elections: checker.elections,
    faults: plan.counts,
    powerCuts: cuts.count,
    livenessMs: firstOkAfterHeal === undefined ? undefined : firstOkAfterHeal - healAt,
    unknownPartitions,
    traceHash: sim.traceHash(),
    traceTail: sim.trace.tail(),
  };
}

export function describeFaults(spec: FaultSpec): string {
  return formatFaults(spec);
}
