import type { Message, NodeId } from '../core/types.js';

/**
 * How the driver talks to its peers. Delivery is best effort: Raft retransmits, so a message may
 * be dropped when a peer is unreachable or a connection is backed up, never blocking the node.
 */
export interface Transport {
  /** The address peers reach this node at. */
  readonly localAddress: string;
  /** Messages from peers, already validated. */
  onMessage(handler: (m: Message) => void): void;
  /** A peer introduced itself (id and the address it listens at), e.g. a leader we never heard of. */
  onPeerAddress(handler: (id: NodeId, address: string) => void): void;
  /** Reachability of a peer changed (connection established / failed). */
  onPeerStatus(handler: (id: NodeId, reachable: boolean) => void): void;
  send(address: string, m: Message): void;
  close(): Promise<void>;
}
