import { pino } from 'pino';
import type { Logger } from '../src/runtime/ports/observability.js';
import type { Random } from '../src/runtime/ports/random.js';
import { createMetricsRegistry } from '../src/runtime/observability.js';
import type { NodePorts } from '../src/runtime/node-ports.js';
import { Xoshiro128 } from '../src/runtime/xoshiro.js';
import { assert } from '../src/util/assert.js';
import { MachineTime, SimClock } from './clock.js';
import { DatagramFabric, DEFAULT_MAX_DATAGRAM } from './datagram.js';
import { SimFileSystem } from './files.js';
import { drain, idle, promiseMark, promisesTouchedSince, watchPromises } from './microtasks.js';
import { LinkModel, type LinkFaults } from './network.js';
import { ProcessTable, ProgramRegistry } from './process.js';
import { Domain, Scheduler, SYSTEM } from './scheduler.js';
import { DEFAULT_DISK_OPTIONS, SimDisk, type DiskOptions } from './storage.js';
import { DEFAULT_STREAM_OPTIONS, StreamFabric, type StreamOptions } from './stream.js';
import { Trace, fmtTime } from './trace.js';
import type { World } from './world.js';

export interface SimulationOptions {
  /** The run seed: every random choice of the run derives from it. */
  readonly seed: number;
  /** Fault model of every link (overridable per link through sim.links). */
  readonly link?: Partial<LinkFaults>;
  readonly stream?: Partial<StreamOptions>;
  readonly disk?: Partial<DiskOptions>;
  readonly maxDatagramSize?: number;
  /** Node logs at debug level and every trace line go to `print` (default: silent). */
  readonly verbose?: boolean;
  /** Where verbose output goes (default console.log). */
  readonly print?: (line: string) => void;
  /** Trace lines kept in memory for failure reports (default 200). */
  readonly traceKeep?: number;
  /**
   * Measure the CPU time (process.cpuUsage) of every event and the promise continuations it set
   * in motion, per domain (a node's name): cpuMicros. For the scale benchmark; off by default.
   */
  readonly meterCpu?: boolean;
}

/** Builds a node's application from its ports; called again on every restart. */
export type AppFactory<A> = (ports: NodePorts) => A;

export interface CrashOptions {
  /** The daemon dies but the machine stays up: its processes keep running (default: they die too). */
  readonly keepProcesses?: boolean;
}

class SimNode<A> {
  app: A | undefined;
  ports: NodePorts | undefined;
  domain: Domain;
  incarnation = 0;
  /** The machine's clock; it outlives the daemon's incarnations. */
  readonly time = new MachineTime();

  constructor(
    readonly name: string,
    readonly factory: AppFactory<A>,
    public machine: Domain,
    readonly disk: SimDisk,
    readonly processes: ProcessTable,
    readonly files: SimFileSystem,
  ) {
    this.domain = new Domain(name);
    this.domain.alive = false;
  }
}

/**
 * A deterministic cluster in one process: many nodes on virtual time, one seed. Each node's app
 * gets NodePorts backed by the simulated clock, networks, disk and processes; the Simulation
 * injects faults (crash, restart, pause, partitions, clogging) and records a trace whose hash
 * identifies the run.
 *
 * Time only moves inside runFor/runUntil (or free-running mode), which are async: after every
 * event that touched a promise the microtask queue is drained, so promise continuations run at the
 * virtual time of the event that resolved them (simulator/microtasks.ts).
 */
export class Simulation {
  readonly seed: number;
  readonly random: Random;
  readonly scheduler = new Scheduler();
  readonly trace: Trace;
  readonly links: LinkModel;
  readonly datagrams: DatagramFabric;
  readonly streams: StreamFabric;
  readonly programs = new ProgramRegistry();
  private readonly nodes = new Map<string, SimNode<unknown>>();
  private readonly world: World;
  private readonly diskOptions: DiskOptions;
  private readonly print: (line: string) => void;
  private running = false;
  private freeRun: { stop: boolean; done: Promise<void> } | undefined;
  private waiters: Waiter[] = [];
  private readonly invariants: Array<{ readonly name: string; readonly check: () => string | undefined }> = [];
  /** App callbacks that threw (the port reported and went on), the first 1 000; a test may require none. */
  readonly handlerErrors: Array<{ readonly node: string; readonly where: string; readonly error: unknown }> = [];
  /** With meterCpu: CPU µs spent per domain name (a node's daemon is its name, its machine `name/machine`). */
  readonly cpuMicros = new Map<string, number>();

