import { err, ok, type Result } from '../util/result.js';

export const LEASE_POLICIES = ['stop', 'freeze'] as const;
export type LeasePolicy = (typeof LEASE_POLICIES)[number];

/**
 * Timing and formation knobs of the cluster layer (milliseconds). The lease must outlast a Raft
 * leader election (300–600 ms plus a vote round with the default raft config), or every leader
 * change would stop every service; it bounds node failover from below (lease + margin).
 */
export interface ClusterSettings {
  /** A node's lease, counted from when it SENT the renewal the leader granted. Default 1200. */
  readonly leaseMs: number;
  /** How often a node renews (and resends unacknowledged reports). Default 150. */
  readonly renewIntervalMs: number;
  /**
   * Added by the leader to the lease for clock-rate drift between the node and itself and for
   * scheduling delays. Default 100 (8% of the default lease; quartz drifts 0.01%).
   */
  readonly leaseMarginMs: number;
  /**
   * A node starts stopping its components this long before its lease ends, so that stopping
   * (cleanup scripts, kills) is done by the lease end; the watchdog kills at the lease end. Default 200.
   */
  readonly stopBudgetMs: number;
  /** The leader treats a node it has not heard from for this long as lost. Default = leaseMs. */
  readonly lostAfterMs: number;
  /** What a node does when its lease runs out. Default `stop`. */
  readonly leasePolicy: LeasePolicy;
  /** Servers that bootstrap Raft together. Default 3; 1 gives a single-node (dev) cluster. */
  readonly bootstrapExpect: number;
  /** Voters at most; later nodes are non-voters. Default 5. */
  readonly maxVoters: number;
  /** A voter dead this long is removed (and a non-voter promoted). Default 30 000. */
  readonly deadVoterGraceMs: number;
  /** The set of servers must be unchanged this long before bootstrapping. Default 500. */
  readonly bootstrapSettleMs: number;
  /** Director housekeeping period (loss detection, timers, voters). Default 50. */
  readonly tickMs: number;
  /** Change-log ring capacity. Default 4096. */
  readonly changeLogCapacity: number;
  /** Timeout of one Raft proposal. Default 2000. */
  readonly proposeTimeoutMs: number;
  /** The first configuration waits at most this long for `bootstrapExpect` nodes to be up. Default 10 000. */
  readonly firstConfigWaitMs: number;
  /** Retry period of the first configuration and of the unlock after a graceful restart. Default 500. */
  readonly firstConfigRetryMs: number;
  /** A graceful stop waits at most this long for this node's SUs to give their SIs up. Default 5000. */
  readonly handOverMs: number;
  /** ... and then (within handOverMs) this long for the standbys elsewhere to take them. Default 1000. */
  readonly handOverSettleMs: number;
  /** A leader that stops hands leadership over within this long. Default 2000. */
  readonly leadershipTransferMs: number;
}

export const CLUSTER_DEFAULTS: ClusterSettings = {
  leaseMs: 1200,
  renewIntervalMs: 150,
  leaseMarginMs: 100,
  stopBudgetMs: 200,
  lostAfterMs: 1200,
  leasePolicy: 'stop',
  bootstrapExpect: 3,
  maxVoters: 5,
  deadVoterGraceMs: 30_000,
  bootstrapSettleMs: 500,
  tickMs: 50,
  changeLogCapacity: 4096,
  proposeTimeoutMs: 2000,
  firstConfigWaitMs: 10_000,
  firstConfigRetryMs: 500,
  handOverMs: 5000,
  handOverSettleMs: 1000,
  leadershipTransferMs: 2000,
};

/** Defaults filled in and every field checked; errors name the field. */
export function resolveClusterSettings(partial: Partial<ClusterSettings> = {}): Result<ClusterSettings, string[]> {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const s: ClusterSettings = { ...CLUSTER_DEFAULTS, ...(partial.lostAfterMs === undefined && partial.leaseMs !== undefined ? { lostAfterMs: partial.leaseMs } : {}), ...given };
  const errors: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (k === 'leasePolicy') continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) errors.push(`cluster: ${k} must be a positive number, got ${String(v)}`);
  }
  if (!LEASE_POLICIES.includes(s.leasePolicy)) errors.push(`cluster: leasePolicy must be ${LEASE_POLICIES.map((p) => `'${p}'`).join(' or ')}, got '${String(s.leasePolicy)}'`);
  if (!Number.isInteger(s.bootstrapExpect)) errors.push('cluster: bootstrapExpect must be an integer');
  if (!Number.isInteger(s.maxVoters) || s.maxVoters < s.bootstrapExpect) errors.push(`cluster: maxVoters (${s.maxVoters}) must be an integer >= bootstrapExpect (${s.bootstrapExpect})`);
  if (s.stopBudgetMs + s.renewIntervalMs * 3 > s.leaseMs) errors.push(`cluster: stopBudgetMs (${s.stopBudgetMs}) + 3 renew intervals must fit in leaseMs (${s.leaseMs})`);
  if (s.renewIntervalMs * 3 > s.leaseMs) errors.push(`cluster: renewIntervalMs (${s.renewIntervalMs}) must be at most a third of leaseMs (${s.leaseMs})`);
  return errors.length > 0 ? err(errors) : ok(s);
}
