/**
 * openais CLC-CLI components: INSTANTIATE / TERMINATE / CLEANUP scripts in clccli_path, the process
 * the instantiate script leaves running watched through its pidfile (the configured one, else
 * openais's `openais_cleanup_<name>`).
 */
import type { HealthcheckConfig } from '../../model/types.js';
import { assert } from '../../util/assert.js';
import { err, ok, type Result } from '../../util/result.js';
import { clccliCwd, clcFailure, describeExit, resolveCommand, runScript, startScript } from '../clccli.js';
import type { Probe } from '../healthcheck.js';
import { watchPidfile, type PidWatch } from '../monitor.js';
import { NO_RETRY_EXIT, type InstantiateFailure } from '../types.js';
import { defineDriver, type ComponentDriver, type DriverHost, type KindConfig, type Leftovers, type StartRequest } from './driver.js';
import { processLeftovers, shellProbe } from './processes.js';

class ClcCliDriver implements ComponentDriver {
  readonly kind = 'clccli';
  readonly probesEveryKey = false;
  /**
   * The instantiate script's process group (what the component left behind lives there) and its
   * start time (the component's process cannot have started earlier).
   */
  private script: { readonly pgid: number; readonly started: number | undefined } | undefined;
  private pidWatch: PidWatch | undefined;

  constructor(private readonly host: DriverHost<KindConfig<'clccli'>>) {}

  get pid(): number | undefined {
    return this.pidWatch?.pid;
  }

  async instantiate(req: StartRequest): Promise<Result<void, InstantiateFailure>> {
    const h = this.host;
    const c = h.entry.config;
    const fail = (reason: string, noRetry = false): Result<void, InstantiateFailure> => err({ reason, noRetry });
    if (c.instantiate === undefined) return fail('no instantiate command is configured');
    const argv = resolveCommand(h.files, c.instantiate, c.clccliPath, 'instantiate');
    if (!argv.ok) return fail(argv.error, true);
    const started = startScript(h.processes, h.log, {
      argv: argv.value,
      env: h.env('instantiate', req.extra),
      timeoutMs: c.instantiateTimeoutMs,
      killGraceMs: h.settings.killGraceMs,
      ...clccliCwd(c.clccliPath),
    });
    if (!started.ok) return fail(started.error);
    const script = started.value.process;
    this.script = { pgid: script.pid, started: h.processes.startTime?.(script.pid) };
    if (req.saAware) {
      // Registered before the script ends is fine (it may stay in the foreground); failing first is not.
      const done = started.value.done;
      const failed = done.then((o) => {
        assert(o.kind === 'exited');
        return o.exit.code === 0 ? new Promise<never>(() => {}) : clcFailure(`instantiate ${describeExit(o.exit)}`, o.exit);
      });
      const r = await req.registration(failed);
      if (r.ok) return r;
      // A script that failed inside but exited 0 (a `not found` from its shell) is only seen here.
      const ended = await Promise.race([done, Promise.resolve(undefined)]);
      if (ended?.kind !== 'exited' || ended.exit.code !== 0 || ended.exit.stderr.trim() === '') return r;
      h.log.warn({ argv: argv.value, stderr: ended.exit.stderr, stdout: ended.exit.stdout || undefined }, `instantiate script exited 0 but ${r.error.reason}`);
      return fail(clcFailure(`${r.error.reason}; the instantiate script exited 0`, ended.exit), r.error.noRetry);
    }
    const settled = req.onAbort(() => script.killGroup('SIGKILL'));
    const o = await started.value.done;
    settled();
    assert(o.kind === 'exited');
    if (o.exit.code === 0) return ok(undefined);
    return fail(clcFailure(`instantiate ${describeExit(o.exit)}`, o.exit), o.exit.code === NO_RETRY_EXIT);
  }

  monitor(died: (reason: string) => void): void {
    const h = this.host;
    const c = h.entry.config;
    const pidfiles = c.pidfile !== undefined ? [c.pidfile] : h.settings.openaisPidDirs.map((d) => `${d}/openais_cleanup_${c.name}`);
    this.pidWatch = watchPidfile(h.clock, h.files, h.processes, pidfiles, h.settings.pollMs, this.script?.started, (pid, how) => died(`monitored process ${pid} ${how}`));
  }

  stopMonitoring(): void {
    this.pidWatch?.cancel();
    this.pidWatch = undefined;
  }

  leftovers(): Leftovers {
    const groups = this.script ? [this.script.pgid] : [];
    this.script = undefined;
    return processLeftovers(this.host, groups, this.pidWatch);
  }

  terminate(timeoutMs: number): Promise<Result<void, string>> {
    return this.run('terminate', timeoutMs);
  }

  cleanup(reason: string, timeoutMs: number): Promise<Result<void, string>> {
    return this.run('cleanup', timeoutMs, { AMF_CLEANUP_REASON: reason });
  }

  commandProbe(hc: HealthcheckConfig): Result<Probe, string> {
    return shellProbe(this.host, hc);
  }

  private async run(how: 'terminate' | 'cleanup', timeoutMs: number, extra: Record<string, string> = {}): Promise<Result<void, string>> {
    const h = this.host;
    const c = h.entry.config;
    const command = how === 'terminate' ? c.terminate : c.cleanup;
    if (command === undefined) return how === 'terminate' ? err('no terminate command is configured') : ok(undefined);
    const argv = resolveCommand(h.files, command, c.clccliPath, how);
    if (!argv.ok) return err(argv.error);
    const o = await runScript(h.processes, h.log, { argv: argv.value, env: h.env(how, extra), timeoutMs, killGraceMs: h.settings.killGraceMs, ...clccliCwd(c.clccliPath) });
    return o.kind === 'spawn-failed' ? err(o.reason) : o.exit.code === 0 ? ok(undefined) : err(clcFailure(`${how} ${describeExit(o.exit)}`, o.exit));
  }
}

export const clccliDriver = defineDriver('clccli', (host) => new ClcCliDriver(host));
