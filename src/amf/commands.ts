/**
 * The AMF engine's contract with the rest of amfd: the events it consumes and the commands and
 * notices it produces. The engine is pure:
 *
 *   step(model, state, input, now) → { state, commands, notices, error? }
 *
 * - `AmfInput`: what happened (reported by node agents, membership, timers, operators).
 * - `AmfCommand`: what must be done. Each command that acts on a component names the `node` whose
 *   agent executes it; the agent answers with the matching `AmfInput` (listed on each command).
 *   Timer commands are executed by whoever drives the engine (the cluster director / simulator).
 * - `AmfNotice`: what changed and why (state changes, escalations), for logs, the event stream and
 *   the audit trail. Notices never require an action.
 *
 * Identity: SU names are unique in the cluster; a component is named by (su, comp); a CSI by
 * (si, csi). Times are milliseconds on the caller's clock (the `now` handed to step).
 *
 * Stability: this file is shared with the node agent (issue 7). Changes are additive only. The
 * state names it uses (HaState, Recovery, ErrorSource, AdminOp) are in src/model/vocabulary.ts.
 */
import type { AdminOp, ErrorSource, HaState, Recovery } from '../model/vocabulary.js';

// ---------------------------------------------------------------------------------------------
// Commands (engine → agents / driver)
// ---------------------------------------------------------------------------------------------

/**
 * Start a component with its instantiate CLC-CLI (or its command / OCF start). `attempt` counts
 * from 1 for this instantiation (retries after a failed attempt increase it).
 * Answer: `comp-instantiated` or `comp-instantiate-failed`.
 */
export interface CompInstantiateCmd {
  readonly kind: 'comp-instantiate';
  readonly node: string;
  readonly su: string;
  readonly comp: string;
  readonly attempt: number;
  /**
   * The component arrived here by a live migration (`comp-migrate`): take over what already runs
   * (a vm component: the domain of this UUID) instead of starting it.
   */
  readonly adopt?: string;
}

/**
 * Stop a component gracefully (terminate callback or terminate CLC-CLI; the agent falls back to
 * cleanup itself if terminate fails or times out, as the spec requires).
 * Answer: `comp-terminated` or `comp-terminate-failed` (only when the cleanup also failed).
 */
export interface CompTerminateCmd {
  readonly kind: 'comp-terminate';
  readonly node: string;
  readonly su: string;
  readonly comp: string;
}

/**
 * Stop a component abruptly with the cleanup CLC-CLI (kill and release its resources). Used for
 * restarts, failovers and after a failed instantiation attempt.
 * Answer: `comp-terminated` or `comp-terminate-failed`.
 */
export interface CompCleanupCmd {
  readonly kind: 'comp-cleanup';
  readonly node: string;
  readonly su: string;
  readonly comp: string;
  /** Why, for the script environment and logs (e.g. 'restart', 'failover', 'instantiation-failed'). */
  readonly reason: string;
}

/**
 * Move a running component live to node `to` (admin `migrate` of a VM SU): the agent of `node`
 * stops watching it, migrates it, and forgets it without stopping it.
 * Answer: `comp-migrated` (it runs on `to` now) or `comp-migrate-failed`.
 */
export interface CompMigrateCmd {
  readonly kind: 'comp-migrate';
  readonly node: string;
  readonly su: string;
  readonly comp: string;
  readonly to: string;
}

/**
 * Give a CSI to a component in an HA state, or change the HA state of one it already holds.
 * `quiescing` asks the component to finish its work and answer `quiescing-complete`; `quiesced`
 * asks it to stop serving at once. Answer: `csi-set-done` or `csi-set-failed`.
 */
export interface CsiSetCmd {
  readonly kind: 'csi-set';
  readonly node: string;
  readonly su: string;
  readonly comp: string;
  readonly si: string;
  readonly csi: string;
  /** The CS type the component was matched on. */
  readonly csiType: string;
  readonly haState: HaState;
  readonly attributes: readonly { readonly name: string; readonly value: string }[];
}

/** Take a CSI away from a component. Answer: `csi-remove-done` (the engine does not wait for it). */
export interface CsiRemoveCmd {
  readonly kind: 'csi-remove';
  readonly node: string;
  readonly su: string;
  readonly comp: string;
  readonly si: string;
  readonly csi: string;
}

/**
 * Start a configured healthcheck (model `CompConfig.healthchecks`, by key) of an instantiated
 * component. On a miss or a FAILED answer the agent sends `healthcheck-failed`.
 */
export interface HealthcheckStartCmd {
  readonly kind: 'healthcheck-start';
  readonly node: string;
  readonly su: string;
  readonly comp: string;
  readonly key: string;
}

