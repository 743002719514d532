import { posix } from 'node:path';
import type { Logger } from '../runtime/ports/observability.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { ProcessExit, ProcessRunner, RunningProcess } from '../runtime/ports/process.js';
import { err, ok, type Result } from '../util/result.js';
import type { CompEntry } from './inventory.js';

/** The CLC-CLI operations, as named in `CLC_CLI_INTERFACE` (openais B.01.01). */
export type ClcInterface = 'instantiate' | 'terminate' | 'cleanup' | 'am_start' | 'am_stop' | 'healthcheck';

/** Split a configured command line into argv (whitespace separated, as openais and OpenSAF do). */
export function splitCommand(command: string): string[] {
  return command.trim().split(/\s+/).filter((s) => s.length > 0);
}

/** Whether the real (canonical) path `path` lies in directory `dir` (itself canonical). */
export function insideDir(path: string, dir: string): boolean {
  return dir === '/' ? path.startsWith('/') : path.startsWith(`${dir}/`);
}

/**
 * Resolve a configured command into an argv. A relative program is taken inside `clccliPath` and
 * must stay there after every `..` and symlink is resolved; an absolute one is used as written
 * (the operator chose it). The program must exist and be executable.
 */
export function resolveCommand(files: FileSystem, command: string, clccliPath: string | undefined, what: string): Result<string[], string> {
  const argv = splitCommand(command);
  const program = argv[0];
  if (program === undefined) return err(`${what}: empty command`);
  let path = program;
  if (!posix.isAbsolute(program)) {
    if (clccliPath === undefined || clccliPath === '') return err(`${what}: relative command '${program}' but no clccli_path is configured`);
    const base = files.realpath(clccliPath);
    if (!base.ok) return err(`${what}: clccli_path '${clccliPath}' does not exist (${base.error.kind})`);
    const real = files.realpath(posix.join(base.value, program));
    if (!real.ok) return err(`${what}: command '${program}' not found in clccli_path '${clccliPath}'`);
    if (!insideDir(real.value, base.value)) return err(`${what}: command '${program}' resolves to '${real.value}', outside clccli_path '${clccliPath}': refused`);
    path = real.value;
  }
  const st = files.stat(path);
  if (!st.ok) return err(`${what}: command '${path}' does not exist (${st.error.kind})`);
  if (!st.value.isFile) return err(`${what}: command '${path}' is not a regular file`);
  if (!files.isExecutable(path)) return err(`${what}: command '${path}' is not executable`);
  return ok([path, ...argv.slice(1)]);
}

/**
 * Where a component's CLC-CLI commands run: its clccli_path (openais's sample script calls
 * `./openais-instantiate`), else the agent's own working directory.
 */
export function clccliCwd(clccliPath: string | undefined): { readonly cwd?: string } {
  return clccliPath === undefined || clccliPath === '' ? {} : { cwd: clccliPath };
}

export interface EnvContext {
  /** The agent's own environment, inherited by every script (PATH included). */
  readonly base: Readonly<Record<string, string>>;
  readonly iface: ClcInterface;
  /** CSI attributes exported to non-SA-aware components (first value wins on duplicate names). */
  readonly csiAttributes?: readonly { readonly name: string; readonly value: string }[];
  /** Extra variables for this run (socket path and secret, cleanup reason, OCF variables). */
  readonly extra?: Readonly<Record<string, string>>;
}

/**
 * The environment of a component's script or process: the inherited one, then the openais
 * B.01.01 variables (so its scripts run unchanged), the DN, the component's `env {}` entries, the
 * CSI attributes for non-SA-aware components, and the per-run extras.
 */
export function componentEnv(entry: CompEntry, ctx: EnvContext): Record<string, string> {
  const c = entry.config;
  const env: Record<string, string> = { ...ctx.base };
  env.CLC_CLI_INTERFACE = ctx.iface;
  env.COMP_BINARY_NAME = c.binaryName ?? '';
  env.COMP_BINARY_PATH = c.binaryPath ?? '';
  env.SA_AMF_COMPONENT_NAME = c.name;
  env.SA_AMF_COMPONENT_DN = entry.dn;
  Object.assign(env, c.env);
  if (c.category !== 'sa_aware' && ctx.csiAttributes) {
    const seen = new Set<string>();
    for (const a of ctx.csiAttributes) {
      if (seen.has(a.name)) continue;
      seen.add(a.name);
      env[a.name] = a.value;
    }
  }
  Object.assign(env, ctx.extra ?? {});
  return env;
}

/** At most this much of a script's stderr travels with its failure (logs keep the whole 16 KiB). */
const STDERR_TAIL = 240;

/**
 * Why a CLC-CLI run failed, with the end of its stderr: `instantiate exited 127 (stderr: ./x: not
 * found)`. The reason reaches the cluster (`amfctl status` shows it), so it is kept short.
 */
export function clcFailure(what: string, exit: ProcessExit): string {
  const tail = exit.stderr.trim().split('\n').slice(-3).join(' / ');
  if (tail === '') return what;
  return `${what} (stderr: ${tail.length > STDERR_TAIL ? `...${tail.slice(-STDERR_TAIL)}` : tail})`;
}

export type ScriptOutcome =
  | { readonly kind: 'exited'; readonly exit: ProcessExit }
  | { readonly kind: 'spawn-failed'; readonly reason: string };

/** How a finished script is described in logs and failure reasons. */
export function describeExit(exit: ProcessExit): string {
  if (exit.timedOut) return 'timed out (process group killed)';
  if (exit.code !== null) return `exited ${exit.code}`;
  return `killed by ${exit.signal ?? 'a signal'}`;
}

export interface ScriptRun {
  readonly process: RunningProcess;
  readonly done: Promise<ScriptOutcome>;
}

export interface ScriptOptions {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly cwd?: string;
}

/**
 * Start a script in its own process group with a timeout (SIGTERM then SIGKILL to the whole
 * group); its bounded stdout/stderr go to the log when it ends.
 */
export function startScript(runner: ProcessRunner, log: Logger, options: ScriptOptions): Result<ScriptRun, string> {
  const { argv } = options;
  const spawned = runner.spawn({ ...options, maxOutputBytes: 16 * 1024 });
  if (!spawned.ok) {
    const e = spawned.error;
    return err(e.kind === 'failed' ? `cannot run ${e.file}: ${e.detail}` : `cannot run ${e.file}: ${e.kind}`);
  }
  const proc = spawned.value;
  const done = proc.exited.then((exit): ScriptOutcome => {
    const fields = { argv, pid: proc.pid, code: exit.code, signal: exit.signal, timedOut: exit.timedOut };
    const output = { stdout: exit.stdout || undefined, stderr: exit.stderr || undefined, truncated: exit.outputTruncated || undefined };
    if (exit.code === 0) log.debug({ ...fields, ...output }, 'script finished');
    else log.warn({ ...fields, ...output }, `script ${describeExit(exit)}`);
    return { kind: 'exited', exit };
  });
  return ok({ process: proc, done });
}

/** Run a script to completion. */
export async function runScript(runner: ProcessRunner, log: Logger, options: ScriptOptions): Promise<ScriptOutcome> {
  const started = startScript(runner, log, options);
  if (!started.ok) return { kind: 'spawn-failed', reason: started.error };
  return started.value.done;
}
