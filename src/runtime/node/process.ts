import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { err, ok, type Result } from '../../util/result.js';
import type { Logger, Registry } from '../ports/observability.js';
import type { ProcessExit, ProcessRunner, RunningProcess, Signal, SpawnError, SpawnOptions } from '../ports/process.js';
import { counter } from './metrics.js';

const DEFAULT_KILL_GRACE_MS = 2000;
const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** How long after the exit we keep reading output still in the pipes. */
const OUTPUT_SETTLE_MS = 200;

export interface NodeProcessOptions {
  readonly logger: Logger;
  readonly metrics: Registry;
}

/**
 * Runs children with node:child_process, each leading its own process group (detached), so a
 * kill reaches every process a script forked. Exit is the 'exit' event, not 'close': a daemonising
 * grandchild that keeps our stdout pipe open must not stall it.
 */
export class NodeProcessRunner implements ProcessRunner {
  private readonly log: Logger;
  private readonly spawnFailures;

  constructor(options: NodeProcessOptions) {
    this.log = options.logger.child({ module: 'process' });
    this.spawnFailures = counter(options.metrics, 'amfd_process_spawn_failures_total', 'Spawns refused or failed', ['kind']);
  }

  spawn(options: SpawnOptions): Result<RunningProcess, SpawnError> {
    const file = options.argv[0];
    if (file === undefined || file === '') return this.fail({ kind: 'failed', file: '', detail: 'empty argv' });
    // spawn() reports ENOENT/EACCES asynchronously; resolve and check up front to return them as values.
    const resolved = resolveExecutable(file, options.env.PATH ?? '');
    if (!resolved.ok) return this.fail(resolved.error);
    let child: ChildProcess;
    try {
      child = spawn(resolved.value, options.argv.slice(1), {
        argv0: file,
        cwd: options.cwd,
        env: { ...options.env },
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (e) {
      return this.fail({ kind: 'failed', file, detail: e instanceof Error ? e.message : String(e) });
    }
    if (child.pid === undefined) {
      // The asynchronous 'error' follows; swallow it, the failure is reported here.
      child.on('error', () => undefined);
      return this.fail({ kind: 'failed', file, detail: 'no pid (spawn failed)' });
    }
    return ok(new NodeRunningProcess(child, child.pid, options, this.log.child({ pid: child.pid, file })));
  }

  private fail(e: SpawnError): Result<RunningProcess, SpawnError> {
    this.spawnFailures.inc({ kind: e.kind });
    this.log.warn({ error: e }, 'spawn refused');
    return err(e);
  }

  isAlive(pid: number): boolean {
    if (!Number.isInteger(pid) || pid <= 0) return false;
    try {
      process.kill(pid, 0);
    } catch (e) {
      // EPERM: it exists but belongs to someone else.
      return (e as NodeJS.ErrnoException).code === 'EPERM';
    }
    return !isZombie(pid);
  }

  startTime(pid: number): number | undefined {
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    // Field 22 (starttime); the array starts at field 3.
    const ticks = Number(procStat(pid)?.[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  }

  signal(pid: number, sig: Signal): boolean {
    if (!Number.isInteger(pid) || pid === 0) return false;
    try {
      process.kill(pid, sig);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The fields of `/proc/<pid>/stat` from field 3 (the state) on, or undefined (no such process, or
 * not Linux). The command name before them is in parentheses and may itself contain ')' or spaces.
 */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * A zombie has exited and only waits to be reaped (by init, for orphaned grandchildren); it counts
 * as dead. Linux only; elsewhere kill(pid, 0) alone decides.
 */
function isZombie(pid: number): boolean {
  return procStat(pid)?.[0] === 'Z';
}

/** argv[0] as a path to an executable file: absolute/relative paths as given, bare names on PATH. */
function resolveExecutable(file: string, path: string): Result<string, SpawnError> {
  const candidates = file.includes('/') ? [file] : path.split(':').filter(isAbsolute).map((dir) => join(dir, file));
  let denied = false;
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
    } catch {
      continue;
    }
    try {
      accessSync(c, constants.X_OK);
      return ok(c);
    } catch {
      denied = true;
    }
  }
  return err(denied ? { kind: 'permission-denied', file } : { kind: 'not-found', file });
}

/** The first `max` bytes of a stream, counting (not keeping) the rest. */
class BoundedCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly max: number) {}

  add(chunk: Buffer): void {
    const room = this.max - this.kept;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

class NodeRunningProcess implements RunningProcess {
  readonly exited: Promise<ProcessExit>;
  private hasExited = false;
  private reported = false;
  private timedOut = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly graceMs: number;

  constructor(
    child: ChildProcess,
    readonly pid: number,
    options: SpawnOptions,
    private readonly log: Logger,
  ) {
    this.graceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const max = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const out = new BoundedCapture(max);
    const errOut = new BoundedCapture(max);
    // Keep reading past the bound so the child never blocks on a full pipe.
    const onStdout = options.onStdout;
    // A decoder keeps a character split across chunks whole.
    const decoder = onStdout ? new StringDecoder('utf8') : undefined;
    child.stdout?.on('data', (c: Buffer) => {
      out.add(c);
      if (decoder) onStdout?.(decoder.write(c));
    });
    child.stderr?.on('data', (c: Buffer) => errOut.add(c));
    let timeout: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      timeout = setTimeout(() => {
        this.timedOut = true;
        this.log.warn({ timeoutMs: options.timeoutMs }, 'process timed out; killing its group');
        this.escalate(this.graceMs);
      }, options.timeoutMs);
      timeout.unref();
    }
    this.exited = new Promise((resolve) => {
      let exit: { code: number | null; signal: string | null } | undefined;
      let settle: NodeJS.Timeout | undefined;
      const report = (): void => {
        if (exit === undefined || this.reported) return;
        this.reported = true;
        clearTimeout(settle);
        // A grandchild may still hold the pipes; we are done with them.
        child.stdout?.destroy();
        child.stderr?.destroy();
        resolve({ ...exit, timedOut: this.timedOut, stdout: out.text(), stderr: errOut.text(), outputTruncated: out.truncated || errOut.truncated });
      };
      const onExit = (code: number | null, signal: string | null): void => {
        if (this.hasExited) return;
        this.hasExited = true;
        clearTimeout(timeout);
        exit = { code, signal };
        // Output still in the pipes arrives after 'exit' ('close' follows once it is read), but a
        // grandchild holding a pipe open must not hold up the exit: wait a little, not forever.
        settle = setTimeout(report, OUTPUT_SETTLE_MS);
        settle.unref();
      };
      child.on('exit', onExit);
      child.on('close', report);
      child.on('error', (e) => {
        this.log.warn({ err: e }, 'child process error');
        onExit(null, null);
      });
    });
  }

  killGroup(signal: Signal): void {
    if (!this.hasExited) this.signalGroup(signal);
  }

  private signalGroup(signal: Signal): void {
    try {
      process.kill(-this.pid, signal);
    } catch (e) {
      this.log.debug({ err: e, signal }, 'group kill failed (already gone?)');
    }
  }

  terminate(graceMs?: number): Promise<ProcessExit> {
    this.escalate(graceMs ?? this.graceMs);
    return this.exited;
  }

  /**
   * SIGTERM the group now and SIGKILL it after graceMs, even if the leader exited meanwhile: a
   * grandchild that ignores SIGTERM must not survive. (The kernel does not reuse a pid that is
   * still some group's id, so the SIGKILL cannot hit a stranger.)
   */
  private escalate(graceMs: number): void {
    if (this.hasExited || this.killTimer !== undefined) return;
    this.signalGroup('SIGTERM');
    this.killTimer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    this.killTimer.unref();
  }
}
