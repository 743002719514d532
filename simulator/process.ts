import type {
  ProcessExit,
  ProcessRunner,
  RunningProcess,
  Signal,
  SpawnError,
  SpawnOptions,
} from '../src/runtime/ports/process.js';
import type { StreamConnection, StreamListener, StreamNetwork } from '../src/runtime/ports/stream.js';
import { assert } from '../src/util/assert.js';
import { err, ok, type Result } from '../src/util/result.js';
import type { Domain } from './scheduler.js';
import type { World } from './world.js';

/** What a scripted program can do; it runs on virtual time in its machine's domain. */
export interface ProcessContext {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string | undefined;
  readonly pid: number;
  /** The machine (node name) it runs on. */
  readonly node: string;
  /** False once the process has ended (for continuations of its promises). */
  readonly alive: boolean;
  /**
   * Its sockets (TCP and the machine's `unix:` ones), in the machine's domain: they outlive a
   * daemon crash and are closed when the process ends, as the kernel closes a dead process's files.
   */
  readonly stream: StreamNetwork;
  stdout(text: string): void;
  stderr(text: string): void;
  exit(code: number): void;
  /** End as if killed by `signal` (a crash: SIGSEGV, SIGABRT, ...). */
  die(signal: string): void;
  /** Run fn after ms, unless the process has ended by then. */
  after(ms: number, fn: () => void): void;
  /** Handle a catchable signal instead of taking its default action (SIGKILL/SIGSTOP cannot be). */
  trap(signal: Signal, handler: () => void): void;
  /** Start a child in this process's group (a "grandchild" of the runner); returns its pid. */
  spawnChild(program: SimProgram, argv?: readonly string[]): number;
}

/** A scripted program: it sets up timers and traps, and ends by exit() or die(). */
export type SimProgram = (ctx: ProcessContext) => void;

