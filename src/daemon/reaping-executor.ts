import type { AgentReport } from '../cluster/entries.js';
import type { CommandExecutor } from '../cluster/executor.js';
import type { AmfCommand } from '../amf/commands.js';
import type { AmfModel } from '../model/types.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { LeaseGuard } from './watchdog.js';

/**
 * The cluster's AgentExecutor plus what only the daemon can do:
 * - on reset, kill the component processes an earlier incarnation of this daemon left running (a
 *   daemon killed with SIGKILL leaves its supervised commands behind, and a new agent does not know
 *   their pids; see orphans.ts);
 * - the lease deadline (policy `stop`, through CommandExecutor.leaseUntil) goes to the lease
 *   watchdog process (watchdog.ts), which kills every component of this node when it passes
 *   without a renewal, even if this daemon is paused, hung or dead by then. The node runtime
 *   stops the components itself a stop budget earlier when its event loop runs.
 */
export class ReapingExecutor implements CommandExecutor {
  private readonly log: Logger;

  constructor(
    private readonly inner: CommandExecutor,
    private readonly killOrphans: () => number,
    private readonly guard: LeaseGuard,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'daemon.executor' });
  }

  leaseUntil(deadline: number): void {
    this.inner.leaseUntil?.(deadline);
    this.guard.arm(deadline);
  }

  execute(cmd: AmfCommand): void {
    this.inner.execute(cmd);
  }

  onReport(listener: (report: AgentReport) => void): void {
    this.inner.onReport(listener);
  }

  setModel(model: AmfModel): void {
    this.inner.setModel(model);
  }

  async stopAll(): Promise<void> {
    await (this.inner.stopAll?.() ?? this.inner.resetAll());
    this.reap();
  }

  async resetAll(): Promise<void> {
    await this.inner.resetAll();
    this.reap();
  }

  private reap(): void {
    const killed = this.killOrphans();
    if (killed > 0) this.log.warn({ killed }, 'killed component processes left by an earlier incarnation of this node');
  }
}
