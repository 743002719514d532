/**
 * The data contract of the pure Raft core (etcd-io/raft shaped). Everything here is plain data:
 * messages are encoded by the transport with msgpackr and checked on decode by validateMessage
 * (validate.ts), so a hostile frame is rejected in one place.
 *
 * Numbers: terms and indexes are non-negative safe integers. Index 0 / term 0 mean "nothing".
 * Node ids are non-empty strings (hashicorp ServerID style).
 */

export type NodeId = string;

export type EntryType = 'normal' | 'confChange' | 'noop';

/** One log entry. `confChange` entries carry an encoded ConfChange (see confchange.ts). */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before any message of the same Ready is sent. */
export interface HardState {
  readonly term: number;
  /** Who this node voted for in `term`; '' when it has not voted. */
  readonly vote: NodeId;
  readonly commit: number;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state, reported when it changes; never persisted. */
export interface SoftState {
  /** The known leader of the current term, '' when unknown. */
  readonly leader: NodeId;
  readonly role: Role;
}

/** Cluster membership: voters count for quorums, learners (non-voters) only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** One server change at a time (no joint consensus). */
export type ConfChangeType =
  /** Add a voter, or promote a learner to voter. */
  | 'addVoter'
  /** Add a learner, or demote a voter to learner. */
  | 'addLearner'
  /** Remove a voter or learner. */
  | 'removeNode';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /** Opaque application data carried along (e.g. the server's address). */
  readonly context: string;
}

export interface SnapshotMeta {
  /** Last log index the snapshot covers. */
  readonly index: number;
  /** Term of the entry at `index`. */
  readonly term: number;
  /** Membership as of `index`. */
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** A ReadIndex result: reads issued with `context` are linearizable once `applied >= index`. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

// ---------------------------------------------------------------------------------------------
// Messages. Every message carries from, to and the sender's term.

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

export interface AppendEntries extends MessageBase {
  readonly type: 'appendEntries';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

export interface AppendEntriesResponse extends MessageBase {
  readonly type: 'appendEntriesResponse';
  /**
   * Accepted: the last index now known to match the leader's log.
   * Rejected: the prevIndex of the rejected AppendEntries.
   */
  readonly index: number;
  readonly reject: boolean;
  /** On reject: the follower's hint for where the logs may match (fast backtracking). */
  readonly rejectHint: number;
  /** On reject: the follower's term at rejectHint (0 if unknown). */
  readonly hintTerm: number;
}

export interface Heartbeat extends MessageBase {
  readonly type: 'heartbeat';
  /** min(leader commit, follower match) so a follower never commits past what it has. */
  readonly commit: number;
  /** ReadIndex round this heartbeat belongs to ('' for none). */
  readonly context: string;
}

export interface HeartbeatResponse extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly context: string;
}

export interface RequestVote extends MessageBase {
  readonly type: 'requestVote' | 'requestPreVote';
  /** For pre-vote, `term` is the term the sender would campaign in (its term + 1). */
  readonly lastLogIndex: number;
  readonly lastLogTerm: number;
  /** Leadership transfer: grant even while a leader is known (lease override). */
  readonly transfer: boolean;
}

export interface RequestVoteResponse extends MessageBase {
  readonly type: 'requestVoteResponse' | 'requestPreVoteResponse';
  readonly reject: boolean;
  /**
   * On reject: the voter's commit index and the term of that entry. A candidate whose log holds
   * that entry may advance its own commit: this unwedges a voter that never learned that the change
   * removing the (more up-to-date) voter committed.
   */
  readonly commit?: number;
  readonly commitTerm?: number;
}

export interface InstallSnapshot extends MessageBase {
  readonly type: 'installSnapshot';
  readonly meta: SnapshotMeta;
  /** Byte offset of this chunk in the snapshot data. */
  readonly offset: number;
  readonly data: Uint8Array;
  /** Total length of the snapshot data. */
  readonly totalSize: number;
  readonly done: boolean;
}

export interface InstallSnapshotResponse extends MessageBase {
  readonly type: 'installSnapshotResponse';
  /** Index of the snapshot this answers. */
  readonly snapshotIndex: number;
  /** Bytes received contiguously so far (the leader sends the next chunk from here). */
  readonly received: number;
  /** True when the receiver cannot continue this transfer (the leader restarts or probes). */
  readonly reject: boolean;
}

export interface TimeoutNow extends MessageBase {
  readonly type: 'timeoutNow';
}

/** A follower forwards a ReadIndex request to its leader. */
export interface ReadIndexRequest extends MessageBase {
  readonly type: 'readIndex';
  readonly context: string;
}

export interface ReadIndexResponse extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly context: string;
  /** The read index, or 0 when the leader refused (not leader / not yet ready). */
  readonly index: number;
}

