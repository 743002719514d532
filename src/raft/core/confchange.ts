import { err, ok, type Result } from '../../util/result.js';
import type { ConfChange, ConfState, Entry, HardState, NodeId } from './types.js';

/** ConfChange entries carry JSON: small, rare, and readable in a log dump. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ type: cc.type, nodeId: cc.nodeId, context: cc.context }));
}

export function decodeConfChange(data: Uint8Array): Result<ConfChange, string> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return err('confChange: data is not JSON');
  }
  if (typeof v !== 'object' || v === null) return err('confChange: not an object');
  const o = v as Record<string, unknown>;
  if (o.type !== 'addVoter' && o.type !== 'addLearner' && o.type !== 'removeNode') {
    return err(`confChange: bad type ${JSON.stringify(o.type)}`);
  }
  if (typeof o.nodeId !== 'string' || o.nodeId === '') return err('confChange: nodeId must be a non-empty string');
  if (typeof o.context !== 'string') return err('confChange: context must be a string');
  return ok({ type: o.type, nodeId: o.nodeId, context: o.context });
}

/**
 * The membership after applying cc to cs, or an error when the change is not allowed (it would
 * leave no voter, or it changes nothing). One server changes per step, so any two consecutive
 * voter sets share a majority.
 */
export function applyConfChange(cs: ConfState, cc: ConfChange): Result<ConfState, string> {
  const voters = cs.voters.filter((v) => v !== cc.nodeId);
  const learners = cs.learners.filter((v) => v !== cc.nodeId);
  switch (cc.type) {
    case 'addVoter':
      if (cs.voters.includes(cc.nodeId)) return err(`${cc.nodeId} is already a voter`);
      voters.push(cc.nodeId);
      break;
    case 'addLearner':
      if (cs.learners.includes(cc.nodeId)) return err(`${cc.nodeId} is already a learner`);
      learners.push(cc.nodeId);
      break;
    case 'removeNode':
      if (!cs.voters.includes(cc.nodeId) && !cs.learners.includes(cc.nodeId)) return err(`${cc.nodeId} is not a member`);
      break;
  }
  if (voters.length === 0) return err('the change would leave no voter');
  return ok({ voters: sortIds(voters), learners: sortIds(learners) });
}

export function sortIds(ids: readonly NodeId[]): NodeId[] {
  return [...ids].sort();
}

export function isMember(cs: ConfState, id: NodeId): boolean {
  return cs.voters.includes(id) || cs.learners.includes(id);
}

/**
 * The initial log of a brand-new cluster (hashicorp's BootstrapCluster, etcd's Bootstrap): one
 * addVoter entry per server at term 1, all committed. Every bootstrapping server writes the same;
 * servers that join later start empty and receive these entries from the leader.
 */
export function bootstrapLog(voters: readonly NodeId[]): { entries: Entry[]; hardState: HardState } {
  const entries = sortIds(voters).map((nodeId, i) => ({
    index: i + 1,
    term: 1,
    type: 'confChange' as const,
    data: encodeConfChange({ type: 'addVoter', nodeId, context: '' }),
  }));
  return { entries, hardState: { term: 1, vote: '', commit: entries.length } };
}
