/**
 * amfd as a process: configuration, process-wide error handlers, signals. Exit statuses: 0 after a
 * graceful stop, 1 on a fatal error or a missed shutdown deadline, 2 on a configuration error.
 * src/daemon/main.ts runs it; the e2e tests run it with their partition hook (test/e2e/faults.ts).
 */
import { pino } from 'pino';
import { describeOptions, DEFAULT_CONFIG_FILE, loadDaemonConfig } from './config.js';
import { Daemon, type PortsHook } from './daemon.js';
import { missingNodeFlags } from './node-flags.js';

export async function runAmfd(hook?: PortsHook): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      `usage: amfd [--config FILE] [--join host:port[,host:port…]] [flags]\n\n` +
        `Configuration: schema defaults < JSON file (--config, AMFD_CONFIG, else ${DEFAULT_CONFIG_FILE} if present) < env < flags.\n` +
        `  key                    flag                   env                        meaning [default]\n${describeOptions()}\n`,
    );
    process.exit(0);
  }

  const loaded = loadDaemonConfig({ argv, env: process.env, cwd: process.cwd(), defaultFile: DEFAULT_CONFIG_FILE });
  if (!loaded.ok) {
    process.stderr.write(`amfd: invalid configuration:\n${loaded.error.map((e) => `  - ${e}`).join('\n')}\n`);
    process.exit(2);
  }
  const cfg = loaded.value;

  // Synchronous destination: the fatal line is written before process.exit.
  const destination = pino.destination({ dest: 1, sync: true });
  const made = Daemon.create(cfg, { logDestination: destination, ...(hook ? { hook } : {}) });
  if (!made.ok) {
    process.stderr.write(`amfd: cannot start:\n${made.error.map((e) => `  - ${e}`).join('\n')}\n`);
    process.exit(2);
  }
  const daemon = made.value;
  const log = daemon.ports.logger.child({ module: 'main' });
  const missing = missingNodeFlags(process.execArgv, process.env['NODE_OPTIONS']);
  if (missing.length > 0) log.warn({ missing }, 'node was started without the flags amfd expects: idle memory is higher (docs/operations.md, Memory)');

  function fatal(what: string, e: unknown): never {
    log.fatal({ err: e }, what);
    process.exit(1);
  }
  process.on('uncaughtException', (e) => fatal('uncaught exception', e));
  process.on('unhandledRejection', (e) => fatal('unhandled promise rejection', e));

  let signalled = false;
  function onSignal(sig: NodeJS.Signals): void {
    if (signalled) {
      log.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(1);
    }
    signalled = true;
    const deadline = setTimeout(() => {
      log.error({ timeoutMs: cfg.shutdownTimeoutMs }, 'graceful shutdown missed its deadline; exiting');
      process.exit(1);
    }, cfg.shutdownTimeoutMs);
    deadline.unref();
    void daemon.shutdown(sig).then(() => process.exit(0), (e: unknown) => fatal('shutdown failed', e));
  }
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // By default a hang-up would end amfd at once, not gracefully; tools send it out of habit (a
  // logrotate postrotate, `kill -HUP` to reload). amfd has nothing to reopen (it logs to stdout)
  // and its cluster configuration changes through amfctl, so it says so and carries on.
  process.on('SIGHUP', () => log.warn({ signal: 'SIGHUP' }, 'SIGHUP ignored: amfd reopens and reloads nothing (logs go to stdout; change the cluster configuration with amfctl config apply)'));

  const started = await daemon.start();
  if (!started.ok) {
    // Said on stderr too: the log line on stdout may go to a collector nobody is watching yet.
    process.stderr.write(`amfd: cannot start: ${started.error}\n`);
    log.fatal({ error: started.error }, 'amfd could not start');
    await daemon.shutdown('start failed').catch(() => undefined);
    process.exit(1);
  }
}
