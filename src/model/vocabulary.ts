/**
 * The AMF's words, defined once: each is an as-const list of its values, a zod enum for the edges
 * that validate it (wire frames, HTTP bodies, log entries) and the type of its values, all under
 * one name (`HaState` is both the zod enum and the type). The engine, the agent, the component
 * client, the cluster and the API import them from here, so none can drift from the others.
 * Names and values follow the specification (SA Forum AIS AMF B.01.01) in lower kebab case.
 */
import { z } from 'zod';

/** HA state of an SU–SI or component–CSI assignment (SaAmfHAStateT). */
export const HA_STATES = ['active', 'standby', 'quiescing', 'quiesced'] as const;
export const HaState = z.enum(HA_STATES);
export type HaState = z.infer<typeof HaState>;

/** Component / SU presence state (SaAmfPresenceStateT). */
export const PRESENCE_STATES = ['uninstantiated', 'instantiating', 'instantiated', 'terminating', 'restarting', 'instantiation-failed', 'termination-failed'] as const;
export const PresenceState = z.enum(PRESENCE_STATES);
export type PresenceState = z.infer<typeof PresenceState>;
/** The presence states that need an operator (repair) or a fence: the component is stuck. */
export const FAILED_PRESENCE_STATES = ['instantiation-failed', 'termination-failed'] as const satisfies readonly PresenceState[];

/** Operational state (SaAmfOperationalStateT). */
export const OPER_STATES = ['enabled', 'disabled'] as const;
export const OperState = z.enum(OPER_STATES);
export type OperState = z.infer<typeof OperState>;

/** SU readiness state (SaAmfReadinessStateT). */
export const READINESS_STATES = ['out-of-service', 'in-service', 'stopping'] as const;
export const ReadinessState = z.enum(READINESS_STATES);
export type ReadinessState = z.infer<typeof ReadinessState>;

/** Administrative state (SaAmfAdminStateT). */
export const ADMIN_STATES = ['unlocked', 'locked', 'locked-instantiation', 'shutting-down'] as const;
export const AdminState = z.enum(ADMIN_STATES);
export type AdminState = z.infer<typeof AdminState>;
/** Admin states a config may ask for (shutting-down is only reached by an admin operation). */
export const CONFIG_ADMIN_STATES = ['unlocked', 'locked', 'locked-instantiation'] as const satisfies readonly AdminState[];

/** SI assignment state (SaAmfAssignmentStateT). */
export const SI_ASSIGNMENT_STATES = ['unassigned', 'partially-assigned', 'fully-assigned'] as const;
export const SiAssignmentState = z.enum(SI_ASSIGNMENT_STATES);
export type SiAssignmentState = z.infer<typeof SiAssignmentState>;

/** The specification's recommended recoveries (SaAmfRecommendedRecoveryT). */
export const RECOVERIES = [
  'no-recommendation',
  'component-restart',
  'component-failover',
  'node-switchover',
  'node-failover',
  'node-failfast',
  'cluster-reset',
  'application-restart',
] as const;
export const Recovery = z.enum(RECOVERIES);
export type Recovery = z.infer<typeof Recovery>;

/** Where an error was detected (mirrors OpenSAF's error sources). */
export const ERROR_SOURCES = [
  /** saAmfComponentErrorReport from the component or `amfctl report-error`. */
  'error-report',
  /** A healthcheck missed its deadline or answered FAILED. */
  'healthcheck',
  /** The passively monitored process (pidfile / supervised command) died. */
  'process-died',
  /** A callback (CSI set/remove, terminate) timed out or failed. */
  'callback',
] as const;
export const ErrorSource = z.enum(ERROR_SOURCES);
export type ErrorSource = z.infer<typeof ErrorSource>;

/** Administrative operations (SaAmfAdminOperationIdT, plus amfd's node switchover and the live migration of a VM SU). */
export const ADMIN_OPS = ['lock', 'unlock', 'lock-instantiation', 'unlock-instantiation', 'shutdown', 'restart', 'si-swap', 'repair', 'switchover', 'migrate'] as const;
export const AdminOp = z.enum(ADMIN_OPS);
export type AdminOp = z.infer<typeof AdminOp>;

/** The entities an operator addresses by name (components are addressed as `su/comp`). */
export const ADMIN_KINDS = ['node', 'sg', 'su', 'si'] as const;
export const AdminKind = z.enum(ADMIN_KINDS);
export type AdminKind = z.infer<typeof AdminKind>;

export const REDUNDANCY_MODELS = ['2n', 'nplusm', 'nway', 'nwayactive', 'noredundancy'] as const;
export type RedundancyModel = (typeof REDUNDANCY_MODELS)[number];

/** openais comptype values, matched as whole words. */
export const COMP_CATEGORIES = ['sa_aware', 'proxied_pre', 'proxied_non_pre', 'non_proxied_non_sa_aware'] as const;
export type CompCategory = (typeof COMP_CATEGORIES)[number];

export const HEALTHCHECK_INVOCATIONS = ['amf', 'component', 'command'] as const;
export type HealthcheckInvocation = (typeof HEALTHCHECK_INVOCATIONS)[number];

/**
 * Why an SU is operationally disabled. `failover` is repaired automatically once the SU is down;
 * `component-fault` (the fault followed its component type across nodes) and
 * `node-failover-withheld` (its node was the last that could host its SG) wait for a repair.
 */
export const DISABLED_CAUSES = ['failover', 'instantiation-failed', 'termination-failed', 'component-fault', 'node-failover-withheld'] as const;
export type DisabledCause = (typeof DISABLED_CAUSES)[number];

/**
 * The heartbeat state of a guest (src/heartbeat, docs/guest-heartbeat.md): replicated per component
 * with a guest_heartbeat block, shown by the API, the event stream and amfctl status.
 */
export const GUEST_HEARTBEAT_STATES = ['disabled', 'enabling', 'enabled', 'missed', 'lost', 'unhealthy'] as const;
export const GuestHeartbeatState = z.enum(GUEST_HEARTBEAT_STATES);
export type GuestHeartbeatState = z.infer<typeof GuestHeartbeatState>;
