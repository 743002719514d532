/**
 * The semantic model of a groups.conf: what the parser produces after validation, with every
 * inherited and defaulted value resolved. Immutable. The AMF engine, the agent and the cluster all
 * read this shape; the text form lives in parser/printer. Times are milliseconds, as in openais.
 *
 * Names follow the AMF specification: Sg (service group), Su (service unit), Comp (component),
 * Si (service instance), Csi (component service instance).
 */
import type { GuestHeartbeatConfig } from '../heartbeat/config.js';
import type { ServerGroupConfig } from '../servergroup/config.js';
import type { VmKind } from '../vm/config.js';
import type { SourceLoc } from './loc.js';
import type { AdminState, CompCategory, HealthcheckInvocation, Recovery, RedundancyModel } from './vocabulary.js';

export type { SourceLoc };
export type { GuestHeartbeatConfig, ServerGroupConfig, VmKind };

export interface HealthcheckConfig {
  readonly key: string;
  /** Default: the global healthcheck of the same key, else 10 000. */
  readonly periodMs: number;
  /** Default: the global healthcheck of the same key, else 5 000. */
  readonly maximumDurationMs: number;
  /** Default: 'command' when a command is given, else 'amf'. */
  readonly invocation: HealthcheckInvocation;
  /** For invocation = command: the script run every period; non-zero exit means unhealthy. */
  readonly command?: string;
  readonly loc: SourceLoc;
}

/**
 * How the agent runs a component: CLC-CLI scripts (openais), a supervised command, an OCF agent,
 * or a virtual machine through libvirt (src/vm/config.ts). Each has a driver in src/agent/drivers.
 */
export type CompKind =
  | { readonly type: 'clccli' }
  | { readonly type: 'command'; readonly argv: readonly string[] }
  | { readonly type: 'ocf'; readonly provider: string; readonly agent: string }
  | VmKind;

export interface CompConfig {
  /** Component name, unique within its SU. */
  readonly name: string;
  /** Default: sa_aware (openais); non_proxied_non_sa_aware for command, OCF and vm components. */
  readonly category: CompCategory;
  /** Default: clccli. */
  readonly kind: CompKind;
  /** openais `bn`: binary name handed to the scripts as COMP_BINARY_NAME. */
  readonly binaryName?: string;
  readonly instantiate?: string;
  readonly terminate?: string;
  readonly cleanup?: string;
  readonly amStart?: string;
  readonly amStop?: string;
  /** Effective values after inheritance component → unit → group. */
  readonly clccliPath?: string;
  readonly binaryPath?: string;
  /** CS types this component accepts (`csi_type_name { name }`). */
  readonly csiTypes: readonly string[];
  /** Default 30 000 (each of the three CLC-CLI timeouts). */
  readonly instantiateTimeoutMs: number;
  readonly terminateTimeoutMs: number;
  readonly cleanupTimeoutMs: number;
  /**
   * An SA-aware component told `quiescing` must answer quiescing-complete within this time, else
   * it is an error with its recovery_on_error. Default 10 000.
   */
  readonly quiescingCompleteTimeoutMs: number;
  /** Default 2 (OpenSAF's saAmfNumMaxInstantiateWithoutDelay). */
  readonly instantiateRetries: number;
  /** Default 1 000. */
  readonly instantiateRetryDelayMs: number;
  /** Default component-restart. */
  readonly recoveryOnError: Recovery;
  /** Default false. */
  readonly disableRestart: boolean;
  readonly healthchecks: readonly HealthcheckConfig[];
  readonly env: Readonly<Record<string, string>>;
  /** The process left running by instantiate, watched passively. */
  readonly pidfile?: string;
  /** Present: the host side of the guest heartbeat runs for this component's guest (src/heartbeat). */
  readonly guestHeartbeat?: GuestHeartbeatConfig;
  readonly loc: SourceLoc;
}

