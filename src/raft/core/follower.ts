/**
 * The follower side of replication (etcd-io/raft's raft.go, follower parts): appends, heartbeats
 * and snapshot chunks from the leader, each answered. Functions over the Raft state machine (raft.ts).
 */
import { assert } from '../../util/assert.js';
import type { Raft } from './raft.js';
import type { AppendEntries, Heartbeat, InstallSnapshot, Snapshot, SnapshotMeta } from './types.js';

/** A snapshot being received chunk by chunk from the leader. */
export interface IncomingSnapshot {
  readonly meta: SnapshotMeta;
  readonly totalSize: number;
  readonly chunks: Uint8Array[];
  received: number;
}

export function handleAppend(r: Raft, m: AppendEntries): void {
  const reply = { type: 'appendEntriesResponse' as const, from: r.id, to: m.from, term: r.term };
  if (m.prevIndex < r.log.committed) {
    r.send({ ...reply, index: r.log.committed, reject: false, rejectHint: 0, hintTerm: 0 });
    return;
  }
  const lastNew = r.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    r.send({ ...reply, index: lastNew, reject: false, rejectHint: 0, hintTerm: 0 });
    return;
  }
  const hint = r.log.findConflictByTerm(Math.min(m.prevIndex, r.log.lastIndex()), m.prevTerm);
  r.send({ ...reply, index: m.prevIndex, reject: true, rejectHint: hint.index, hintTerm: hint.term });
}

export function handleHeartbeat(r: Raft, m: Heartbeat): void {
  if (m.commit > r.log.lastIndex()) {
    r.logger?.warn({ from: m.from, commit: m.commit, lastIndex: r.log.lastIndex() }, 'heartbeat commit beyond my log: clamped');
  }
  r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send({ type: 'heartbeatResponse', from: r.id, to: m.from, term: r.term, context: m.context });
}

export function handleSnapshotChunk(r: Raft, m: InstallSnapshot): void {
  const reply = (received: number): void =>
    r.send({ type: 'installSnapshotResponse', from: r.id, to: m.from, term: r.term, snapshotIndex: m.meta.index, received, reject: false });
  if (m.meta.index <= r.log.committed) {
    // Already have all of it: tell the leader where we are.
    r.incoming = null;
    r.send({ type: 'appendEntriesResponse', from: r.id, to: m.from, term: r.term, index: r.log.committed, reject: false, rejectHint: 0, hintTerm: 0 });
    return;
  }
  let inc = r.incoming;
  const same = inc !== null && inc.meta.index === m.meta.index && inc.meta.term === m.meta.term && inc.totalSize === m.totalSize;
  if (!same) {
    if (m.offset !== 0) {
      reply(0); // restart the transfer from the beginning
      return;
    }
    inc = { meta: m.meta, totalSize: m.totalSize, chunks: [], received: 0 };
    r.incoming = inc;
  }
  assert(inc !== null, 'incoming snapshot');
  if (m.offset !== inc.received) {
    reply(inc.received);
    return;
  }
  inc.chunks.push(m.data);
  inc.received += m.data.length;
  if (!m.done) {
    reply(inc.received);
    return;
  }
  assert(inc.received === inc.totalSize, 'snapshot complete');
  r.incoming = null;
  const data = new Uint8Array(inc.totalSize);
  let off = 0;
  for (const c of inc.chunks) {
    data.set(c, off);
    off += c.length;
  }
  restore(r, { meta: inc.meta, data });
  r.send({ type: 'appendEntriesResponse', from: r.id, to: m.from, term: r.term, index: r.log.lastIndex(), reject: false, rejectHint: 0, hintTerm: 0 });
}

/** Install a snapshot from the leader unless the log already holds its last entry. */
function restore(r: Raft, s: Snapshot): void {
  if (s.meta.index <= r.log.committed) return;
  if (r.log.matchTerm(s.meta.index, s.meta.term)) {
    // Our log already has it: just fast-forward the commit.
    r.log.commitTo(s.meta.index);
    return;
  }
  r.logger?.info({ index: s.meta.index, term: s.meta.term }, 'installing snapshot from leader');
  r.log.restore(s);
  r.conf = s.meta.confState;
}
