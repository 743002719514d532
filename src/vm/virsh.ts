/**
 * The virsh layer: every libvirt operation amfd performs, as one `virsh -c URI …` child through the
 * runtime ProcessRunner (no maintained Node binding exists; Pacemaker's VirtualDomain does the
 * same). Each command has a timeout that kills its whole process group. Every failure is a value
 * whose message names the component, its domain XML file and the URI.
 */
import type { Logger } from '../runtime/ports/observability.js';
import type { ProcessExit, ProcessRunner, RunningProcess } from '../runtime/ports/process.js';
import { err, ok, type Result } from '../util/result.js';
import { parseDominfo, parseDomstate, parseEventLine, parseList, saysExists, saysNoDomain, type DomainState, type DomInfo, type EventLine, type ListedDomain } from './parse.js';

export type VirshErrorKind =
  /** The domain is not there (libvirt does not know it). */
  | 'no-domain'
  /** create: a domain of that name or UUID is already there. */
  | 'exists'
  /** The command did not end within its timeout; its process group was killed. */
  | 'timeout'
  /** It exited non-zero (or was killed) for another reason. */
  | 'failed'
  /** It exited 0 but printed something this layer cannot read. */
  | 'garbage'
  /** virsh could not be run at all. */
  | 'spawn';

export interface VirshError {
  readonly kind: VirshErrorKind;
  /** Names the component, the domain XML file, the URI and the command. */
  readonly message: string;
}

export interface VirshContext {
  readonly processes: ProcessRunner;
  readonly log: Logger;
  /** The virsh program (bare name on env.PATH, or a path). */
  readonly virsh: string;
  readonly uri: string;
  /** The environment of every virsh child (PATH at least; LC_ALL=C is forced so messages parse). */
  readonly env: Readonly<Record<string, string>>;
  /** Per command, unless the call gives its own. */
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  /** Who is asking, for error messages: `component X (domain XML F)`. */
  readonly label: string;
}

/** virsh's own messages end with blank lines; keep the first meaningful ones. */
function brief(text: string): string {
  const t = text.trim().replace(/\n+/g, ' | ');
  return t.length > 300 ? `${t.slice(0, 300)}…` : t || '(nothing)';
}

export class Virsh {
  constructor(readonly ctx: VirshContext) {}

  /** The same virsh against another libvirt (the destination of a migration). */
  at(uri: string): Virsh {
    return new Virsh({ ...this.ctx, uri });
  }

  private fail(kind: VirshErrorKind, args: readonly string[], what: string): VirshError {
    return { kind, message: `${this.ctx.label}: virsh -c ${this.ctx.uri} ${args.join(' ')}: ${what}` };
  }

  private spawn(args: readonly string[], timeoutMs: number | undefined, onStdout?: (chunk: string) => void): Result<RunningProcess, VirshError> {
    const spawned = this.ctx.processes.spawn({
      argv: [this.ctx.virsh, '-c', this.ctx.uri, ...args],
      env: { ...this.ctx.env, LC_ALL: 'C' },
      killGraceMs: this.ctx.killGraceMs,
      maxOutputBytes: 1024 * 1024,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(onStdout ? { onStdout } : {}),
    });
    if (!spawned.ok) {
      const e = spawned.error;
      return err(this.fail('spawn', args, `cannot run ${e.file}: ${e.kind === 'failed' ? e.detail : e.kind}`));
    }
    return ok(spawned.value);
  }

  /** Run one command to its end; stdout on exit 0, else the classified failure. */
  async run(args: readonly string[], timeoutMs = this.ctx.timeoutMs): Promise<Result<string, VirshError>> {
    const p = this.spawn(args, timeoutMs);
    if (!p.ok) return p;
    const exit = await p.value.exited;
    this.ctx.log.debug({ argv: args, code: exit.code, signal: exit.signal, timedOut: exit.timedOut }, 'virsh');
    return this.outcome(args, exit, timeoutMs);
  }