  constructor(private readonly options: SimulationOptions) {
    assert(Number.isSafeInteger(options.seed), `simulation: seed must be an integer, got ${options.seed}`);
    this.seed = options.seed;
    this.random = Xoshiro128.fromSeed(options.seed);
    this.print = options.print ?? ((line) => console.log(line));
    this.trace = new Trace(() => this.scheduler.now, options.traceKeep ?? 200, options.verbose ? this.print : undefined);
    this.links = new LinkModel(this.random.fork('net'), () => this.scheduler.now);
    if (options.link) this.links.setDefaults(options.link);
    this.world = {
      scheduler: this.scheduler,
      links: this.links,
      trace: this.trace,
      appDomain: (node) => {
        const d = this.nodes.get(node)?.domain;
        return d?.alive ? d : undefined;
      },
      files: (node) => this.nodes.get(node)?.files,
      handlerError: (node, where, error) => {
        if (this.handlerErrors.length < 1000) this.handlerErrors.push({ node, where, error });
        this.trace.record('handler-error', node, where);
        this.nodes.get(node)?.ports?.logger.error({ err: error }, `${where} threw`);
      },
    };
    this.datagrams = new DatagramFabric(this.world, options.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM);
    this.streams = new StreamFabric(this.world, { ...DEFAULT_STREAM_OPTIONS, ...options.stream });
    this.diskOptions = { ...DEFAULT_DISK_OPTIONS, ...options.disk };
  }

  get now(): number {
    return this.scheduler.now;
  }

  /** Add a node; it starts at once unless `start: false`. */
  addNode<A>(name: string, factory: AppFactory<A>, opts: { readonly start?: boolean } = {}): void {
    assert(/^[A-Za-z0-9_.-]+$/.test(name), `simulation: bad node name '${name}'`);
    assert(!this.nodes.has(name), `simulation: node ${name} exists`);
    const machine = new Domain(`${name}/machine`);
    const disk = new SimDisk(this.world, name, this.random.fork(`disk:${name}`), this.diskOptions);
    const processes = new ProcessTable(this.world, name, machine, this.programs, (domain) => this.streams.network(name, domain));
    this.nodes.set(name, new SimNode(name, factory as AppFactory<unknown>, machine, disk, processes, new SimFileSystem()));
    if (opts.start ?? true) this.start(name);
  }

  /** Node names in the order they were added. */
  nodeNames(): string[] {
    return [...this.nodes.keys()];
  }

  isUp(name: string): boolean {
    return this.node(name).domain.alive;
  }

  /** The running app of a node (undefined while it is down). */
  app<A>(name: string): A | undefined {
    const n = this.node(name);
    return n.domain.alive ? (n.app as A) : undefined;
  }

  /** The ports of the node's current incarnation (e.g. for a test that drives them directly). */
  ports(name: string): NodePorts {
    const p = this.node(name).ports;
    assert(p && this.isUp(name), `simulation: node ${name} is down`);
    return p;
  }

  disk(name: string): SimDisk {
    return this.node(name).disk;
  }

  processTable(name: string): ProcessTable {
    return this.node(name).processes;
  }

  /** The machine's in-memory file system: it outlives daemon crashes; a machine crash empties its tmpfs. */
  files(name: string): SimFileSystem {
    return this.node(name).files;
  }

  /** Boot a node that is down: a fresh incarnation over the same disk. */
  start(name: string): void {
    const n = this.node(name);
    assert(!n.domain.alive, `simulation: node ${name} is already up`);
    n.incarnation++;
    n.domain = new Domain(name);
    if (!n.machine.alive) {
      n.machine = new Domain(`${name}/machine`);
      n.processes.machine = n.machine;
      n.files.reboot();
    }
    this.trace.record('node.start', name, n.incarnation);
    const ports = this.makePorts(n);
    n.ports = ports;
    n.app = n.factory(ports);
  }

  /**
   * The node crashes: its timers, sockets, connections and app object are gone, unflushed disk
   * writes are partly lost, its processes die (unless keepProcesses). restart() boots it again.
   */
  crash(name: string, opts: CrashOptions = {}): void {
    const n = this.node(name);
    assert(n.domain.alive, `simulation: node ${name} is not up`);
    this.trace.record('node.crash', name, opts.keepProcesses ? 'keep-processes' : 'machine');
    n.domain.alive = false;
    n.app = undefined;
    n.ports = undefined;
    // The machine goes first, so that the stream fabric closes its processes' sockets too.
    if (!opts.keepProcesses) n.machine.alive = false;
    this.datagrams.closeNode(name);
    this.streams.closeNode(name);
    n.disk.crash();
    if (!opts.keepProcesses) n.processes.killAll();
  }

