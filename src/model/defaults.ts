/**
 * Default values, one home for the model builder, the printer (which leaves defaults out) and the
 * documentation. Times in milliseconds.
 */
export const DEFAULTS = {
  clusterName: 'amf',
  // openais always ran N+M, whatever `model` said.
  redundancyModel: 'nplusm',
  // openais README.amf: "component_restart_probation=100000 … component_restart_max=4 …
  // unit_restart_probation=200000 … unit_restart_max=6" (openais itself defaulted them to 0).
  componentRestartProbationMs: 100_000,
  componentRestartMax: 4,
  unitRestartProbationMs: 200_000,
  unitRestartMax: 6,
  // Node-level escalation: two SU failovers from one node within 5 minutes fail the node over.
  nodeFailoverProbationMs: 300_000,
  nodeFailoverMax: 2,
  // Raft seats only for the nodes a configuration names (or an operator admits): issue 25.
  allowJoins: false,
  // CLC-CLI commands: Pacemaker-like operation timeouts; OpenSAF's 2 retries without delay.
  instantiateTimeoutMs: 30_000,
  terminateTimeoutMs: 30_000,
  cleanupTimeoutMs: 30_000,
  // OpenSAF's saAmfCompQuiescingCompleteTimeout defaults to the callback timeout (10 s).
  quiescingCompleteTimeoutMs: 10_000,
  instantiateRetries: 2,
  instantiateRetryDelayMs: 1_000,
  recoveryOnError: 'component-restart',
  disableRestart: false,
  suFailover: true,
  rank: 0,
  adminState: 'unlocked',
  healthcheckPeriodMs: 10_000,
  healthcheckMaximumDurationMs: 5_000,
} as const;
