/**
 * The leader side of replication (etcd-io/raft's raft.go, leader parts): appends and snapshots to
 * each follower as its Progress allows, the answers that move Progress and the commit index, the
 * heartbeats that carry ReadIndex confirmations. Functions over the Raft state machine (raft.ts).
 */
import { assert } from '../../util/assert.js';
import type { Progress } from './progress.js';
import type { Raft } from './raft.js';
import type { NodeId } from './types.js';

export function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

export function handleAppendResponse(r: Raft, from: NodeId, index: number, reject: boolean, rejectHint: number, hintTerm: number): void {
  const pr = r.progress.get(from);
  if (pr === undefined) return;
  pr.recentActive = true;
  if (reject) {
    let probe = rejectHint;
    if (hintTerm > 0) probe = r.log.findConflictByTerm(rejectHint, hintTerm).index;
    if (pr.maybeDecrTo(index, probe)) {
      if (pr.state === 'replicate') pr.becomeProbe();
      sendAppend(r, from);
    }
    return;
  }
  const wasPaused = pr.isPaused();
  const updated = pr.maybeUpdate(index);
  // The peer holds the snapshot we were sending (maybe it was answered before): the transfer is over.
  const snapshotDone = pr.state === 'snapshot' && pr.match >= (pr.snapshot?.meta.index ?? 0);
  if (!updated && !snapshotDone) return;
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (snapshotDone) {
    pr.becomeProbe();
    // The log may have been compacted past it meanwhile; then the next append sends a newer snapshot.
    if (pr.match + 1 >= r.log.firstIndex()) pr.becomeReplicate();
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(index);
  }
  if (maybeCommit(r)) {
    bcastAppend(r);
  } else if (wasPaused) {
    sendAppend(r, from);
  }
  // Keep the pipeline full.
  while (sendAppend(r, from, false)) {
    /* sent one more */
  }
  if (from === r.leadTransferee && pr.match === r.log.lastIndex()) {
    r.logger?.info({ to: from }, 'leadership transfer: target caught up, sending TimeoutNow');
    sendTimeoutNow(r, from);
  }
}

export function handleHeartbeatResponse(r: Raft, from: NodeId, context: string): void {
  const pr = r.progress.get(from);
  if (pr === undefined) return;
  pr.recentActive = true;
  pr.probeSent = false;
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirst();
  if (pr.state === 'snapshot') {
    // A chunk (or its answer) may have been lost: resend from what the peer confirmed.
    pr.snapshotChunkOut = false;
    sendSnapshotChunk(r, pr);
  } else if (pr.match < r.log.lastIndex()) {
    sendAppend(r, from);
  }
  if (context !== '' && !pr.isLearner) {
    for (const read of r.readOnly.ack(context, from, r.conf.voters, quorum(r.conf.voters.length))) {
      r.respondRead(read.from, read.context, read.index);
    }
  }
}

export function handleSnapshotResponse(r: Raft, from: NodeId, snapshotIndex: number, received: number, reject: boolean): void {
  const pr = r.progress.get(from);
  if (pr === undefined) return;
  pr.recentActive = true;
  if (pr.state !== 'snapshot' || pr.snapshot === null || pr.snapshot.meta.index !== snapshotIndex) return;
  if (reject) {
    pr.becomeProbe();
    return;
  }
  pr.snapshotOffset = Math.min(received, pr.snapshot.data.length);
  pr.snapshotChunkOut = false;
  if (pr.snapshotOffset < pr.snapshot.data.length) sendSnapshotChunk(r, pr);
}

/** Send the next AppendEntries (or snapshot) to `to`. Returns whether something was sent. */
export function sendAppend(r: Raft, to: NodeId, sendIfEmpty = true): boolean {
  const pr = r.progress.get(to);
  if (pr === undefined || to === r.id || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined || pr.next < r.log.firstIndex()) return sendSnapshot(r, pr);
  const last = r.log.lastIndex();
  const hi = Math.min(last + 1, pr.next + r.cfg.maxEntriesPerMsg);
  const entries = pr.next <= last ? r.log.entries(pr.next, hi, r.cfg.maxSizePerMsg) : [];
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({ type: 'appendEntries', from: r.id, to, term: r.term, prevIndex, prevTerm, entries, commit: r.log.committed });
  pr.sentEntries(prevIndex + entries.length, entries.length);
  return true;
}

function sendSnapshot(r: Raft, pr: Progress): boolean {
  if (!pr.recentActive) return false; // do not ship a snapshot to a peer that may be down
  const snap = r.log.storage.snapshot();
  if (snap.meta.index === 0) {
    r.logger?.warn({ to: pr.id, next: pr.next }, 'peer needs compacted entries but storage has no snapshot');
    return false;
  }
  r.logger?.info({ to: pr.id, index: snap.meta.index, size: snap.data.length }, 'sending snapshot');
  pr.becomeSnapshot(snap);
  sendSnapshotChunk(r, pr);
  return true;
}

function sendSnapshotChunk(r: Raft, pr: Progress): void {
  const s = pr.snapshot;
  assert(pr.state === 'snapshot' && s !== null, 'snapshot chunk outside snapshot state');
  if (pr.snapshotChunkOut) return;
  const offset = pr.snapshotOffset;
  const end = Math.min(offset + r.cfg.snapshotChunkSize, s.data.length);
  r.send({
    type: 'installSnapshot',
    from: r.id,
    to: pr.id,
    term: r.term,
    meta: s.meta,
    offset,
    data: s.data.subarray(offset, end),
    totalSize: s.data.length,
    done: end === s.data.length,
  });
  pr.snapshotChunkOut = true;
}

export function bcastAppend(r: Raft): void {
  for (const id of r.progress.keys()) sendAppend(r, id);
}

export function bcastHeartbeat(r: Raft, context: string): void {
  for (const pr of r.progress.values()) {
    if (pr.id === r.id) continue;
    const commit = Math.min(pr.match, r.log.committed);
    r.send({ type: 'heartbeat', from: r.id, to: pr.id, term: r.term, commit, context });
  }
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ type: 'timeoutNow', from: r.id, to, term: r.term });
}

/** Commit the highest index a quorum of voters has, if it is from this term. */
export function maybeCommit(r: Raft): boolean {
  const matches: number[] = [];
  for (const v of r.conf.voters) matches.push(r.progress.get(v)?.match ?? 0);
  matches.sort((a, b) => b - a);
  const idx = matches[quorum(matches.length) - 1] ?? 0;
  const wasInTerm = r.committedInTerm();
  if (!r.log.maybeCommit(idx, r.term)) return false;
  if (!wasInTerm) {
    // Reads that waited for this term's first commit can proceed now.
    for (const read of r.readOnly.takeWaiting()) r.handleReadIndex(read.from, read.context);
  }
  return true;
}
