import type { Random } from '../../runtime/ports/random.js';
import { err, ok, type Result } from '../../util/result.js';
import type { CoreLogger, NodeId } from './types.js';

/**
 * Configuration of one Raft core. Time is counted in ticks: the driver calls tick() at a fixed
 * interval (e.g. every 50 ms), so electionTicks = 10 means an election timeout of 500–1000 ms.
 */
export interface Config {
  /** This node's id. Required. */
  readonly id: NodeId;
  /**
   * Ticks without hearing a leader before a follower campaigns. The actual timeout is random in
   * [electionTicks, 2*electionTicks) and re-drawn after every reset. Default 10.
   */
  readonly electionTicks?: number;
  /** Ticks between leader heartbeats; must be < electionTicks. Default 1. */
  readonly heartbeatTicks?: number;
  /** Max AppendEntries in flight per follower in replicate state (pipelining window). Default 64. */
  readonly maxInflight?: number;
  /** Max bytes of entry data per AppendEntries (always at least one entry). Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Max entries per AppendEntries (bounds storage reads per message). Default 512. */
  readonly maxEntriesPerMsg?: number;
  /** Max committed entries handed out per Ready (bounds memory when a restart replays a backlog). Default 4096. */
  readonly maxCommittedPerReady?: number;
  /** Max bytes of snapshot data per InstallSnapshot chunk. Default 256 KiB. */
  readonly snapshotChunkSize?: number;
  /**
   * Pre-vote (thesis §9.6): a node first asks whether it could win before bumping its term, so a
   * node rejoining from a partition cannot disrupt a healthy leader. Default true.
   */
  readonly preVote?: boolean;
  /**
   * Check-quorum: a leader steps down when it has not heard from a quorum of voters within an
   * election timeout, and voters ignore vote requests while they heard from a leader within the
   * election timeout (leader lease). Default true.
   */
  readonly checkQuorum?: boolean;
  /** Entries kept behind a snapshot by compact() so slow followers avoid a snapshot. Default 10240. */
  readonly trailingLogs?: number;
  /** Index already applied to the FSM at start-up (defaults to the storage snapshot's index). */
  readonly applied?: number;
  /** Source of election-timeout jitter. Required (seeded in tests and the simulator). */
  readonly random: Random;
  /** Optional logger (a pino child logger fits). */
  readonly logger?: CoreLogger;
}

export type ResolvedConfig = Required<Omit<Config, 'applied' | 'logger'>> & Pick<Config, 'applied' | 'logger'>;

export const CONFIG_DEFAULTS = {
  electionTicks: 10,
  heartbeatTicks: 1,
  maxInflight: 64,
  maxSizePerMsg: 1024 * 1024,
  maxEntriesPerMsg: 512,
  maxCommittedPerReady: 4096,
  snapshotChunkSize: 256 * 1024,
  preVote: true,
  checkQuorum: true,
  trailingLogs: 10240,
} as const;

function positiveInt(v: number): boolean {
  return Number.isSafeInteger(v) && v > 0;
}

/** Fill defaults and check ranges; a bad config is a caller error reported as a value. */
export function resolveConfig(c: Config): Result<ResolvedConfig, string> {
  const r: ResolvedConfig = { ...CONFIG_DEFAULTS, ...stripUndefined(c) } as ResolvedConfig;
  if (typeof r.id !== 'string' || r.id === '') return err('raft config: id must be a non-empty string');
  for (const k of ['electionTicks', 'heartbeatTicks', 'maxInflight', 'maxSizePerMsg', 'maxEntriesPerMsg', 'maxCommittedPerReady', 'snapshotChunkSize'] as const) {
    if (!positiveInt(r[k])) return err(`raft config: ${k} must be a positive integer, got ${String(r[k])}`);
  }
  if (!Number.isSafeInteger(r.trailingLogs) || r.trailingLogs < 0) {
    return err(`raft config: trailingLogs must be a non-negative integer, got ${String(r.trailingLogs)}`);
  }
  if (r.heartbeatTicks >= r.electionTicks) {
    return err(`raft config: heartbeatTicks (${r.heartbeatTicks}) must be < electionTicks (${r.electionTicks})`);
  }
  if (r.applied !== undefined && (!Number.isSafeInteger(r.applied) || r.applied < 0)) {
    return err('raft config: applied must be a non-negative integer');
  }
  return ok(r);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
