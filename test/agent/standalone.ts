import { step, initialState, type AmfState } from '../../src/amf/index.js';
import type { AmfCommand, AmfInput, AmfNotice } from '../../src/amf/commands.js';
import type { AmfModel } from '../../src/model/types.js';
import type { Clock, TimerHandle } from '../../src/runtime/ports/clock.js';
import type { Logger } from '../../src/runtime/ports/observability.js';
import type { NodeAgent } from '../../src/agent/agent.js';
import { EngineAdapter } from '../../src/agent/engine-adapter.js';

/**
 * One node on its own: the AMF engine driven directly by this node's agent, without Raft. Inputs
 * are stepped one at a time in arrival order; the engine's commands go to the agent, its timers to
 * the clock. The cluster issue replaces this loop with the replicated one (reports proposed
 * through Raft, the director stepping the engine on the leader).
 */
export class StandaloneLoop {
  state: AmfState;
  /** Inputs to step, each with the time it happened (a timer's due time at the earliest). */
  private readonly queue: Array<{ input: AmfInput; at: number }> = [];
  private stepping = false;
  private readonly timers = new Map<string, TimerHandle>();
  private readonly adapters: EngineAdapter[] = [];
  private readonly nodes: string[] = [];
  private readonly observers: Array<(notice: AmfNotice, input: AmfInput) => void> = [];
  private readonly commandObservers: Array<(cmd: AmfCommand) => void> = [];
  private readonly inputObservers: Array<(input: AmfInput) => void> = [];
  private readonly refusalObservers: Array<(input: AmfInput, error: string) => void> = [];
  private readonly log: Logger;

  constructor(
    public model: AmfModel,
    agent: NodeAgent,
    nodeName: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.log = logger.child({ module: 'agent.standalone' });
    this.state = initialState(model);
    this.addNode(agent, nodeName);
  }

  /** Another node's agent driven by the same engine (one process plays a small cluster). */
  addNode(agent: NodeAgent, nodeName: string): void {
    this.nodes.push(nodeName);
    this.adapters.push(new EngineAdapter(agent, nodeName, (input) => this.input(input), this.logger));
  }

  /** Bring the nodes up: the engine starts instantiating and assigning. */
  start(): void {
    for (const node of this.nodes) this.input({ kind: 'node-up', node });
  }

  stop(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  onNotice(observer: (notice: AmfNotice, input: AmfInput) => void): void {
    this.observers.push(observer);
  }

  onCommand(observer: (cmd: AmfCommand) => void): void {
    this.commandObservers.push(observer);
  }

  /** An input the engine refused (an admin operation that does not apply), with its reason. */
  onRefusal(observer: (input: AmfInput, error: string) => void): void {
    this.refusalObservers.push(observer);
  }

  onInput(observer: (input: AmfInput) => void): void {
    this.inputObservers.push(observer);
  }

  /** An operator's action or a configuration change goes through here too. */
  input(input: AmfInput): void {
    this.enqueue(input, this.clock.now());
  }

  private enqueue(input: AmfInput, at: number): void {
    this.queue.push({ input, at });
    if (this.stepping) return;
    this.stepping = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) this.stepOne(next.input, next.at);
    } finally {
      this.stepping = false;
    }
  }

  setModel(model: AmfModel): void {
    this.model = model;
    this.input({ kind: 'config-changed' });
  }

  private stepOne(input: AmfInput, now: number): void {
    for (const o of this.inputObservers) o(input);
    const r = step(this.model, this.state, input, now);
    if (r.error !== undefined) {
      this.log.warn({ input, error: r.error }, 'engine refused the input');
      for (const o of this.refusalObservers) o(input, r.error);
    }
    this.state = r.state;
    for (const n of r.notices) {
      if (n.kind !== 'ignored') this.log.info({ notice: n }, 'amf');
      for (const o of this.observers) o(n, input);
    }
    for (const cmd of r.commands) {
      for (const o of this.commandObservers) o(cmd);
      this.execute(cmd);
    }
  }

  private execute(cmd: AmfCommand): void {
    switch (cmd.kind) {
      case 'timer-set': {
        this.timers.get(cmd.id)?.cancel();
        const { id, at } = cmd;
        this.timers.set(id, this.clock.setTimer(Math.max(0, Math.ceil(at - this.clock.now())), () => {
          this.timers.delete(id);
          // Real timers may fire a fraction of a millisecond early: the engine must never see a
          // timer expire before its due time, or it takes the expiry for a stale one.
          this.enqueue({ kind: 'timer-expired', id }, Math.max(at, this.clock.now()));
        }));
        return;
      }
      case 'timer-cancel':
        this.timers.get(cmd.id)?.cancel();
        this.timers.delete(cmd.id);
        return;
      case 'node-fence':
        // One node has nobody to fence it: say so loudly; the operator must intervene.
        this.log.error({ node: cmd.node, reason: cmd.reason }, 'fencing requested, but a standalone node cannot be fenced');
        return;
      default:
        if (!this.adapters.some((a) => a.execute(cmd))) this.log.warn({ cmd }, 'command for another node ignored');
    }
  }
}
