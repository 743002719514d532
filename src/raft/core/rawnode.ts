import type { Result } from '../../util/result.js';
import type { Config } from './config.js';
import type { ConfChange, ConfState, Message, NodeId, ProposeError, Proposed, RaftLogStorage, Ready, SnapshotMeta, Status } from './types.js';

/**
 * The core's public face (etcd's RawNode). Single-threaded and synchronous: the driver feeds
 * inputs, then drains ready() / advance(). Never touches I/O, clocks or Math.random.
 */
export class RawNode {
  /** Throws AssertionError on an invalid config or inconsistent storage (a caller bug). */
  constructor(_config: Config, _storage: RaftLogStorage) {
    throw new Error('not implemented yet');
  }

  /** Advance logical time by one tick (election / heartbeat / check-quorum timers). */
  tick(): void {}

  /** Start an election now (pre-vote first when enabled). */
  campaign(): void {}

  /** Append normal entries on the leader. */
  propose(_data: readonly Uint8Array[]): Result<Proposed, ProposeError> {
    throw new Error('not implemented yet');
  }

  /** Propose one membership change; refused while another is not yet applied. */
  proposeConfChange(_cc: ConfChange): Result<Proposed, ProposeError> {
    throw new Error('not implemented yet');
  }

  /**
   * Ask for a linearizable read index. The answer arrives as a ReadState with this context in a
   * later Ready; index 0 there means the read failed (leadership lost) and must be retried.
   */
  readIndex(_context: string): Result<void, ProposeError> {
    throw new Error('not implemented yet');
  }

  /** Leader only: hand leadership to `to` (catch it up, then TimeoutNow). */
  transferLeadership(_to: NodeId): Result<void, ProposeError> {
    throw new Error('not implemented yet');
  }

  /** Feed one validated message from a peer. Refuses messages not addressed to this node. */
  step(_m: Message): Result<void, string> {
    throw new Error('not implemented yet');
  }

  /** The driver could not reach `id`: stop pipelining to it until it answers again. */
  reportUnreachable(_id: NodeId): void {}

  hasReady(): boolean {
    return false;
  }

  ready(): Ready {
    throw new Error('not implemented yet');
  }

  /** Acknowledge that `rd` was handled fully (persisted, sent, applied). */
  advance(_rd: Ready): void {}

  /**
   * The driver saved a snapshot at meta.index (<= applied) durably and made storage.snapshot()
   * return it. Returns the highest index the driver may now delete from its log (keeps
   * trailingLogs entries behind the snapshot); 0 means delete nothing.
   */
  compact(_meta: SnapshotMeta): number {
    throw new Error('not implemented yet');
  }

  get confState(): ConfState {
    throw new Error('not implemented yet');
  }

  status(): Status {
    throw new Error('not implemented yet');
  }
}
