import type { AgentReport } from '../cluster/entries.js';
import type { CommandExecutor } from '../cluster/executor.js';
import type { AmfCommand } from '../amf/commands.js';
import type { AmfModel } from '../model/types.js';
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';

/**
 * The cluster's AgentExecutor plus what only the daemon can do:
 * - on reset, kill the component processes an earlier incarnation of this daemon left running (a
 *   daemon killed with SIGKILL leaves its supervised commands behind, and a new agent does not know
 *   their pids; see orphans.ts);
 * - a lease watchdog (policy `stop`, through CommandExecutor.leaseUntil): when the lease's deadline
 *   passes without a renewal, every component of this node is killed at once. The node runtime
 *   stops them too, but its expiry check (src/cluster/node-runtime.ts checkExpiry) returns without
 *   re-arming when a real timer fires a fraction of a millisecond early, so in a partition the
 *   components could keep running while the majority starts them (seen by test/e2e/partition).
 *   The watchdog re-arms until the deadline has truly passed.
 */
export class ReapingExecutor implements CommandExecutor {
  private readonly log: Logger;
  private watchdog: TimerHandle | undefined;

  constructor(
    private readonly inner: CommandExecutor,
    private readonly killOrphans: () => number,
    private readonly clock: Clock,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'daemon.executor' });
  }

  leaseUntil(deadline: number): void {
    this.inner.leaseUntil?.(deadline);
    this.watchdog?.cancel();
    this.watchdog = undefined;
    if (!Number.isFinite(deadline)) return;
    const arm = (): void => {
      const left = deadline - this.clock.now();
      if (left > 0) {
        this.watchdog = this.clock.setTimer(Math.ceil(left), arm);
        return;
      }
      this.watchdog = undefined;
      const killed = this.killOrphans();
      this.log.error({ killed }, 'lease ran out without renewal: killed every component of this node (lease watchdog)');
    };
    arm();
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

  async resetAll(): Promise<void> {
    await this.inner.resetAll();
    const killed = this.killOrphans();
    if (killed > 0) this.log.warn({ killed }, 'killed component processes left by an earlier incarnation of this node');
  }
}
