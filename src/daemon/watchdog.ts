/**
 * amfd's side of the lease watchdog (the process is watchdog-main.ts): spawn it before any
 * component runs, tell it whose processes to kill, arm it at every lease grant or renewal and
 * disarm it when the node holds no lease. Deadlines travel as absolute CLOCK_MONOTONIC
 * nanoseconds (process.hrtime.bigint(), the same clock in both processes), converted from the
 * daemon's Clock at the moment of sending. If the watchdog dies it is restarted at once and
 * re-armed; if it keeps dying (or cannot be spawned), onFatal tells the daemon, which stops: a
 * node without its watchdog must not hold a lease.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import { err, ok, type Result } from '../util/result.js';
import { findMarked, OWNER_VAR } from './orphans.js';
import { encodeMsg, MAX_AHEAD_NS, WATCHDOG_ARG, type WatchdogMsg } from './watchdog-protocol.js';

/** Where ReapingExecutor sends the lease deadline (local Clock ms; not finite: no lease). */
export interface LeaseGuard {
  arm(deadline: number): void;
}

/** In every watchdog's environment, = the owner it guards: how a later amfd finds a stale one. */
export const WATCHDOG_VAR = 'AMFD_WATCHDOG';
/** More restarts than this within RESTART_WINDOW_MS is fatal. */
const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 10_000;
const STOP_WAIT_MS = 2000;
/** Beyond the pipe's own buffer: ~1000 renewals (minutes of them) not yet taken by the watchdog. */
const MAX_QUEUED_BYTES = 32 * 1024;
/**
 * V8 bounds for a process that holds a few strings: a leak would crash it (and it is restarted)
 * rather than grow. Its memory is Node's floor either way: ~42 MB RSS, of which ~7 MB private, the
 * rest the node binary's pages shared with amfd (bench/watchdog.bench.ts; --jitless or
 * --single-threaded saved nothing measurable).
 */
export const WATCHDOG_V8_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=16', '--v8-pool-size=1'];

/** The command that runs the watchdog: compiled JS as is, the TypeScript source through tsx. */
export function watchdogCommand(node: string): { file: string; args: string[] } {
  const self = import.meta.url;
  const main = new URL(self.endsWith('.ts') ? './watchdog-main.ts' : './watchdog-main.js', self);
  const loader = self.endsWith('.ts') ? ['--import', import.meta.resolve('tsx')] : [];
  return { file: process.execPath, args: [...WATCHDOG_V8_FLAGS, ...loader, fileURLToPath(main), WATCHDOG_ARG, node] };
}

export interface LeaseWatchdogOptions {
  readonly node: string;
  /** The AMFD_OWNER value of this node's components. */
  readonly owner: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Tests: run something else instead of watchdog-main. */
  readonly command?: { file: string; args: string[] };
}

export class LeaseWatchdog implements LeaseGuard {
  private child: ChildProcess | undefined;
  private state: WatchdogMsg = { t: 'disarm' };
  private restarts: number[] = [];
  private stopped = false;
  /** Whether a watchdog ever ran: a failure to spawn the first one is start()'s error, not a restart. */
  private started = false;
  private fatal: ((why: string) => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly o: LeaseWatchdogOptions) {
    this.log = o.logger.child({ module: 'daemon.watchdog' });
  }

  /** The running watchdog's pid (it changes when the watchdog is restarted). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Called once if the watchdog cannot be kept running. */
  onFatal(listener: (why: string) => void): void {
    this.fatal = listener;
  }

  /** Spawn it; resolves once the process runs (or with why it could not). */
  async start(): Promise<Result<void, string>> {
    const child = this.spawn();
    const started = await new Promise<Result<void, string>>((resolve) => {
      child.once('spawn', () => {
        this.started = true;
        resolve(ok(undefined));
      });
      child.once('error', (e) => resolve(err(`lease watchdog: cannot spawn ${this.command().file}: ${e.message}`)));
    });
    if (started.ok) this.log.info({ pid: child.pid }, 'lease watchdog started');
    return started;
  }

  arm(deadline: number): void {
    if (!Number.isFinite(deadline)) this.state = { t: 'disarm' };
    else {
      const now = process.hrtime.bigint();
      const ahead = BigInt(Math.ceil((deadline - this.o.clock.now()) * 1e6));
      this.state = { t: 'arm', deadlineNs: now + (ahead < MAX_AHEAD_NS ? ahead : MAX_AHEAD_NS) };
    }
    this.send(this.state);
  }

  /** Graceful stop: disarm, close the pipe, wait for the exit (bounded, then SIGKILL). */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.state = { t: 'disarm' };
    this.send(this.state);
    child.stdin?.end();
    let timer: TimerHandle | undefined;
    const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = this.o.clock.setTimer(STOP_WAIT_MS, () => r(true))))]);
    timer?.cancel();
    if (late) {
      this.log.warn({ pid: child.pid }, 'lease watchdog did not exit after disarm; killing it');
      child.kill('SIGKILL');
      await exited;
    }
  }

  /**
   * Kill the watchdogs an earlier amfd of this node left behind (it was killed and its watchdog
   * waits for the old lease's end). Call only once this node's components are gone: then they
   * guard nothing, and left alone they would kill the components this amfd starts next.
   */
  reapStale(): number {
    const stale = findMarked(WATCHDOG_VAR, (v) => v === this.o.owner).filter((pid) => pid !== this.child?.pid);
    for (const pid of stale) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    if (stale.length > 0) this.log.warn({ pids: stale }, 'killed lease watchdogs left by an earlier amfd of this node');
    return stale.length;
  }

  private command(): { file: string; args: string[] } {
    return this.o.command ?? watchdogCommand(this.o.node);
  }

  private spawn(): ChildProcess {
    const env = { ...process.env };
    // Never marked as a component: the daemon's own orphan reaping would kill its watchdog.
    delete env[OWNER_VAR];
    env[WATCHDOG_VAR] = this.o.owner;
    const { file, args } = this.command();
    // Its own session: a signal to amfd's process group (a terminal's Ctrl-C, kill -STOP -pgid)
    // does not reach it.
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'inherit'], env, detached: true });
    this.child = child;
    child.stdin?.on('error', () => undefined); // EPIPE when it died: 'exit' handles that
    child.once('exit', (code, signal) => this.onExit(child, `exited (code ${code}, signal ${signal})`));
    child.once('error', (e) => {
      if (child.pid === undefined) this.onExit(child, `cannot be spawned: ${e.message}`);
    });
    this.send({ t: 'owner', owner: this.o.owner });
    this.send(this.state);
    return child;
  }

  private send(m: WatchdogMsg): void {
    const stdin = this.child?.stdin;
    // A watchdog that stopped reading (itself stopped) keeps the deadline it has: no unbounded queue.
    if (stdin && !stdin.destroyed && stdin.writable && stdin.writableLength < MAX_QUEUED_BYTES) stdin.write(encodeMsg(m));
  }

  private onExit(child: ChildProcess, how: string): void {
    if (this.stopped || !this.started || child !== this.child) return;
    this.child = undefined;
    const now = this.o.clock.now();
    this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.restarts.length > MAX_RESTARTS) {
      this.stopped = true;
      this.log.error({ how, restarts: this.restarts.length, windowMs: RESTART_WINDOW_MS }, 'lease watchdog keeps failing: giving up (this node must not hold a lease)');
      this.fatal?.(`lease watchdog ${how}, ${this.restarts.length} times in ${RESTART_WINDOW_MS} ms`);
      return;
    }
    this.log.error({ how, pid: child.pid }, 'lease watchdog died: restarting it and re-arming');
    this.spawn();
  }
}