  /** crash() if up, then start(). */
  restart(name: string, opts: CrashOptions = {}): void {
    if (this.isUp(name)) this.crash(name, opts);
    this.start(name);
  }

  /** Freeze the node for ms (SIGSTOP, a long GC): its timers and deliveries run late. */
  pause(name: string, ms: number): void {
    const n = this.node(name);
    assert(ms >= 0, 'simulation: negative pause');
    n.domain.pausedUntil = Math.max(n.domain.pausedUntil, this.now + ms);
    this.trace.record('node.pause', name, fmtTime(ms));
  }

  /** Split the nodes into groups that cannot talk; nodes in no group form one more group. */
  partition(groups: ReadonlyArray<readonly string[]>): void {
    for (const g of groups) for (const n of g) this.node(n);
    this.links.partition(groups, this.nodeNames());
    this.trace.record('net.partition', groups.map((g) => g.join(',')).join('|'));
  }

  /** Cut the link from → to only (one-way partition). */
  cut(from: string, to: string): void {
    this.links.cut(from, to);
    this.trace.record('net.cut', from, to);
  }

  /** Cut a node off from every other, both ways. */
  isolate(name: string): void {
    this.partition([[name]].concat([this.nodeNames().filter((n) => n !== name)]));
  }

  /** Slow every link of a node: nothing gets in or out until ms from now. */
  clog(name: string, ms: number): void {
    this.node(name);
    this.links.clog(name, ms);
    this.trace.record('net.clog', name, fmtTime(ms));
  }

  /**
   * Skew a node's clocks: `rate` makes its monotonic and wall clocks run fast (> 1) or slow;
   * `stepWallMs` steps its wall clock only (NTP). Timers follow the node's own clock.
   */
  setClock(name: string, change: { readonly rate?: number; readonly stepWallMs?: number }): void {
    const t = this.node(name).time;
    if (change.rate !== undefined) t.setRate(change.rate, this.now);
    if (change.stepWallMs !== undefined) t.stepWall(change.stepWallMs);
    this.trace.record('clock.set', name, change.rate ?? '-', change.stepWallMs ?? '-');
  }

  /** Remove every partition, cut and clog. */
  heal(): void {
    this.links.heal();
    this.trace.record('net.heal');
  }

  /**
   * Check `check` after every event (once its promise continuations ran): a returned message is a
   * violation, and the running runFor/runUntil rejects with an InvariantViolation naming it, the
   * virtual time and the seed. For global checkers (one leader per term, one ACTIVE per SI).
   */
  addInvariant(name: string, check: () => string | undefined): void {
    this.invariants.push({ name, check });
  }

  /** Run fn at now + delayMs as a system event (a scenario step: crash n1 at 10 s, ...). */
  at(delayMs: number, fn: () => void): void {
    this.scheduler.schedule(delayMs, SYSTEM, fn);
  }

  /** Run every event due in the next ms of virtual time; time ends exactly at now + ms. */
  async runFor(ms: number): Promise<void> {
    assert(ms >= 0, 'simulation: negative runFor');
    const until = this.now + ms;
    await this.drive(until, () => false);
    this.scheduler.advanceTo(until);
  }

  /**
   * Run until cond() holds (checked before each event and at the start), at most maxMs of virtual
   * time. Returns whether it holds; on false, time is now + maxMs.
   */
  async runUntil(cond: () => boolean, maxMs: number): Promise<boolean> {
    const until = this.now + maxMs;
    await drain();
    if (cond()) return true;
    if (await this.drive(until, cond)) return true;
    this.scheduler.advanceTo(until);
    return cond();
  }

  /**
   * Free-running mode, for code that awaits simulated I/O itself (port compliance suites, scripts):
   * a background loop runs events one by one, draining microtasks after each, so virtual time
   * moves exactly when every awaiting caller is blocked, as a real event loop would. Use
   * waitFor/sleep to wait on virtual time; stopFreeRun() ends it. An event that throws ends the
   * loop and fails every waiter.
   */
  startFreeRun(): void {
    assert(!this.running && !this.freeRun, 'simulation: already running');
    this.running = true;
    const state = { stop: false, done: Promise.resolve() };
    const unwatch = watchPromises();
    state.done = (async () => {
      try {
        await drain();
        while (!state.stop) {
          // Waiters resolved: let their continuations run before anything else happens.
          if (this.settleWaiters()) await drain();
          else if (!(await this.runNext(Infinity))) await idle();
        }
      } catch (e) {
        for (const w of this.waiters.splice(0)) w.fail(e);
      } finally {
        unwatch();
        this.running = false;
      }
    })();
    this.freeRun = state;
  }