export type Message =
  | AppendEntries
  | AppendEntriesResponse
  | Heartbeat
  | HeartbeatResponse
  | RequestVote
  | RequestVoteResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow
  | ReadIndexRequest
  | ReadIndexResponse;

export type MessageType = Message['type'];

export const MESSAGE_TYPES: readonly MessageType[] = [
  'appendEntries',
  'appendEntriesResponse',
  'heartbeat',
  'heartbeatResponse',
  'requestVote',
  'requestPreVote',
  'requestVoteResponse',
  'requestPreVoteResponse',
  'installSnapshot',
  'installSnapshotResponse',
  'timeoutNow',
  'readIndex',
  'readIndexResponse',
];

// ---------------------------------------------------------------------------------------------

/**
 * The output of the core since the last advance(). The driver must handle a Ready in this order:
 *
 *  1. If `snapshot` is set: install it durably (snapshot store, then discard the whole log and
 *     restore the FSM from it).
 *  2. Append `entries` to the durable log. An entry with index i replaces any stored entry with
 *     index >= i (truncate the conflicting suffix first).
 *  3. Persist `hardState` if set.
 *  4. Only now, with 1–3 durable (fsync'd, when `mustSync`), send `messages`. This is the
 *     persist-before-send rule: a vote or an append acknowledgement must never leave the node
 *     before the state it promises is on disk.
 *     One permitted exception (thesis §10.2.1, as etcd): a leader whose Ready changes neither term
 *     nor vote and carries no snapshot may send its messages while it writes its entries. This is
 *     safe because the leader counts its own copy towards commit only at advance(), once durable:
 *     no commit index that leaves the node ever rests on an entry a crash could still lose (this
 *     matters most for a single voter, which commits on its own copy alone).
 *     Inputs (step, tick, propose) may be fed while a Ready is being handled; they show up in the
 *     next Ready.
 *  5. Apply `committedEntries` to the FSM in order (they are durable already).
 *  6. Hand `readStates` to waiting readers (serve each once applied >= its index).
 *  7. Call advance(ready) with this same object.
 *
 * ready() must not be called again before advance() (asserted): one Ready is outstanding at a time.
 */
export interface Ready {
  /** Set when leader or role changed since the previous Ready. */
  readonly softState: SoftState | null;
  /** Set when term, vote or commit changed since the previous Ready. */
  readonly hardState: HardState | null;
  /** Entries to append to durable storage (may overwrite a suffix). */
  readonly entries: readonly Entry[];
  /** A snapshot received from the leader to install, or null. */
  readonly snapshot: Snapshot | null;
  /** Committed entries to apply, in order, with no gaps. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send once 1–3 are durable. */
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** False only when nothing of `entries`, term or vote changed (a commit-only change may be lazily synced). */
  readonly mustSync: boolean;
}

/**
 * What the core reads from the driver's durable log (etcd's Storage). All reads are synchronous:
 * the driver keeps the log in memory or in a store with synchronous reads (lmdb).
 *
 * Indexes: the storage holds entries firstIndex()..lastIndex() and the latest snapshot (index 0 =
 * none). After compact() the log keeps trailing entries behind the snapshot, so
 * firstIndex() - 1 <= snapshot index. The storage must remember the term of entry firstIndex()-1
 * (etcd's dummy entry): after installing a snapshot that is the snapshot's term. An empty log has
 * firstIndex() = 1, lastIndex() = 0, term(0) = 0.
 */
export interface RaftLogStorage {
  /**
   * Hard state saved on disk, read once at start-up. Membership is not stored separately: the core
   * takes it from snapshot().meta.confState and replays the confChange entries up to `applied`.
   */
  initialState(): { hardState: HardState };
  /** Entries [lo, hi), lo >= firstIndex(), hi <= lastIndex() + 1. The core never asks outside that. */
  entries(lo: number, hi: number): Entry[];
  /** Term of entry i for firstIndex()-1 <= i <= lastIndex() (i = firstIndex()-1 is the snapshot's term). */
  term(i: number): number;
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (meta index 0 and empty data when there is none). */
  snapshot(): Snapshot;
}

/** Minimal logging surface the core uses (a pino Logger satisfies it). */
export interface CoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** Reasons a proposal is refused. */
export type ProposeError =
  | 'notLeader'
  | 'transferInProgress'
  | 'confChangePending'
  | 'invalidConfChange'
  | 'removedFromCluster'
  /** transferLeadership to a node that is not a voter. */
  | 'invalidTarget';

/** Where a proposal landed in the leader's log. */
export interface Proposed {
  readonly term: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
}

/** Replication progress of one peer, as the leader sees it (for stats and the driver). */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export interface PeerProgress {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly recentActive: boolean;
  readonly isLearner: boolean;
  readonly inflight: number;
}

export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  /** Empty unless leader. */
  readonly progress: readonly PeerProgress[];
  /** Set while a leadership transfer is in flight. */
  readonly leadTransferee: NodeId;
}
