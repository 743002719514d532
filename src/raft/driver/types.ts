import type { NodeId, Role } from '../core/types.js';

export interface Server {
  readonly id: NodeId;
  readonly address: string;
  /** Voters count towards quorums; non-voters only receive the log. Default voter. */
  readonly suffrage?: 'voter' | 'nonvoter';
}

export interface LeaderInfo {
  readonly id: NodeId;
  /** '' when this node does not know the leader's address. */
  readonly address: string;
}

/**
 * Why a request did not succeed. `timeout` and `leadershipLost` mean the outcome is UNKNOWN: the
 * command may still be committed (by this or a later leader), so clients must treat them as
 * indeterminate. The others mean the command surely had no effect.
 */
export type RaftError =
  | { readonly kind: 'notLeader'; readonly leader: LeaderInfo | undefined }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'leadershipLost' }
  | { readonly kind: 'shutdown' };

export type Observation =
  | { readonly type: 'leader'; readonly leader: LeaderInfo | undefined; readonly term: number }
  | { readonly type: 'state'; readonly state: Role }
  | { readonly type: 'peer'; readonly id: NodeId; readonly address: string; readonly change: 'voter' | 'nonvoter' | 'removed' }
  | { readonly type: 'heartbeatFailed'; readonly id: NodeId }
  | { readonly type: 'heartbeatResumed'; readonly id: NodeId };

export type Observer = (o: Observation) => void;
