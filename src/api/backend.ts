/**
 * What the HTTP API needs from a node: `ApiBackend`. The daemon implements it on the cluster node
 * with a thin adapter (views from `views.ts`, events from `events.ts`, the dry-run plan from
 * `plan.ts`); tests implement it in memory. The API layer only validates, routes and encodes.
 *
 * Reads take `{ consistent }`: false serves the local replica (it may lag the leader by a few
 * entries); true forwards to the leader or verifies leadership first, and fails with
 * `no-leader` when no leader can be reached.
 */
import type { Seat } from './schemas.js';
import type { AdminProgress } from '../amf/progress.js';
import type { AdminEntityKind } from './admin-target.js';
import type { ApiEvent } from './events.js';
import type { ConfigChangePlan } from './plan.js';
import type { NodePhase } from '../cluster/node-runtime.js';
import type { AdminState, CompCategory, CompKind, HealthcheckInvocation, ModelChange, Recovery, RedundancyModel } from '../model/index.js';
import type { AdminOp, DisabledCause, GuestHeartbeatState, HaState, OperState, PresenceState, ReadinessState, SiAssignmentState } from '../model/vocabulary.js';
import type { LineChannelState } from '../runtime/line-channel.js';
import type { Registry } from '../runtime/ports/observability.js';
import type { ServerGroupPolicy } from '../servergroup/config.js';
import type { MemberState as ServerGroupMemberState } from '../servergroup/status.js';
import type { MemberState } from '../swim/index.js';
import type { Result } from '../util/result.js';

export interface RaftView {
  readonly role: 'leader' | 'follower' | 'candidate' | 'pre-candidate' | 'starting';
  readonly term: number;
  /** Node name of the leader this node knows, null during an election. */
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly voters: readonly string[];
}

export interface MemberView {
  readonly name: string;
  /** Gossip address `host:port`. */
  readonly address: string;
  readonly state: MemberState;
  readonly incarnation: number;
}

export interface StatusView {
  readonly node: string;
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly memory: { readonly rssBytes: number; readonly heapUsedBytes: number };
  readonly raft: RaftView;
  readonly members: readonly MemberView[];
  /** Work not yet done: proposals awaiting commit, agent commands running, AMF timers armed. */
  readonly pending: { readonly proposals: number; readonly commands: number; readonly timers: number };
  /** This node's own lease: its phase (active: it may run its components) and whether it holds one now. */
  readonly lease: { readonly phase: NodePhase; readonly held: boolean };
  /** The epoch of the config this node runs. */
  readonly configEpoch: number;
  /** The seq of the latest event (what `GET /v1/events?since=` counts from). */
  readonly lastEventSeq: number;
}

/**
 * A node's lease as the replicated state has it: `held` (up, renewed by the leader), `condemned`
 * (the leader stopped renewing it: the node stops its components when it runs out), `expired`
 * (declared down once the lease had surely run out, or fenced), `none` (never joined).
 */
export type NodeLease = 'held' | 'condemned' | 'expired' | 'none';

export interface NodeView {
  readonly name: string;
  /** Membership as the AMF sees it (up after join, down after the lease expired or a fence). */
  readonly up: boolean;
  readonly admin: AdminState;
  readonly oper: OperState;
  /** What disabled it (node failover, switchover, failfast), null while enabled. */
  readonly disabledReason: string | null;
  readonly leader: boolean;
  /** SUs placed on this node. */
  readonly sus: readonly string[];
  readonly lease: NodeLease;
  /** The incarnation last seen up ('' before the first join). */
  readonly incarnation: string;
  /** When the last membership change was committed (ISO-8601), null before the first. */
  readonly since: string | null;
  /** Its place in Raft as this node's configuration has it: the leader, a voter, a non-voter, or none. */
  readonly raft: 'leader' | 'voter' | 'nonvoter' | null;
}

export interface CompView {
  readonly name: string;
  /** How the agent runs it (groups.conf `command`, `ocf`, else CLC-CLI scripts). */
  readonly kind: CompKind['type'];
  readonly category: CompCategory;
  readonly healthchecks: readonly { readonly key: string; readonly periodMs: number; readonly invocation: HealthcheckInvocation }[];
  readonly presence: PresenceState;
  readonly oper: OperState;
  /** Instantiation attempt in progress or last made. */
  readonly attempt: number;
  /** The last failed CLC-CLI run (instantiate, terminate, cleanup): its reason (with the end of its stderr) and when. */
  readonly lastError?: { readonly reason: string; readonly at: string };
  /** Its guest's heartbeat (components with a guest_heartbeat block, once their node reported one). */
  readonly guestHeartbeat?: GuestHeartbeatView;
}

export interface GuestHeartbeatView {
  readonly status: GuestHeartbeatState;
  readonly reason: string;
  /** The node that reported it. */
  readonly node: string;
  /** When it entered this state (ISO 8601). */
  readonly since: string;
}

export interface SuView {
  readonly name: string;
  readonly node: string | null;
  readonly admin: AdminState;
  readonly oper: OperState;
  /** Why it is disabled (component-fault and node-failover-withheld wait for `admin repair`), null while enabled. */
  readonly disabledCause: DisabledCause | null;
  readonly disabledReason: string | null;
  readonly presence: PresenceState;
  readonly readiness: ReadinessState;
  readonly components: readonly CompView[];
  /** By SI, in SI rank order. */
  readonly assignments: readonly { readonly si: string; readonly ha: HaState }[];
  readonly escalation: { readonly compRestarts: number; readonly suRestarts: number };
}

export interface SiView {
  readonly name: string;
  readonly group: string;
  readonly admin: AdminState;
  readonly assignment: SiAssignmentState;
  /** By SU, in SU rank order, with the node each SU runs on. */
  readonly assignments: readonly { readonly su: string; readonly node: string | null; readonly ha: HaState }[];
}

