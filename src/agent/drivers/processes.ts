/** What the process-based drivers (clccli, command) share. */
import type { HealthcheckConfig } from '../../model/types.js';
import { err, ok, type Result } from '../../util/result.js';
import { clccliCwd, describeExit, runScript } from '../clccli.js';
import type { Probe } from '../healthcheck.js';
import type { PidWatch } from '../monitor.js';
import type { DriverHost, Leftovers } from './driver.js';

/**
 * Whatever the component left running is killed once it is stopped, even when its main process
 * died earlier and only children it forked remain: cleanup SIGKILLs at once; after a graceful
 * terminate the strays get SIGTERM, then SIGKILL after the kill grace. A group is signalled by
 * its id: while any member lives the kernel does not reuse that pid, so a stranger cannot be
 * hit. The pidfile process is signalled only while it is still the same process (pid reuse).
 */
export function processLeftovers(host: DriverHost, groups: readonly number[], watch: PidWatch | undefined): Leftovers {
  const kill = (sig: 'SIGTERM' | 'SIGKILL'): void => {
    for (const g of groups) host.processes.signal(-g, sig);
    const pid = watch?.pid;
    if (pid !== undefined && !watch?.signal(sig) && host.processes.isAlive(pid)) {
      host.log.warn({ pid }, 'the pidfile names a process that is not the one monitored (pid reused); not signalling it');
    }
  };
  return {
    kill(how) {
      if (how === 'cleanup') return kill('SIGKILL');
      kill('SIGTERM');
      host.clock.setTimer(host.settings.killGraceMs, () => kill('SIGKILL'));
    },
  };
}

/** A command healthcheck: the shell line of `hc.command` (groups.conf keeps it one string), run in clccli_path. */
export function shellProbe(host: DriverHost, hc: HealthcheckConfig): Result<Probe, string> {
  const command = hc.command;
  if (command === undefined) return err(`command healthcheck '${hc.key}' has no command`);
  return ok(async () => {
    const o = await runScript(host.processes, host.log, {
      argv: ['/bin/sh', '-c', command],
      env: host.env('healthcheck'),
      timeoutMs: hc.maximumDurationMs,
      killGraceMs: host.settings.killGraceMs,
      ...clccliCwd(host.entry.config.clccliPath),
    });
    if (o.kind === 'spawn-failed') return { healthy: false, reason: o.reason };
    return o.exit.code === 0 ? { healthy: true } : { healthy: false, reason: `healthcheck command ${describeExit(o.exit)}` };
  });
}
