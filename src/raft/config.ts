import { err, ok, type Result } from '../util/result.js';
import { CONFIG_DEFAULTS } from './core/config.js';

/**
 * Driver configuration, tuned for a LAN HA cluster (sub-millisecond RTT, SSD fsync): a dead leader
 * is replaced well under a second, while a follower tolerates a leader that goes quiet for up to
 * 300 ms (a GC pause, a stalled fsync, a scheduling hiccup) without starting an election.
 * Compare hashicorp/raft (HeartbeatTimeout 1 s, LeaderLease 500 ms, raft_multiplier 1) and etcd
 * (heartbeat 100 ms, election 1 s), both sized for WAN-ish latency; the Raft paper suggests
 * 150–300 ms election timeouts on a LAN.
 */
export interface RaftConfig {
  /**
   * Length of one core tick in ms; every timer below is a whole number of ticks. Default 25 ms:
   * fine enough that timeouts are not rounded much, coarse enough to cost nothing at idle.
   */
  readonly tickMs: number;
  /** Ticks between leader heartbeats. Default 2 (50 ms): a follower hears the leader 6+ times per election timeout. */
  readonly heartbeatTicks: number;
  /**
   * Ticks without hearing a leader before a follower campaigns, randomised in [e, 2e). Default 12
   * (300–600 ms). With pre-vote and check-quorum this is also the leader lease: a leader that hears
   * no quorum for this long steps down. Expected failover ≈ 450 ms + one vote round.
   */
  readonly electionTicks: number;
  /** AppendEntries in flight per follower (pipelining window). Default 64. */
  readonly maxInflight: number;
  /** Max bytes of entries per AppendEntries. Default 1 MiB. */
  readonly maxSizePerMsg: number;
  /** InstallSnapshot chunk size. Default 256 KiB (like hashicorp's TimeoutScale unit). */
  readonly snapshotChunkSize: number;
  /** Pre-vote (thesis §9.6): a rejoining node cannot depose a healthy leader. Default true. */
  readonly preVote: boolean;
  /** Check-quorum / leader lease: a leader cut off from a quorum steps down. Default true. */
  readonly checkQuorum: boolean;
  /** Take a snapshot once this many entries were applied since the last one. Default 8192 (hashicorp). */
  readonly snapshotThreshold: number;
  /** Entries kept behind a snapshot so lagging followers catch up from the log. Default 10240 (hashicorp). */
  readonly trailingLogs: number;
  /** Connect timeout to a peer. Default 200 ms: far above a LAN RTT, below the election timeout. */
  readonly connectTimeoutMs: number;
  /** First reconnect delay to an unreachable peer, doubling per failure. Default 20 ms. */
  readonly minBackoffMs: number;
  /** Cap on the reconnect delay. Default 250 ms, under the election timeout so a healed peer is heard within one (raft#494). */
  readonly maxBackoffMs: number;
  /** Messages held per unreachable or backed-up peer before the oldest are dropped. Default 1024. */
  readonly maxQueuedPerPeer: number;
}

/** The ticks are the driver's own (timed in ms above); the protocol settings are the core's. */
export const RAFT_DEFAULTS: RaftConfig = {
  tickMs: 25,
  heartbeatTicks: 2,
  electionTicks: 12,
  maxInflight: CONFIG_DEFAULTS.maxInflight,
  maxSizePerMsg: CONFIG_DEFAULTS.maxSizePerMsg,
  snapshotChunkSize: CONFIG_DEFAULTS.snapshotChunkSize,
  preVote: CONFIG_DEFAULTS.preVote,
  checkQuorum: CONFIG_DEFAULTS.checkQuorum,
  snapshotThreshold: 8192,
  trailingLogs: CONFIG_DEFAULTS.trailingLogs,
  connectTimeoutMs: 200,
  minBackoffMs: 20,
  maxBackoffMs: 250,
  maxQueuedPerPeer: 1024,
};

/** The shortest election timeout (ms): a follower waits at least this long before it campaigns. */
export function electionTimeoutMs(c: Pick<RaftConfig, 'tickMs' | 'electionTicks'> = RAFT_DEFAULTS): number {
  return c.tickMs * c.electionTicks;
}

/** Defaults filled in and ranges checked; a bad value is reported naming the field. */
export function resolveRaftConfig(partial: Partial<RaftConfig> = {}): Result<RaftConfig, string> {
  const c: RaftConfig = { ...RAFT_DEFAULTS, ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) };
  for (const [k, v] of Object.entries(c)) {
    if (typeof v === 'boolean') continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return err(`raft config: ${k} must be a non-negative number, got ${String(v)}`);
  }
  if (c.tickMs <= 0) return err('raft config: tickMs must be > 0');
  if (c.heartbeatTicks < 1 || c.heartbeatTicks >= c.electionTicks) return err(`raft config: heartbeatTicks (${c.heartbeatTicks}) must be in [1, electionTicks)`);
  if (c.snapshotThreshold < 1) return err('raft config: snapshotThreshold must be >= 1');
  if (c.minBackoffMs <= 0 || c.maxBackoffMs < c.minBackoffMs) return err('raft config: need 0 < minBackoffMs <= maxBackoffMs');
  return ok(c);
}