/** Stop a running healthcheck (before terminate / cleanup / restart). No answer. */
export interface HealthcheckStopCmd {
  readonly kind: 'healthcheck-stop';
  readonly node: string;
  readonly su: string;
  readonly comp: string;
  readonly key: string;
}

/**
 * Arm a timer: at time `at` (same clock as `now`), deliver `{ kind: 'timer-expired', id }`.
 * Setting an id that is armed re-arms it. Ids are opaque strings chosen by the engine.
 */
export interface TimerSetCmd {
  readonly kind: 'timer-set';
  readonly id: string;
  readonly at: number;
}

/** Disarm a timer; an expiry already queued is ignored by the engine anyway. */
export interface TimerCancelCmd {
  readonly kind: 'timer-cancel';
  readonly id: string;
}

/**
 * Fence a node (power it off / reboot it through STONITH or the node's own watchdog): issued when
 * a component on it could not be terminated, or on node failfast. Answer: `node-down` once the
 * node is known to be off.
 */
export interface NodeFenceCmd {
  readonly kind: 'node-fence';
  readonly node: string;
  readonly reason: string;
}

export type AmfCommand =
  | CompInstantiateCmd
  | CompTerminateCmd
  | CompCleanupCmd
  | CompMigrateCmd
  | CsiSetCmd
  | CsiRemoveCmd
  | HealthcheckStartCmd
  | HealthcheckStopCmd
  | TimerSetCmd
  | TimerCancelCmd
  | NodeFenceCmd;

// ---------------------------------------------------------------------------------------------
// Inputs (agents / membership / timers / operators → engine)
// ---------------------------------------------------------------------------------------------

/** The component is up (SA-aware: registered; others: instantiate succeeded). */
export interface CompInstantiatedEvent {
  readonly kind: 'comp-instantiated';
  readonly su: string;
  readonly comp: string;
}

/**
 * One instantiation attempt failed (non-zero exit, timeout, or no registration in time). The agent
 * has already run cleanup for the attempt. `noRetry` is true when the instantiate script exited
 * with the "do not retry" code (200, as in OpenSAF).
 */
export interface CompInstantiateFailedEvent {
  readonly kind: 'comp-instantiate-failed';
  readonly su: string;
  readonly comp: string;
  readonly reason: string;
  readonly noRetry?: boolean;
}

/** The component is down after `comp-terminate` / `comp-cleanup`. */
export interface CompTerminatedEvent {
  readonly kind: 'comp-terminated';
  readonly su: string;
  readonly comp: string;
}

/** The component could not be stopped (cleanup failed or timed out): it may still be running. */
export interface CompTerminateFailedEvent {
  readonly kind: 'comp-terminate-failed';
  readonly su: string;
  readonly comp: string;
  readonly reason: string;
}

/** The component now runs on the migration's destination; `uuid` names what to adopt there. */
export interface CompMigratedEvent {
  readonly kind: 'comp-migrated';
  readonly su: string;
  readonly comp: string;
  readonly uuid: string;
}

/**
 * The migration did not happen: the component still runs where it was (`lost` false), or it was
 * lost on the way (gone from the source, not running on the destination): a component error.
 */
export interface CompMigrateFailedEvent {
  readonly kind: 'comp-migrate-failed';
  readonly su: string;
  readonly comp: string;
  readonly reason: string;
  readonly lost?: boolean;
}

/**
 * An error was detected on a component. `recovery` is the recommended recovery
 * ('no-recommendation' → the component's configured `recoveryOnError`).
 */
export interface ErrorReportEvent {
  readonly kind: 'error-report';
  readonly su: string;
  readonly comp: string;
  readonly recovery: Recovery;
  readonly source: ErrorSource;
  readonly reason?: string;
}

/** A healthcheck of the component failed (missed deadline or FAILED answer). */
export interface HealthcheckFailedEvent {
  readonly kind: 'healthcheck-failed';
  readonly su: string;
  readonly comp: string;
  readonly key: string;
  /** The recovery given when the healthcheck was started; default 'no-recommendation'. */
  readonly recovery?: Recovery;
}

/** The component accepted a `csi-set`. */
export interface CsiSetDoneEvent {
  readonly kind: 'csi-set-done';
  readonly su: string;
  readonly comp: string;
  readonly si: string;
  readonly csi: string;
  readonly haState: HaState;
}

/** The component refused a `csi-set` or did not answer in time: handled as a component error. */
export interface CsiSetFailedEvent {
  readonly kind: 'csi-set-failed';
  readonly su: string;
  readonly comp: string;
  readonly si: string;
  readonly csi: string;
  readonly haState: HaState;
  readonly reason: string;
}

