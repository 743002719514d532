import type { Fencer } from '../cluster/executor.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { ProcessRunner } from '../runtime/ports/process.js';
import { err, ok, type Result } from '../util/result.js';

const FENCE_TIMEOUT_MS = 30_000;

/**
 * STONITH through an operator-supplied shell command (`fencing_command`): it gets the node in
 * AMFD_FENCE_NODE and the reason in AMFD_FENCE_REASON, and must exit 0 only once the node is
 * known to be off. Anything else (non-zero, signal, timeout) is a failed fence: the lease path
 * still applies.
 */
export class CommandFencer implements Fencer {
  private readonly log: Logger;

  constructor(
    private readonly command: string,
    private readonly processes: ProcessRunner,
    private readonly baseEnv: Readonly<Record<string, string>>,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'daemon.fence' });
  }

  async fence(node: string, reason: string): Promise<Result<void, string>> {
    const p = this.processes.spawn({
      argv: ['/bin/sh', '-c', this.command],
      env: { ...this.baseEnv, AMFD_FENCE_NODE: node, AMFD_FENCE_REASON: reason },
      timeoutMs: FENCE_TIMEOUT_MS,
    });
    if (!p.ok) return err(`fencing command could not start: ${p.error.kind} ${p.error.file}`);
    const exit = await p.value.exited;
    this.log.info({ node, code: exit.code, signal: exit.signal, stdout: exit.stdout || undefined, stderr: exit.stderr || undefined }, 'fencing command finished');
    if (exit.timedOut) return err(`fencing command timed out after ${FENCE_TIMEOUT_MS} ms`);
    return exit.code === 0 ? ok(undefined) : err(`fencing command exited ${exit.code ?? exit.signal}`);
  }
}