  async stopFreeRun(): Promise<void> {
    const state = this.freeRun;
    if (!state) return;
    state.stop = true;
    await state.done;
    this.freeRun = undefined;
  }

  /** In free-running mode: resolve true once cond() holds, false after timeoutMs of virtual time. */
  waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    assert(this.freeRun, 'simulation: waitFor needs startFreeRun() (else use runUntil)');
    if (cond()) return Promise.resolve(true);
    const deadline = this.now + timeoutMs;
    // A no-op event at the deadline, so time gets there even when nothing else is scheduled.
    this.scheduler.at(deadline, SYSTEM, () => undefined);
    return new Promise((resolve, reject) => this.waiters.push({ cond, deadline, resolve, fail: reject }));
  }

  /** In free-running mode: let ms of virtual time pass. */
  async sleep(ms: number): Promise<void> {
    const until = this.now + ms;
    await this.waitFor(() => this.now >= until, ms);
  }

  traceHash(): string {
    return this.trace.digest();
  }

  private async drive(until: number, cond: () => boolean): Promise<boolean> {
    assert(!this.running, 'simulation: runFor/runUntil is already running (missing await?)');
    this.running = true;
    const unwatch = watchPromises();
    try {
      await drain();
      while (await this.runNext(until)) if (cond()) return true;
      return false;
    } finally {
      unwatch();
      this.running = false;
    }
  }

  /** Run the next event due by `until`, then what it set in motion; false when there is none. */
  private async runNext(until: number): Promise<boolean> {
    const mark = promiseMark();
    const cpu = this.options.meterCpu ? process.cpuUsage() : undefined;
    if (!this.scheduler.step(until)) return false;
    if (promisesTouchedSince(mark)) await drain();
    if (cpu) {
      const d = process.cpuUsage(cpu);
      const name = this.scheduler.lastDomain?.name ?? 'system';
      this.cpuMicros.set(name, (this.cpuMicros.get(name) ?? 0) + d.user + d.system);
    }
    for (const inv of this.invariants) {
      const violation = inv.check();
      if (violation !== undefined) {
        this.trace.record('invariant.violated', inv.name);
        throw new InvariantViolation(inv.name, violation, this.now, this.seed);
      }
    }
    return true;
  }

  /** Settle every waiter whose condition holds or whose deadline passed; true if any was. */
  private settleWaiters(): boolean {
    if (this.waiters.length === 0) return false;
    const still: Waiter[] = [];
    let settled = false;
    for (const w of this.waiters) {
      if (w.cond()) w.resolve(true);
      else if (this.now >= w.deadline) w.resolve(false);
      else {
        still.push(w);
        continue;
      }
      settled = true;
    }
    this.waiters = still;
    return settled;
  }

  private node(name: string): SimNode<unknown> {
    const n = this.nodes.get(name);
    assert(n, `simulation: no node ${name}`);
    return n;
  }

  private makePorts(n: SimNode<unknown>): NodePorts {
    const domain = n.domain;
    const trace = this.trace;
    return {
      nodeName: n.name,
      clock: new SimClock(this.scheduler, domain, (kind) => trace.record(kind, n.name), n.time),
      random: this.random.fork(`node:${n.name}#${n.incarnation}`),
      datagram: this.datagrams.network(n.name, domain),
      stream: this.streams.network(n.name, domain),
      processes: n.processes.runner(domain),
      store: n.disk.store(domain),
      blobs: n.disk.blobStore(domain),
      logger: this.makeLogger(n.name),
      metrics: createMetricsRegistry(n.name),
    };
  }

  private makeLogger(node: string): Logger {
    if (!this.options.verbose) return SILENT.child({ node });
    const print = this.print;
    return pino(
      { level: 'debug', base: { node }, timestamp: () => `,"t":${fmtTime(this.scheduler.now)}` },
      { write: (s: string) => print(s.trimEnd()) },
    );
  }
}

/** A global invariant failed: a bug in the system under test, found at `time` with `seed`. */
export class InvariantViolation extends Error {
  override name = 'InvariantViolation';
  constructor(
    readonly invariant: string,
    readonly detail: string,
    readonly time: number,
    readonly seed: number,
  ) {
    super(`invariant '${invariant}' violated at ${fmtTime(time)} ms (seed ${seed}): ${detail}`);
  }
}

/** One silent root logger for every quiet node (a pino instance per node is costly at 1 000 nodes). */
const SILENT = pino({ level: 'silent' }, { write: () => undefined });

interface Waiter {
  readonly cond: () => boolean;
  readonly deadline: number;
  readonly resolve: (held: boolean) => void;
  readonly fail: (error: unknown) => void;
}