export interface SuConfig {
  /** SU name, unique within the cluster (openais units are referred to by name alone). */
  readonly name: string;
  /** Lower is preferred. Default 0. */
  readonly rank: number;
  /** Nodes that may host this SU: one (`node =`), a node group (`nodes =`), or empty for any node. */
  readonly nodes: readonly string[];
  /** Default unlocked (for every entity). */
  readonly adminState: AdminState;
  /** `su_failover`: true to fail the whole SU over on a component failover. Default true. */
  readonly failover: boolean;
  readonly components: readonly CompConfig[];
  readonly loc: SourceLoc;
}

export interface CsiAttribute {
  readonly name: string;
  readonly value: string;
}

export interface CsiConfig {
  readonly name: string;
  /** The CS type; assigned to a component of the SU whose csiTypes contains it. */
  readonly typeName: string;
  readonly attributes: readonly CsiAttribute[];
  readonly loc: SourceLoc;
}

export interface SiConfig {
  readonly name: string;
  /** Lower is assigned first. Default 0. */
  readonly rank: number;
  readonly adminState: AdminState;
  readonly csis: readonly CsiConfig[];
  /** SIs that must be assigned (active) before this one. */
  readonly dependsOn: readonly string[];
  /** N-Way-Active: on how many SUs this SI is active. Default: the number of SUs (1 in other models). */
  readonly preferredActiveAssignments: number;
  /** N-Way: how many standby assignments. Default 1 (0 in models without standby). */
  readonly preferredStandbyAssignments: number;
  readonly loc: SourceLoc;
}

export interface SgConfig {
  readonly name: string;
  /** Default nplusm (what openais always ran). */
  readonly model: RedundancyModel;
  /** Pa. Default 1 (2N: must be 1); N-Way-Active and No-Redundancy: the number of SUs. */
  readonly preferredActiveUnits: number;
  /** Ma: maximum active SIs per SU, ≥ 1. Default: the number of SIs (no limit); No-Redundancy: 1. */
  readonly maximumActiveInstances: number;
  /** Ps. Default 1 (2N: must be 1); N-Way-Active and No-Redundancy: 0. */
  readonly preferredStandbyUnits: number;
  /** Ms: maximum standby SIs per SU, ≥ 1. Default: the number of SIs. */
  readonly maximumStandbyInstances: number;
  /** N-Way: preferred number of SUs that hold any assignment. Default: the number of SUs. */
  readonly preferredAssignedUnits: number;
  readonly adminState: AdminState;
  /** Defaults from the openais README: 100 000 ms / 4 component restarts, 200 000 ms / 6 SU restarts. */
  readonly componentRestartProbationMs: number;
  readonly componentRestartMax: number;
  readonly unitRestartProbationMs: number;
  readonly unitRestartMax: number;
  readonly units: readonly SuConfig[];
  readonly sis: readonly SiConfig[];
  readonly loc: SourceLoc;
}

export interface NodeConfig {
  readonly name: string;
  readonly adminState: AdminState;
  readonly attributes: Readonly<Record<string, string>>;
  /** Effective node-level escalation (node overrides cluster). */
  readonly nodeFailoverProbationMs: number;
  readonly nodeFailoverMax: number;
  readonly loc: SourceLoc;
}

export interface ClusterConfig {
  /** Default 'amf'. */
  readonly name: string;
  /** Default 300 000. */
  readonly nodeFailoverProbationMs: number;
  /** Default 2. */
  readonly nodeFailoverMax: number;
  /**
   * `allow_joins`: a member the configuration does not name (and no operator admitted) may join
   * Raft as a non-voter. Default false: only the nodes named here, and those admitted, sit.
   */
  readonly allowJoins: boolean;
  readonly attributes: Readonly<Record<string, string>>;
}

/** openais top-level healthcheck blocks: global keys components refer to. */
export interface GlobalHealthcheck {
  readonly key: string;
  readonly periodMs: number;
  readonly maximumDurationMs: number;
  readonly loc: SourceLoc;
}

export interface AmfModel {
  readonly cluster: ClusterConfig;
  /** Empty when the file declares no nodes (then SUs may run anywhere). */
  readonly nodes: readonly NodeConfig[];
  readonly groups: readonly SgConfig[];
  readonly healthchecks: readonly GlobalHealthcheck[];
  /** Server groups of components whose guests message each other (src/servergroup). */
  readonly serverGroups: readonly ServerGroupConfig[];
}
