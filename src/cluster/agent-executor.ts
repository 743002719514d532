/**
 * The daemon's CommandExecutor: the node agent (src/agent) behind its EngineAdapter. Commands run
 * as CLC-CLI scripts, supervised commands or OCF agents; answers and faults come back as reports.
 */
import { EngineAdapter } from '../agent/engine-adapter.js';
import type { NodeAgent } from '../agent/agent.js';
import type { AmfCommand, AmfInput } from '../amf/commands.js';
import type { AmfModel, SuConfig } from '../model/types.js';
import type { Logger } from '../runtime/ports/observability.js';
import { validateReport, type AgentReport } from './entries.js';
import type { CommandExecutor } from './executor.js';

export class AgentExecutor implements CommandExecutor {
  private readonly adapter: EngineAdapter;
  private readonly listeners: Array<(r: AgentReport) => void> = [];
  private readonly log: Logger;

  constructor(
    private readonly agent: NodeAgent,
    private readonly nodeName: string,
    private model: AmfModel,
    logger: Logger,
  ) {
    this.log = logger.child({ module: 'cluster.executor' });
    this.adapter = new EngineAdapter(agent, nodeName, (input) => this.deliver(input), logger);
  }

  execute(cmd: AmfCommand): void {
    if (!this.adapter.execute(cmd)) this.log.warn({ cmd }, 'command not for this node agent');
  }

  onReport(listener: (r: AgentReport) => void): void {
    this.listeners.push(listener);
  }

  setModel(model: AmfModel): void {
    this.model = model;
    this.agent.setModel(model);
  }

  /**
   * Cleanup of every component that may run on this node (its SU names this node, or any node),
   * whether or not this daemon started it: after a crash, components of the previous daemon may
   * still run. Cleanup scripts are idempotent (openais contract).
   */
  async resetAll(): Promise<void> {
    await this.cleanupAll(new Set());
  }

  /** Graceful: the instantiated components terminated at once, each as the AMF would; then resetAll for the rest. */
  async stopAll(): Promise<void> {
    const live = this.mine().flatMap((u) => u.components.filter((c) => this.agent.presence(u.name, c.name) === 'instantiated').map((c) => [u.name, c.name] as const));
    const results = await Promise.all(live.map(async ([su, comp]) => ({ ref: `${su}/${comp}`, r: await this.agent.terminate(su, comp) })));
    const stopped = new Set<string>();
    for (const { ref, r } of results) {
      if (r.ok) stopped.add(ref);
      else this.log.warn({ comp: ref, error: r.error }, 'terminate failed during the graceful stop');
    }
    this.log.info({ terminated: stopped.size, of: live.length }, 'components terminated for the graceful stop');
    await this.cleanupAll(stopped);
  }

  /** The SUs that may run on this node (they name it, or any node). */
  private mine(): SuConfig[] {
    return this.model.groups.flatMap((g) => g.units).filter((u) => u.nodes.length === 0 || u.nodes.includes(this.nodeName));
  }

  private async cleanupAll(except: ReadonlySet<string>): Promise<void> {
    const refs = this.mine().flatMap((u) => u.components.map((c) => [u.name, c.name, `${u.name}/${c.name}`] as const)).filter(([, , ref]) => !except.has(ref));
    const results = await Promise.all(refs.map(async ([su, comp, ref]) => ({ ref, r: await this.agent.cleanup(su, comp, 'node-reset') })));
    for (const { ref, r } of results) if (!r.ok) this.log.error({ comp: ref, error: r.error }, 'cleanup failed during node reset: the component may still run');
  }

  private deliver(input: AmfInput): void {
    const r = validateReport(input);
    if (!r.ok) {
      this.log.error({ input, error: r.error }, 'the agent produced something that is not a report');
      return;
    }
    for (const l of this.listeners) l(r.value);
  }
}
