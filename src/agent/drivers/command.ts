/**
 * `command = …` components: amfd runs the program itself as a supervised child (its own process
 * group) and watches it by its exit; terminate is SIGTERM then SIGKILL, cleanup SIGKILL of the group.
 */
import type { HealthcheckConfig } from '../../model/types.js';
import { within } from '../../runtime/ports/clock.js';
import type { RunningProcess } from '../../runtime/ports/process.js';
import { err, ok, type Result } from '../../util/result.js';
import { describeExit } from '../clccli.js';
import type { Probe } from '../healthcheck.js';
import type { InstantiateFailure } from '../types.js';
import { defineDriver, type ComponentDriver, type DriverHost, type KindConfig, type Leftovers, type StartRequest } from './driver.js';
import { processLeftovers, shellProbe } from './processes.js';

class CommandDriver implements ComponentDriver {
  readonly kind = 'command';
  readonly probesEveryKey = false;
  private child: RunningProcess | undefined;

  constructor(private readonly host: DriverHost<KindConfig<'command'>>) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async instantiate(req: StartRequest): Promise<Result<void, InstantiateFailure>> {
    const h = this.host;
    const spawned = h.processes.spawn({ argv: h.kind.argv, env: h.env('instantiate', req.extra), killGraceMs: h.entry.config.terminateTimeoutMs });
    if (!spawned.ok) {
      const e = spawned.error;
      return err({ reason: `cannot start ${e.file}: ${e.kind === 'failed' ? e.detail : e.kind}`, noRetry: false });
    }
    const child = spawned.value;
    this.child = child;
    const exited = child.exited.then((exit) => {
      h.log.info({ pid: child.pid, code: exit.code, signal: exit.signal, stdout: exit.stdout || undefined, stderr: exit.stderr || undefined }, 'supervised process exited');
      req.died(`supervised process ${child.pid} ${describeExit(exit)}`);
      return `the process ${describeExit(exit)} before registering`;
    });
    return req.saAware ? req.registration(exited) : ok(undefined);
  }

  /** The child is watched by its exit, from the moment it is spawned. */
  monitor(): void {}

  stopMonitoring(): void {}

  leftovers(): Leftovers {
    // The group, even when its leader is already dead: the children it forked may live on.
    return processLeftovers(this.host, this.child ? [this.child.pid] : [], undefined);
  }

  async terminate(timeoutMs: number): Promise<Result<void, string>> {
    const child = this.child;
    if (!child) return ok(undefined);
    const exit = await child.terminate(timeoutMs);
    this.child = undefined;
    this.host.log.info({ pid: child.pid, signal: exit.signal, code: exit.code }, 'supervised process terminated');
    return ok(undefined);
  }

  async cleanup(_reason: string, timeoutMs: number): Promise<Result<void, string>> {
    const child = this.child;
    if (!child) return ok(undefined);
    // The group, not RunningProcess.killGroup (a no-op once the leader is dead; its children may live on).
    this.host.processes.signal(-child.pid, 'SIGKILL');
    const gone = await within(this.host.clock, child.exited.then(() => true), timeoutMs, false);
    if (!gone) return err(`process ${child.pid} still there ${timeoutMs} ms after SIGKILL`);
    this.child = undefined;
    return ok(undefined);
  }

  awaitExit(timeoutMs: number): Promise<boolean> | undefined {
    const child = this.child;
    if (!child) return undefined;
    return within(this.host.clock, child.exited.then(() => true), timeoutMs, false).then((gone) => {
      if (gone) this.child = undefined;
      return gone;
    });
  }

  commandProbe(hc: HealthcheckConfig): Result<Probe, string> {
    return shellProbe(this.host, hc);
  }
}

export const commandDriver = defineDriver('command', (host) => new CommandDriver(host));