/** The component acknowledged a `csi-remove`. */
export interface CsiRemoveDoneEvent {
  readonly kind: 'csi-remove-done';
  readonly su: string;
  readonly comp: string;
  readonly si: string;
  readonly csi: string;
}

/** The component finished quiescing a CSI it was given in HA state `quiescing`. */
export interface QuiescingCompleteEvent {
  readonly kind: 'quiescing-complete';
  readonly su: string;
  readonly comp: string;
  readonly si: string;
  readonly csi: string;
}

/** A timer armed by `timer-set` fired. Unknown or stale ids are ignored. */
export interface TimerExpiredEvent {
  readonly kind: 'timer-expired';
  readonly id: string;
}

/** A node joined (membership alive and its agent ready to take commands). */
export interface NodeUpEvent {
  readonly kind: 'node-up';
  readonly node: string;
}

/**
 * A node is gone (membership declared it dead after its lease expired, or it was fenced). Every
 * component on it is considered uninstantiated; its SUs fail over.
 */
export interface NodeDownEvent {
  readonly kind: 'node-down';
  readonly node: string;
}

export type AdminTarget =
  | { readonly type: 'node'; readonly name: string }
  | { readonly type: 'sg'; readonly name: string }
  | { readonly type: 'su'; readonly name: string }
  | { readonly type: 'si'; readonly name: string }
  | { readonly type: 'comp'; readonly su: string; readonly comp: string };

/**
 * An operator's administrative operation. If it is invalid in the current state, step returns
 * `error` and leaves state unchanged with no commands.
 */
export interface AdminOpEvent {
  readonly kind: 'admin';
  readonly op: AdminOp;
  readonly target: AdminTarget;
  /** `migrate`: the destination node. */
  readonly to?: string;
}

/** The model handed to this step is a new configuration: reconcile the state with it. */
export interface ConfigChangedEvent {
  readonly kind: 'config-changed';
}

export type AmfInput =
  | CompInstantiatedEvent
  | CompInstantiateFailedEvent
  | CompTerminatedEvent
  | CompTerminateFailedEvent
  | CompMigratedEvent
  | CompMigrateFailedEvent
  | ErrorReportEvent
  | HealthcheckFailedEvent
  | CsiSetDoneEvent
  | CsiSetFailedEvent
  | CsiRemoveDoneEvent
  | QuiescingCompleteEvent
  | TimerExpiredEvent
  | NodeUpEvent
  | NodeDownEvent
  | AdminOpEvent
  | ConfigChangedEvent;

// ---------------------------------------------------------------------------------------------
// Notices (engine → observers)
// ---------------------------------------------------------------------------------------------

/** The escalation ladder: L0 component restart … L3 node failover. */
export type EscalationLevel = 0 | 1 | 2 | 3;

/** What the engine decided to do about an error. */
export type RecoveryAction =
  | 'component-restart'
  | 'su-restart'
  | 'component-failover'
  | 'su-failover'
  | 'node-switchover'
  | 'node-failover'
  | 'node-failfast'
  /** Blast radius (blast.ts): the SU is disabled until repaired instead of a stronger action. */
  | 'disable-for-repair';

export type EntityKind = 'node' | 'sg' | 'su' | 'comp' | 'si';

export type AmfNotice =
  /** An attribute of an entity changed (presence, oper, readiness, admin, assignment…). */
  | {
      readonly kind: 'state-change';
      readonly entity: EntityKind;
      /** SU/SG/SI/node name; `su/comp` for components. */
      readonly name: string;
      readonly attr: string;
      readonly from: string;
      readonly to: string;
    }
  /** An SU–SI assignment was created, changed HA state, or removed (`to` null). */
  | {
      readonly kind: 'assignment';
      readonly si: string;
      readonly su: string;
      readonly from: HaState | null;
      readonly to: HaState | null;
    }
  /** Recovery for an error: which action, at which escalation level, and why. */
  | {
      readonly kind: 'recovery';
      readonly su: string;
      readonly comp: string;
      readonly action: RecoveryAction;
      readonly level: EscalationLevel;
      readonly reason: string;
    }
  /** The recovery escalated ("recovery action escalated from X to Y"), or a probation expiry reset it. */
  | {
      readonly kind: 'escalation';
      readonly scope: 'su' | 'node';
      readonly name: string;
      readonly from: EscalationLevel;
      readonly to: EscalationLevel;
      readonly reason: string;
    }
  /** An input that did not fit the current state (stale or unknown) and was ignored. */
  | { readonly kind: 'ignored'; readonly input: string; readonly reason: string };
