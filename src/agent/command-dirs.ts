/**
 * The node's allow-list of command directories (amfd `command_dirs`): every process the agent
 * starts for a component (CLC-CLI scripts, plain commands, OCF agents, virsh) must be a program
 * whose real path lies in one of them. The configuration comes through the API, so without the
 * list whoever holds the API token runs any command, as amfd, on every node (docs/operations.md).
 * It is enforced where every driver's spawn passes: the agent's ProcessRunner.
 */
import { posix } from 'node:path';
import type { Logger } from '../runtime/ports/observability.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { ProcessRunner, SpawnOptions } from '../runtime/ports/process.js';
import { err } from '../util/result.js';
import { insideDir } from './clccli.js';

/** The program argv[0] names: itself when it has a slash, else the first executable file on env.PATH. */
function program(files: FileSystem, o: SpawnOptions): string | undefined {
  const name = o.argv[0];
  if (name === undefined || name === '') return undefined;
  if (name.includes('/')) return posix.resolve(o.cwd ?? '/', name);
  for (const dir of (o.env['PATH'] ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = posix.join(dir, name);
    const st = files.stat(candidate);
    if (st.ok && st.value.isFile && files.isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Why `o` may not run (undefined: it may), the allowed directories given canonical. */
export function commandRefusal(files: FileSystem, dirs: readonly string[], o: SpawnOptions): string | undefined {
  const path = program(files, o);
  if (path === undefined) return undefined; // not found: the runner says so itself
  const real = files.realpath(path);
  const where = real.ok ? real.value : path;
  return dirs.some((d) => insideDir(where, d)) ? undefined : `'${o.argv[0] ?? ''}' is ${where}, outside the allowed command directories (command_dirs: ${dirs.join(', ')})`;
}

/** `inner` restricted to `dirs` (none: `inner` itself). A refusal is a spawn failure, logged at warn. */
export function restrictCommands(inner: ProcessRunner, files: FileSystem, dirs: readonly string[], logger: Logger): ProcessRunner {
  if (dirs.length === 0) return inner;
  const log = logger.child({ module: 'agent.command-dirs' });
  // Canonical, so a symlinked directory matches the real paths of what is in it; a missing one matches nothing.
  const allowed = dirs.flatMap((d) => {
    const r = files.realpath(d);
    return r.ok ? [r.value] : [];
  });
  return {
    spawn: (o) => {
      const why = commandRefusal(files, allowed, o);
      if (why === undefined) return inner.spawn(o);
      log.warn({ argv: o.argv.slice(0, 1) }, `refused to run ${why}`);
      return err({ kind: 'failed', file: o.argv[0] ?? '', detail: why });
    },
    isAlive: (pid) => inner.isAlive(pid),
    signal: (pid, signal) => inner.signal(pid, signal),
    ...(inner.startTime ? { startTime: (pid: number) => inner.startTime?.(pid) } : {}),
  };
}