export interface GroupView {
  readonly name: string;
  readonly model: RedundancyModel;
  readonly admin: AdminState;
  readonly units: readonly SuView[];
  readonly sis: readonly SiView[];
}

export interface ConfigView {
  readonly text: string;
  /** Bumped by every committed config change; the compare-and-set token of PUT /v1/config. */
  readonly epoch: number;
  /**
   * The last config change as the event stream told it (the `config` epoch event and the semantic
   * diff after it), null when the change log no longer keeps it.
   */
  readonly lastChange: { readonly epoch: number; readonly seq: number; readonly time: string; readonly changes: readonly ApiEvent[] } | null;
}

export interface ServerGroupMemberView {
  /** Its name to its peers (`source_instance`, `instance_id`). */
  readonly instance: string;
  readonly displayName: string;
  readonly unit: string;
  readonly component: string;
  /** From the committed state, in nova's words (docs/server-groups.md). */
  readonly state: ServerGroupMemberState;
  readonly stateDescription: string;
  /** The node hosting it, null when placed nowhere. */
  readonly host: string | null;
  readonly ha: HaState | null;
  readonly launchedAt: string | null;
  /** The host end of its messaging channel; null when it could not be found (its domain XML has none). */
  readonly channelPath: string | null;
  /** The channel as the answering node holds it; null when that node does not (the member runs elsewhere, or not at all). */
  readonly channel: { readonly state: LineChannelState; readonly connects: number } | null;
}

export interface ServerGroupView {
  readonly name: string;
  readonly policy: ServerGroupPolicy;
  readonly broadcastRate: number;
  readonly broadcastBurst: number;
  readonly members: readonly ServerGroupMemberView[];
}

/** A located config error, as `file:line:col: message` splits it. */
export interface ConfigErrorView {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

export type PutConfigResult =
  | { readonly kind: 'committed'; readonly epoch: number; readonly changes: readonly ModelChange[] }
  | { readonly kind: 'stale'; readonly epoch: number }
  | { readonly kind: 'invalid'; readonly errors: readonly ConfigErrorView[] }
  | { readonly kind: 'dry-run'; readonly epoch: number; readonly changes: readonly ModelChange[]; readonly plan: ConfigChangePlan };


/** Why a request the backend understood could not be done; the API maps codes to statuses. */
export interface BackendError {
  /** not-found → 404, invalid-state → 409, no-leader / unavailable → 503. */
  readonly code: 'not-found' | 'invalid-state' | 'no-leader' | 'unavailable';
  readonly message: string;
}

export interface ReadOptions {
  readonly consistent: boolean;
}

export interface EventSubscription {
  /** Stop delivering; idempotent. */
  cancel(): void;
}

export type SubscribeResult =
  /** Events after `since` were replayed synchronously into onEvent before this returned. */
  | { readonly kind: 'ok'; readonly subscription: EventSubscription }
  /** `since` is older than the ring holds: the caller missed events and must re-read the state. */
  | { readonly kind: 'gone'; readonly oldest: number; readonly latest: number };

export interface ApiBackend {
  status(): Promise<StatusView>;
  nodes(opts: ReadOptions): Promise<Result<readonly NodeView[], BackendError>>;
  groups(opts: ReadOptions): Promise<Result<readonly GroupView[], BackendError>>;
  config(opts: ReadOptions): Promise<Result<ConfigView, BackendError>>;
  /** The server groups, their members' status and the channels this node holds (`unavailable` until the service runs). */
  serverGroups(opts: ReadOptions): Promise<Result<readonly ServerGroupView[], BackendError>>;
  /** Validate, compare the epoch with `ifMatch`, then commit through Raft (or only plan: dryRun). */
  putConfig(text: string, ifMatch: number, dryRun: boolean): Promise<Result<PutConfigResult, BackendError>>;
  /** Commit an admin operation (`comp`: name is `su/comp`); `to`: the destination node of a `migrate` (no other operation takes one). */
  admin(kind: AdminEntityKind, name: string, op: AdminOp, to?: string): Promise<Result<void, BackendError>>;
  /** What `admin` would do now (the engine settled with a healthy agent), or the refusal it would get; changes nothing. */
  planAdmin(kind: AdminEntityKind, name: string, op: AdminOp, to?: string): Promise<Result<ConfigChangePlan, BackendError>>;
  /** Whether `op` on the entity has taken effect in this replica's state (what `amfctl admin` waits for). */
  adminProgress(kind: AdminEntityKind, name: string, op: AdminOp): Promise<Result<AdminProgress, BackendError>>;
  /**
   * `amfctl admit`: give `node` a Raft seat the configuration does not (voter or non-voter), or
   * take it back (`none`); committed as an `admit` entry, the leader then changes Raft membership.
   */
  admit(node: string, seat: Seat): Promise<Result<void, BackendError>>;
  /** `amfctl report-error`: an error report on component `su/comp`, as the component itself would send. */
  reportError(su: string, comp: string, recovery: Recovery, reason: string): Promise<Result<void, BackendError>>;
  /**
   * Deliver every event with seq > since (null: only new ones), then each new one as it is
   * committed, in seq order, without gaps. onEvent must not throw or block.
   */
  subscribe(since: number | null, onEvent: (e: ApiEvent) => void): SubscribeResult;
  /** Calls `onChange` when this node's own view may have changed (Raft, gossip, lease): the stream's status lines. */
  watchStatus(onChange: () => void): EventSubscription;
  /** The node's registry: raft, swim, amf, agent metrics; the API adds its own. */
  readonly metrics: Registry;
}
