/**
 * The cluster's CommandExecutor backed by the real node agent: committed commands for this node's
 * components go to the agent (through the agent's EngineAdapter), its answers and faults come back
 * as reports. resetAll stops everything this daemon, or an earlier incarnation of it, started.
 */
import type { AmfCommand, AmfInput } from '../amf/commands.js';
import type { CommandExecutor } from '../cluster/executor.js';
import type { AgentReport } from '../cluster/entries.js';
import type { NodeAgent } from '../agent/agent.js';
import { EngineAdapter } from '../agent/engine-adapter.js';
import type { AmfModel } from '../model/types.js';
import type { Logger } from '../runtime/ports/observability.js';

export interface AgentExecutorDeps {
  readonly agent: NodeAgent;
  readonly nodeName: string;
  readonly logger: Logger;
  /** Kills what an earlier incarnation left running (see orphans.ts); resolves with how many. */
  readonly killOrphans: () => Promise<number>;
}

export class AgentExecutor implements CommandExecutor {
  private readonly listeners: Array<(r: AgentReport) => void> = [];
  private readonly adapter: EngineAdapter;
  /** Components this incarnation was told to instantiate: what resetAll cleans up. */
  private readonly started = new Map<string, { su: string; comp: string }>();
  private readonly log: Logger;

  constructor(private readonly d: AgentExecutorDeps) {
    this.log = d.logger.child({ module: 'daemon.executor' });
    this.adapter = new EngineAdapter(d.agent, d.nodeName, (input) => this.emit(input), d.logger);
  }

  onReport(listener: (report: AgentReport) => void): void {
    this.listeners.push(listener);
  }

  setModel(model: AmfModel): void {
    this.d.agent.setModel(model);
  }

  execute(cmd: AmfCommand): void {
    if (cmd.kind === 'comp-instantiate') this.started.set(`${cmd.su}/${cmd.comp}`, { su: cmd.su, comp: cmd.comp });
    if (!this.adapter.execute(cmd)) this.log.debug({ cmd: cmd.kind }, 'command not for the agent');
  }

  async resetAll(): Promise<void> {
    const cleanups = [...this.started.values()].map(({ su, comp }) =>
      this.d.agent.cleanup(su, comp, 'node reset').then((r) => {
        if (!r.ok) this.log.warn({ su, comp, error: r.error }, 'cleanup during reset failed');
      }),
    );
    this.started.clear();
    await Promise.all(cleanups);
    const killed = await this.d.killOrphans();
    if (killed > 0) this.log.warn({ killed }, 'killed component processes left by an earlier incarnation of this node');
  }

  private emit(input: AmfInput): void {
    // The adapter only produces answers and faults, which are exactly the agent reports.
    const report = input as AgentReport;
    for (const l of this.listeners) l(report);
  }
}