  private outcome(args: readonly string[], exit: ProcessExit, timeoutMs: number): Result<string, VirshError> {
    if (exit.timedOut) return err(this.fail('timeout', args, `no answer within ${timeoutMs} ms; its process group was killed`));
    if (exit.code === 0) return ok(exit.stdout);
    const stderr = exit.stderr;
    const why = exit.code === null ? `killed by ${exit.signal ?? 'a signal'}` : `exit ${exit.code}`;
    if (saysNoDomain(stderr)) return err(this.fail('no-domain', args, brief(stderr)));
    if (saysExists(stderr)) return err(this.fail('exists', args, brief(stderr)));
    return err(this.fail('failed', args, `${why}: ${brief(stderr)}`));
  }

  private parsed<T>(args: readonly string[], out: Result<string, VirshError>, parse: (text: string) => Result<T, string>): Result<T, VirshError> {
    if (!out.ok) return out;
    const r = parse(out.value);
    return r.ok ? r : err(this.fail('garbage', args, `unreadable output (${r.error}): ${brief(out.value)}`));
  }

  /** `virsh create FILE`: define and start a transient domain (never `define`: see docs/vm.md). */
  async create(xmlPath: string, timeoutMs?: number): Promise<Result<void, VirshError>> {
    const r = await this.run(['create', xmlPath], timeoutMs);
    return r.ok ? ok(undefined) : r;
  }

  async dominfo(name: string): Promise<Result<DomInfo, VirshError>> {
    const args = ['dominfo', name];
    return this.parsed(args, await this.run(args), parseDominfo);
  }

  async domstate(name: string): Promise<Result<{ readonly state: DomainState; readonly reason: string }, VirshError>> {
    const args = ['domstate', '--reason', name];
    return this.parsed(args, await this.run(args), parseDomstate);
  }

  async list(): Promise<Result<ListedDomain[], VirshError>> {
    const args = ['list', '--all'];
    return this.parsed(args, await this.run(args), parseList);
  }

  /** Ask the guest to power off (ACPI); returns once libvirt sent the request, not when it is off. */
  async shutdown(name: string): Promise<Result<void, VirshError>> {
    const r = await this.run(['shutdown', name]);
    return r.ok ? ok(undefined) : r;
  }

  /** Stop the domain at once (a created domain is then gone). */
  async destroy(name: string): Promise<Result<void, VirshError>> {
    const r = await this.run(['destroy', name]);
    return r.ok ? ok(undefined) : r;
  }

  /** `virsh migrate --live NAME DEST` from this libvirt to `destUri`. */
  async migrate(name: string, destUri: string, timeoutMs: number): Promise<Result<void, VirshError>> {
    const r = await this.run(['migrate', '--live', name, destUri], timeoutMs);
    return r.ok ? ok(undefined) : r;
  }

  /**
   * `virsh event --loop --all`: one child that prints every event of this libvirt until it is
   * stopped or the connection is lost. Lines go to onLine parsed (or as the reason they are not).
   */
  events(onLine: (line: Result<EventLine, string>) => void): Result<EventStream, VirshError> {
    let pending = '';
    const p = this.spawn(['event', '--loop', '--all'], undefined, (chunk) => {
      pending += chunk;
      let i: number;
      while ((i = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        onLine(parseEventLine(line));
      }
      // A line is short; a child that prints megabytes with no newline is not virsh.
      if (pending.length > 64 * 1024) {
        onLine(err(`a line of ${pending.length} bytes without a newline`));
        pending = '';
      }
    });
    if (!p.ok) return p;
    const proc = p.value;
    return ok({
      pid: proc.pid,
      exited: proc.exited.then((exit) => (exit.code === null ? `killed by ${exit.signal ?? 'a signal'}` : `exit ${exit.code}: ${brief(exit.stderr)}`)),
      stop: () => void proc.terminate(this.ctx.killGraceMs),
    });
  }
}

export interface EventStream {
  readonly pid: number;
  /** Why it ended. */
  readonly exited: Promise<string>;
  stop(): void;
}
