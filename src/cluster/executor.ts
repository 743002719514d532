import type { AmfCommand } from '../amf/commands.js';
import type { AmfModel } from '../model/types.js';
import type { Result } from '../util/result.js';
import type { AgentReport } from './entries.js';

/**
 * Runs the engine's commands for this node's components and reports what happened. The daemon
 * backs it with the node agent (src/agent, through its EngineAdapter); the simulator with
 * simulated component processes. Answers and unsolicited faults arrive through onReport.
 */
export interface CommandExecutor {
  execute(cmd: AmfCommand): void;
  onReport(listener: (report: AgentReport) => void): void;
  /**
   * Stop every component of this node (cleanup), whatever the cluster believes: run before a new
   * incarnation speaks (start-up after a crash, lease lost with policy `stop`). Resolves once
   * nothing runs any more.
   */
  resetAll(): Promise<void>;
  /**
   * amfd's graceful stop (policy `stop`): terminate every component of this node as the AMF would
   * (the terminate callback of a registered SA-aware component, else its TERMINATE; cleanup after a
   * failure or the timeout), then clean up whatever else may run, as resetAll. Absent: resetAll.
   */
  stopAll?(): Promise<void>;
  /** A new configuration was committed (before its commands are executed). */
  setModel(model: AmfModel): void;
  /**
   * Policy `stop` only: this node's lease now ends at `deadline` (local Clock.now() ms; -Infinity:
   * none held). An executor with a watchdog outside the daemon's event loop (a hardware watchdog,
   * SBD, a supervisor process) arms it for that time, so the components stop even if the daemon is
   * paused or hung when the lease runs out.
   */
  leaseUntil?(deadline: number): void;
}

/** Powers a node off (STONITH); ok only when the node is known to be off. */
export interface Fencer {
  fence(node: string, reason: string): Promise<Result<void, string>>;
}
