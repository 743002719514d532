/**
 * OCF resource agents as components (`ocf = provider:agent`): start / stop / monitor actions of
 * `<OCF_ROOT>/resource.d/<provider>/<agent>`. Every healthcheck key runs the monitor action; the
 * agent's own monitor is its only watch (nothing is monitored passively).
 */
import type { HealthcheckConfig } from '../../model/types.js';
import { err, ok, type Result } from '../../util/result.js';
import { describeExit, runScript } from '../clccli.js';
import type { Probe } from '../healthcheck.js';
import { ocfAgentPath, ocfEnv, ocfMeaning, ocfMonitorHealthy, OCF_SUCCESS, type OcfAction } from '../ocf.js';
import type { InstantiateFailure } from '../types.js';
import { defineDriver, type ComponentDriver, type DriverHost, type KindConfig, type Leftovers } from './driver.js';

const NOTHING_LEFT: Leftovers = { kill: () => undefined };

class OcfDriver implements ComponentDriver {
  readonly kind = 'ocf';
  readonly pid = undefined;
  readonly probesEveryKey = true;

  constructor(private readonly host: DriverHost<KindConfig<'ocf'>>) {}

  /** An OCF agent is never waited for on the component API: `start` returning is the start. */
  async instantiate(): Promise<Result<void, InstantiateFailure>> {
    const r = await this.run('start', this.host.entry.config.instantiateTimeoutMs);
    if (!r.ok) return err({ reason: r.error, noRetry: false });
    return r.value === OCF_SUCCESS ? ok(undefined) : err({ reason: `start: ${ocfMeaning(r.value)}`, noRetry: false });
  }

  monitor(): void {}

  stopMonitoring(): void {}

  leftovers(): Leftovers {
    return NOTHING_LEFT;
  }

  terminate(timeoutMs: number): Promise<Result<void, string>> {
    return this.stop(timeoutMs);
  }

  cleanup(_reason: string, timeoutMs: number): Promise<Result<void, string>> {
    return this.stop(timeoutMs);
  }

  commandProbe(hc: HealthcheckConfig): Result<Probe, string> {
    return ok(async () => {
      const r = await this.run('monitor', hc.maximumDurationMs);
      return r.ok && ocfMonitorHealthy(r.value) ? { healthy: true } : { healthy: false, reason: r.ok ? `monitor: ${ocfMeaning(r.value)}` : r.error };
    });
  }

  env(): Record<string, string> {
    const k = this.host.kind;
    return ocfEnv(this.host.entry, this.host.settings.ocfRoot, k.provider, k.agent);
  }

  private async stop(timeoutMs: number): Promise<Result<void, string>> {
    const s = await this.run('stop', timeoutMs);
    return !s.ok ? s : s.value === OCF_SUCCESS ? ok(undefined) : err(`stop: ${ocfMeaning(s.value)}`);
  }

  /** Run an OCF action; the exit code, or why it could not run. */
  private async run(action: OcfAction, timeoutMs: number): Promise<Result<number, string>> {
    const h = this.host;
    const path = ocfAgentPath(h.settings.ocfRoot, h.kind.provider, h.kind.agent);
    if (path === undefined) return err(`bad OCF agent name ${h.kind.provider}:${h.kind.agent}`);
    if (!h.files.isExecutable(path)) return err(`OCF agent ${path} is missing or not executable`);
    const iface = action === 'start' ? 'instantiate' : action === 'stop' ? 'terminate' : 'healthcheck';
    const o = await runScript(h.processes, h.log, { argv: [path, action], env: h.env(iface), timeoutMs, killGraceMs: h.settings.killGraceMs });
    if (o.kind === 'spawn-failed') return err(o.reason);
    if (o.exit.code === null) return err(`OCF ${action} ${describeExit(o.exit)}`);
    return ok(o.exit.code);
  }
}

export const ocfDriver = defineDriver('ocf', (host) => new OcfDriver(host));