const DEFAULT_GRACE_MS = 2000;
const DEFAULT_MAX_OUTPUT = 64 * 1024;
/** Signals whose default action is to end the process. */
const FATAL_BY_DEFAULT = new Set(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGKILL']);

/**
 * Programs by argv[0]. Built in (argv[0] then its arguments):
 * - `sim:exit <code> [ms]`: exit with code after ms (default 0);
 * - `sim:hang`: run until killed;
 * - `sim:ignore-term`: run until SIGKILL;
 * - `sim:crash <signal> <ms>`: die by signal after ms;
 * - `sim:grandchild`: start a child in the group that hangs, then hang;
 * - `sim:print <text> [code]`: print text to stdout, exit with code (default 0);
 * - `sim:env <NAME>`: print the variable or '<unset>', exit 0;
 * - `sim:output <bytes>`: write that many 'x' to stdout and to stderr, exit 0.
 * Tests and harnesses register more by name (any argv[0], e.g. an absolute script path).
 */
export class ProgramRegistry {
  private readonly programs = new Map<string, SimProgram>(BUILTINS);

  register(name: string, program: SimProgram): void {
    this.programs.set(name, program);
  }

  get(name: string): SimProgram | undefined {
    return this.programs.get(name);
  }
}

const hang: SimProgram = () => undefined;

const BUILTINS: Array<[string, SimProgram]> = [
  ['sim:exit', (c) => c.after(num(c.argv[2], 0), () => c.exit(num(c.argv[1], 0)))],
  ['sim:hang', hang],
  ['sim:ignore-term', (c) => c.trap('SIGTERM', () => undefined)],
  ['sim:crash', (c) => c.after(num(c.argv[2], 0), () => c.die(c.argv[1] ?? 'SIGSEGV'))],
  [
    'sim:grandchild',
    (c) => {
      c.spawnChild(hang, ['sim:hang']);
    },
  ],
  [
    'sim:print',
    (c) => {
      c.stdout(c.argv[1] ?? '');
      c.exit(num(c.argv[2], 0));
    },
  ],
  [
    'sim:env',
    (c) => {
      const name = c.argv[1] ?? '';
      c.stdout(Object.hasOwn(c.env, name) ? (c.env[name] as string) : '<unset>');
      c.exit(0);
    },
  ],
  [
    'sim:output',
    (c) => {
      const text = 'x'.repeat(num(c.argv[1], 0));
      c.stdout(text);
      c.stderr(text);
      c.exit(0);
    },
  ],
];

function num(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text !== undefined && Number.isFinite(n) ? n : fallback;
}

/**
 * The processes of one machine. They live in the machine's domain, so they survive a crash of
 * the node's daemon when asked to (crash with keepProcesses) and die with the machine otherwise.
 * Pids are per machine, from 1000 up.
 */
export class ProcessTable {
  private readonly procs = new Map<number, SimProcess>();
  private nextPid = 1000;

  constructor(
    readonly world: World,
    readonly node: string,
    /** Replaced when the machine boots again after a crash. */
    public machine: Domain,
    readonly registry: ProgramRegistry,
    /** The stream network of a domain of this machine (processes connect through it). */
    readonly network: (domain: Domain) => StreamNetwork,
  ) {}

  /** The ProcessRunner of one incarnation: exits are reported only while it is alive. */
  runner(domain: Domain): ProcessRunner {
    return {
      spawn: (options) => this.spawn(domain, options),
      isAlive: (pid) => this.procs.get(pid)?.running ?? false,
      signal: (pid, sig) => this.signal(pid, sig),
    };
  }

  /** The machine went down: every process vanishes without a trace of exit. */
  killAll(): void {
    for (const p of this.procs.values()) p.running = false;
    this.procs.clear();
  }

  /** Live processes (for tests and checkers). */
  livePids(): number[] {
    return [...this.procs.values()].filter((p) => p.running).map((p) => p.pid);
  }

  signal(pid: number, sig: Signal | string): boolean {
    if (pid < 0) {
      const group = [...this.procs.values()].filter((p) => p.pgid === -pid && p.running);
      for (const p of group) p.deliver(sig);
      return group.length > 0;
    }
    const p = this.procs.get(pid);
    if (!p?.running) return false;
    p.deliver(sig);
    return true;
  }

  newPid(): number {
    return this.nextPid++;
  }

  add(p: SimProcess): void {
    this.procs.set(p.pid, p);
    this.world.trace.record('proc.start', this.node, p.pid, p.argv[0] ?? '');
  }

  remove(p: SimProcess): void {
    this.procs.delete(p.pid);
  }

  private spawn(domain: Domain, options: SpawnOptions): Result<RunningProcess, SpawnError> {
    const file = options.argv[0] ?? '';
    const program = this.registry.get(file);
    if (!program) return err({ kind: 'not-found', file });
    if (!domain.alive || !this.machine.alive) return err({ kind: 'failed', file, detail: 'node is down' });
    const leader = new SimProcess(this, program, options.argv, options, undefined);
    return ok(new RunningLeader(leader, domain, options));
  }
}

/** One simulated process (a leader or a child in its group). */
class SimProcess {
  readonly pid: number;
  readonly pgid: number;
  running = true;
  private stopped = false;
  private deferred: Array<() => void> = [];
  private readonly traps = new Map<string, () => void>();
  private readonly out = new Capture();
  private readonly err = new Capture();
  /** Its open sockets, closed when it ends. */
  private readonly sockets = new Set<StreamConnection | StreamListener>();
  /** Called once when the process ends. */
  onEnd: ((code: number | null, signal: string | null) => void) | undefined;

  constructor(
    readonly table: ProcessTable,
    program: SimProgram,
    readonly argv: readonly string[],
    private readonly options: SpawnOptions,
    pgid: number | undefined,
  ) {
    this.pid = table.newPid();
    this.pgid = pgid ?? this.pid;
    this.out.max = this.err.max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    table.add(this);
    // The program starts in its own event, like a real exec: spawn() returns first.
    table.world.scheduler.schedule(0, table.machine, () => {
      if (this.running) program(this.context());
    });
  }

  get stdout(): Capture {
    return this.out;
  }

  get stderr(): Capture {
    return this.err;
  }

  deliver(sig: Signal | string): void {
    if (!this.running) return;
    this.table.world.trace.record('proc.signal', this.table.node, this.pid, sig);
    if (sig === 'SIGSTOP') this.stopped = true;
    else if (sig === 'SIGCONT') this.resume();
    else if (sig !== 'SIGKILL' && this.traps.has(sig)) this.traps.get(sig)?.();
    else if (FATAL_BY_DEFAULT.has(sig)) this.end(null, sig);
  }

  end(code: number | null, signal: string | null): void {
    if (!this.running) return;
    this.running = false;
    this.deferred = [];
    this.table.remove(this);
    this.table.world.trace.record('proc.exit', this.table.node, this.pid, String(code), String(signal));
    this.closeSockets();
    this.onEnd?.(code, signal);
  }

  /** The kernel closes a dead process's sockets: peers see the close, the process hears nothing. */
  private closeSockets(): void {
    for (const s of this.sockets) closeSocket(s);
    this.sockets.clear();
  }

  /** The process's view of the machine's stream network: what it opens is closed when it ends. */
  private streamNetwork(): StreamNetwork {
    const net = this.table.network(this.table.machine);
    const own = <T extends StreamConnection | StreamListener>(s: T): T => {
      // Opened after the process ended (its connect was in flight): closed at once.
      if (this.running) this.sockets.add(s);
      else closeSocket(s);
      return s;
    };
    return {
      listen: async (address, opts) => own(await net.listen(address, opts)),
      connect: async (address, opts) => {
        const r = await net.connect(address, opts);
        if (r.ok) own(r.value);
        return r;
      },
    };
  }


  private resume(): void {
    this.stopped = false;
    const queued = this.deferred;
    this.deferred = [];
    for (const fn of queued) this.table.world.scheduler.schedule(0, this.table.machine, fn);
  }

  private context(): ProcessContext {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter below needs the process, not the literal
    const self = this;
    return {
      argv: this.argv,
      env: this.options.env,
      cwd: this.options.cwd,
      pid: this.pid,
      node: this.table.node,
      get alive() {
        return self.running;
      },
      stream: this.streamNetwork(),
      stdout: (t) => {
        if (!this.running) return;
        this.out.add(t);
        this.options.onStdout?.(t);
      },
      stderr: (t) => this.running && this.err.add(t),
      exit: (code) => this.end(code, null),
      die: (sig) => this.end(null, sig),
      after: (ms, fn) => {
        this.table.world.scheduler.schedule(Math.max(0, ms), this.table.machine, () => this.run(fn));
      },
      trap: (sig, handler) => {
        assert(sig !== 'SIGKILL' && sig !== 'SIGSTOP', `${sig} cannot be caught`);
        this.traps.set(sig, handler);
      },
      spawnChild: (program, argv) => new SimProcess(this.table, program, argv ?? ['sim:child'], this.options, this.pgid).pid,
    };
  }

  /** A stopped (SIGSTOP) process runs nothing until SIGCONT. */
  private run(fn: () => void): void {
    if (!this.running) return;
    if (this.stopped) this.deferred.push(fn);
    else fn();
  }
}

/**
 * Close a socket on behalf of the kernel: no callback reaches the (dead) process. (A listener's
 * close also removes its Unix socket file, which Linux would leave behind.)
 */
function closeSocket(s: StreamConnection | StreamListener): void {
  if ('send' in s) {
    s.onClose(() => undefined);
    s.onFrame(() => undefined);
    s.close();
  } else void s.close();
}

/** The first bytes of an output stream, counting what was dropped. */
class Capture {
  max = DEFAULT_MAX_OUTPUT;
  private text = '';
  private bytes = 0;
  truncated = false;

  add(t: string): void {
    const b = Buffer.from(t, 'utf8');
    const room = this.max - this.bytes;
    if (b.length > room) this.truncated = true;
    const kept = b.subarray(0, Math.max(0, room));
    this.text += kept.toString('utf8');
    this.bytes += kept.length;
  }

  get value(): string {
    return this.text;
  }
}

/** The RunningProcess handed to the caller: timeout, group kill, terminate with a grace. */
class RunningLeader implements RunningProcess {
  readonly exited: Promise<ProcessExit>;
  private timedOut = false;
  private escalated = false;

  constructor(
    private readonly leader: SimProcess,
    domain: Domain,
    private readonly options: SpawnOptions,
  ) {
    const { scheduler } = this.table.world;
    this.exited = new Promise((resolve) => {
      leader.onEnd = (code, signal) => {
        const result: ProcessExit = {
          code,
          signal,
          timedOut: this.timedOut,
          stdout: leader.stdout.value,
          stderr: leader.stderr.value,
          outputTruncated: leader.stdout.truncated || leader.stderr.truncated,
        };
        // Reported to the incarnation that spawned it: a crashed daemon never hears of it.
        scheduler.schedule(0, domain, () => resolve(result));
      };
    });
    if (options.timeoutMs !== undefined) {
      scheduler.schedule(options.timeoutMs, this.table.machine, () => {
        if (!this.leader.running) return;
        this.timedOut = true;
        this.table.world.trace.record('proc.timeout', this.table.node, this.pid);
        this.escalate(options.killGraceMs ?? DEFAULT_GRACE_MS);
      });
    }
  }

  private get table(): ProcessTable {
    return this.leader.table;
  }

  get pid(): number {
    return this.leader.pid;
  }

  /** As the Node runner: once the leader has exited its pid may be reused, so this is a no-op. */
  killGroup(signal: Signal): void {
    if (this.leader.running) this.table.signal(-this.leader.pgid, signal);
  }

  terminate(graceMs?: number): Promise<ProcessExit> {
    this.escalate(graceMs ?? this.options.killGraceMs ?? DEFAULT_GRACE_MS);
    return this.exited;
  }

  /**
   * SIGTERM the group, SIGKILL it after the grace even if the leader exited meanwhile (a
   * grandchild ignoring SIGTERM must not survive); only the first call counts.
   */
  private escalate(graceMs: number): void {
    if (!this.leader.running || this.escalated) return;
    this.escalated = true;
    const group = -this.leader.pgid;
    this.table.signal(group, 'SIGTERM');
    this.table.world.scheduler.schedule(graceMs, this.table.machine, () => this.table.signal(group, 'SIGKILL'));
  }
}
