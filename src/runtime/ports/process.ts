import type { Result } from '../../util/result.js';

export type Signal = 'SIGTERM' | 'SIGKILL' | 'SIGINT' | 'SIGHUP' | 'SIGUSR1' | 'SIGUSR2' | 'SIGSTOP' | 'SIGCONT';

export interface SpawnOptions {
  /** argv[0] is the executable (absolute, or looked up on env.PATH). */
  readonly argv: readonly string[];
  /** The complete environment of the child: nothing is inherited implicitly. */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Kill the whole process group after this long (SIGTERM, then SIGKILL after killGraceMs). */
  readonly timeoutMs?: number;
  /** Grace between SIGTERM and SIGKILL on timeout or terminate(). Default 2000 ms. */
  readonly killGraceMs?: number;
  /** Bytes of stdout and of stderr kept (the first ones); the rest is counted and dropped. Default 64 KiB. */
  readonly maxOutputBytes?: number;
  /**
   * Stdout as it arrives, for a long-running child read as a stream (`virsh event --loop`). The
   * exit's stdout still holds the first maxOutputBytes.
   */
  readonly onStdout?: (chunk: string) => void;
}

export interface ProcessExit {
  /** Exit code, or null when ended by a signal. */
  readonly code: number | null;
  readonly signal: Signal | string | null;
  /** True when the timeout fired and the group was killed. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
  /** True when output beyond maxOutputBytes was dropped. */
  readonly outputTruncated: boolean;
}

export type SpawnError =
  | { readonly kind: 'not-found'; readonly file: string }
  | { readonly kind: 'permission-denied'; readonly file: string }
  | { readonly kind: 'failed'; readonly file: string; readonly detail: string };

/** A child process that leads its own process group. */
export interface RunningProcess {
  readonly pid: number;
  /** Resolves once the process has exited and its output is closed. Never rejects. */
  readonly exited: Promise<ProcessExit>;
  /** Send a signal to the whole process group (children and grandchildren too). */
  killGroup(signal: Signal): void;
  /** SIGTERM the group, then SIGKILL it after graceMs if it is still there; resolves on exit. */
  terminate(graceMs?: number): Promise<ProcessExit>;
}

export interface ProcessRunner {
  spawn(options: SpawnOptions): Result<RunningProcess, SpawnError>;
  /** Whether a process with this pid exists (for processes we did not spawn, e.g. from a pidfile). */
  isAlive(pid: number): boolean;
  /** Send a signal to a pid (negative: a process group). Returns false if there is no such process. */
  signal(pid: number, signal: Signal): boolean;
  /**
   * When the process with this pid started, as a number comparable only with other values of the
   * same runner (Linux: `/proc/<pid>/stat` field 22, clock ticks since boot); undefined when there
   * is no such process or the platform cannot tell. A pid whose start time changed is another
   * process that reused the pid. Optional: a runner that never reuses pids may leave it out.
   */
  startTime?(pid: number): number | undefined;
}
