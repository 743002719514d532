/**
 * The guest client's two scripts from guest_heartbeat.conf, run through the ProcessRunner port:
 * HEALTH_CHECK_SCRIPT (no arguments; exit 0 healthy, anything else unhealthy, a run still going at
 * the next check killed and unhealthy) and EVENT_NOTIFICATION_SCRIPT `<script> revocable|irrevocable
 * <event>` (exit 0 accepts or completes; otherwise it rejects a vote or fails a notification). In
 * both the first line of stdout is the reason.
 */
import type { ProcessRunner, RunningProcess } from '../runtime/ports/process.js';
import type { EventType, NotificationType, VoteResult } from './wire.js';

export interface ScriptOutcome {
  /** False when the script could not be started at all. */
  readonly ran: boolean;
  readonly ok: boolean;
  /** The first line of stdout, or what went wrong. */
  readonly logMsg: string;
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? '').trim();
}

export class ScriptRunner {
  private readonly running = new Map<string, RunningProcess>();

  constructor(
    private readonly processes: ProcessRunner,
    private readonly env: Readonly<Record<string, string>>,
  ) {}

  /**
   * Run `argv` under `key`, replacing (killing) a run of the same key still going; the outcome is
   * undefined when it was replaced or aborted, so the caller ignores it.
   */
  async run(key: string, argv: readonly string[], timeoutMs: number): Promise<ScriptOutcome | undefined> {
    this.abort(key);
    const r = this.processes.spawn({ argv, env: this.env, timeoutMs, killGraceMs: 500, maxOutputBytes: 4096 });
    if (!r.ok) {
      const e = r.error;
      return { ran: false, ok: false, logMsg: `cannot run ${argv[0] ?? ''}: ${e.kind === 'failed' ? e.detail : e.kind}` };
    }
    const proc = r.value;
    this.running.set(key, proc);
    const exit = await proc.exited;
    if (this.running.get(key) !== proc) return undefined;
    this.running.delete(key);
    if (exit.timedOut) return { ran: true, ok: false, logMsg: `${argv[0] ?? ''} timed out after ${timeoutMs} ms` };
    const line = firstLine(exit.stdout);
    if (exit.code === 0) return { ran: true, ok: true, logMsg: line };
    return { ran: true, ok: false, logMsg: line !== '' ? line : exit.code === null ? `${argv[0] ?? ''} killed by ${String(exit.signal)}` : `${argv[0] ?? ''} exited with ${exit.code}` };
  }

  abort(key: string): void {
    const p = this.running.get(key);
    if (p === undefined) return;
    this.running.delete(key);
    p.killGroup('SIGKILL');
  }

  abortAll(): void {
    for (const key of [...this.running.keys()]) this.abort(key);
  }
}

/** The event script's vote or notification result from its outcome. */
export function eventScriptResult(notificationType: NotificationType, o: ScriptOutcome): VoteResult {
  if (o.ok) return notificationType === 'revocable' ? 'accept' : 'complete';
  return notificationType === 'revocable' ? 'reject' : 'error';
}

export function eventScriptArgv(script: string, notificationType: NotificationType, eventType: EventType): string[] {
  return [script, notificationType, eventType];
}
