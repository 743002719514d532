/**
 * The real node agent in the whole-cluster simulation (`amf-sim cluster --agent real`): the
 * daemon's AgentExecutor over a NodeAgent on the node's simulated ports, serving its component API
 * on the machine's `unix:` socket. Components are of three kinds (scenario.ts): `command = …`
 * components running a scripted program until killed, SA-aware components using the real client
 * library (sa-component.ts), and openais CLC-CLI components with scripts and a pidfile
 * (clc-component.ts). Crashes and kills reach the agent through its own passive monitoring.
 *
 * Around the agent, this executor plays the parts the daemon's ReapingExecutor plays on a real
 * machine, with the simulator's lease watchdog: a watchdog PROCESS of the machine (it keeps
 * running while the daemon is paused or hung) kills the node's components when the lease runs
 * out, and resetAll also kills component processes left by an earlier daemon incarnation, which
 * a fresh agent does not know. The checker's truth is the ComponentWorld table: component pids
 * recorded at spawn; CSIs recorded by SA-aware components themselves when they take a callback,
 * and for the others when the agent reports them set.
 */
import { NodeAgent } from '../../src/agent/agent.js';
import { AgentExecutor } from '../../src/cluster/agent-executor.js';
import type { AgentReport } from '../../src/cluster/entries.js';
import type { CommandExecutor } from '../../src/cluster/executor.js';
import type { AmfCommand } from '../../src/amf/commands.js';
import { loadConfig } from '../../src/model/index.js';
import type { AmfModel } from '../../src/model/types.js';
import type { ProcessRunner, RunningProcess } from '../../src/runtime/ports/process.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { assert } from '../../src/util/assert.js';
import type { Result } from '../../src/util/result.js';
import type { SimFileSystem } from '../files.js';
import type { ClcScripts } from './clc-component.js';
import { COMPONENT_COMMAND, type ComponentWorld } from './components.js';
import { SA_COMPONENT_COMMAND } from './sa-component.js';

/** Where the agent serves the component API (on the machine's tmpfs: a machine crash removes it). */
const SOCKET_DIR = '/run/amfd';
/** CSI callbacks answered later than this fail (the agent's default is 10 s; slow components are a fault here). */
const CALLBACK_TIMEOUT_MS = 2000;
/** Pidfile poll of CLC-CLI components (the agent's default is 10 ms). */
const PIDFILE_POLL_MS = 100;

export class RealAgentExecutor implements CommandExecutor {
  readonly agent: NodeAgent;
  private readonly inner: AgentExecutor;
  private watchdog: RunningProcess | undefined;

  constructor(
    private readonly world: ComponentWorld,
    private readonly node: string,
    private readonly ports: NodePorts,
    files: SimFileSystem,
    clc: ClcScripts,
  ) {
    const empty = loadConfig('', 'groups.conf');
    assert(empty.ok, 'the empty configuration is valid');
    // Component processes are recorded in the world table as they are spawned: it is the truth
    // the checker reads, and what survives this daemon.
    const processes: ProcessRunner = {
      spawn: (o) => {
        const r = ports.processes.spawn(o);
        const program = o.argv[0];
        if (r.ok && (program === COMPONENT_COMMAND || program === SA_COMPONENT_COMMAND)) world.track(node, o.argv[1] ?? '', r.value.pid, program === SA_COMPONENT_COMMAND ? 'sa-aware' : 'command', r.value.exited);
        return r;
      },
      isAlive: (pid) => ports.processes.isAlive(pid),
      signal: (pid, sig) => ports.processes.signal(pid, sig),
    };
    this.agent = new NodeAgent(
      { clock: ports.clock, random: ports.random.fork('agent'), processes, files, stream: ports.stream, logger: ports.logger, metrics: ports.metrics },
      empty.value,
      { socketPath: `${SOCKET_DIR}/amfd.sock`, baseEnv: { PATH: '/usr/bin:/bin' }, callbackTimeoutMs: CALLBACK_TIMEOUT_MS, pollMs: PIDFILE_POLL_MS },
    );
    this.inner = new AgentExecutor(this.agent, node, empty.value, ports.logger);
    // First listener: the world table is updated before the cluster node hears the report.
    this.inner.onReport((r) => this.observe(r));
    clc.install(node);
    this.started = this.agent.start();
  }

  /** The component API listening (or why it could not). */
  readonly started: Promise<Result<void, string>>;

  execute(cmd: AmfCommand): void {
    this.inner.execute(cmd);
  }

  onReport(listener: (r: AgentReport) => void): void {
    this.inner.onReport(listener);
  }

  setModel(model: AmfModel): void {
    this.inner.setModel(model);
  }

  leaseUntil(deadline: number): void {
    this.watchdog = this.world.rearmWatchdog(this.watchdog, this.ports.processes, this.ports.clock, this.node, deadline);
  }

  /** The agent's cleanup of every component it may run, then the orphans of earlier incarnations. */
  async resetAll(): Promise<void> {
    await this.inner.resetAll();
    this.world.killAll(this.node);
  }

  /** amfd's graceful stop: the agent terminates its components (callbacks, TERMINATE), then as resetAll. */
  async stopAll(): Promise<void> {
    await this.inner.stopAll();
    this.world.killAll(this.node);
  }

  private observe(r: AgentReport): void {
    if (r.kind === 'error-report') this.world.agentErrorReports++;
    if (r.kind !== 'csi-set-done' && r.kind !== 'csi-remove-done') return;
    const comp = this.world.comps(this.node).get(`${r.su}/${r.comp}`);
    // An SA-aware component records what it serves itself, when it takes the callback.
    if (!comp || comp.kind === 'sa-aware') return;
    this.world.setCsi(comp, r.si, r.csi, r.kind === 'csi-set-done' ? r.haState : undefined);
  }
}
