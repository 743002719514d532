import type { Clock } from '../runtime/ports/clock.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { ProcessRunner, Signal } from '../runtime/ports/process.js';

/** Parse the first line of a pidfile; a pid must be a positive integer. */
export function parsePid(text: string): number | undefined {
  const first = text.trim().split(/\s+/)[0] ?? '';
  if (!/^[0-9]{1,10}$/.test(first)) return undefined;
  const pid = Number(first);
  return pid > 1 && pid <= 0x7fffffff ? pid : undefined;
}

export interface PidWatch {
  /** The pid being watched, once the pidfile named a live process. */
  readonly pid: number | undefined;
  /**
   * Signal the watched process, but only while it is still the one seen when watching began: a
   * pid reused by an unrelated process after the component's died is never signalled. False when
   * nothing was signalled (no pid yet, gone, or reused).
   */
  signal(sig: Signal): boolean;
  cancel(): void;
}

/**
 * Passive monitoring of a process we did not spawn (named by a pidfile): poll every `pollMs`.
 * Until the pidfile names a live process that started no earlier than `notBefore` (the instantiate
 * script's start) we keep re-reading it: the component may write it a little after it started, and
 * a stale file from the previous run names a dead pid, or one reused since; once a live
 * pid was seen, its start time is its identity, and its disappearance (or a different process
 * under its pid, which the poll may catch before it sees the pid free) is reported once.
 */
export function watchPidfile(clock: Clock, files: FileSystem, runner: ProcessRunner, pidfiles: readonly string[], pollMs: number, notBefore: number | undefined, onDeath: (pid: number, how: string) => void): PidWatch {
  let pid: number | undefined;
  let started: number | undefined;
  let ticks = 0;
  const same = (p: number): boolean => runner.isAlive(p) && runner.startTime?.(p) === started;
  const poll = (): void => {
    if (pid === undefined) {
      // Looking for the pidfile is a file read per name: do it every tenth tick only (a component
      // that never writes one, as openais allows, must not cost 100 reads a second).
      if (ticks++ % 10 !== 0) return;
      for (const path of pidfiles) {
        const text = files.readText(path, 64);
        const candidate = text.ok ? parsePid(text.value) : undefined;
        if (candidate === undefined || !runner.isAlive(candidate)) continue;
        const start = runner.startTime?.(candidate);
        // A stale pidfile whose pid now belongs to a process older than this instantiation.
        if (notBefore !== undefined && start !== undefined && start < notBefore) continue;
        pid = candidate;
        started = start;
        return;
      }
      return;
    }
    if (!same(pid)) {
      handle.cancel();
      onDeath(pid, runner.isAlive(pid) ? 'is gone (its pid now belongs to another process)' : 'is gone');
    }
  };
  const handle = clock.setPeriodic(pollMs, poll);
  poll();
  return {
    get pid() {
      return pid;
    },
    signal: (sig) => pid !== undefined && same(pid) && runner.signal(pid, sig),
    cancel: () => handle.cancel(),
  };
}
