import { hostOf } from './admission.js';
import type { StreamAddress } from './ports/stream.js';

/** Distinct peers a refusal counter names; later ones are counted under OTHER_PEERS. */
export const MAX_PEER_LABELS = 64;
export const OTHER_PEERS = 'other';

/**
 * The `peer` label of a counter of refused input (sealed-channel failures, dropped gossip, bad Raft
 * frames, listener refusals), bounded: each label is a time series kept for the process's life, and
 * a flood from spoofed source addresses must not grow them without end. The first MAX_PEER_LABELS
 * peers keep their own label; every later one is OTHER_PEERS (its total is never lost).
 */
export class PeerLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly max = MAX_PEER_LABELS) {}

  /** A datagram's source ("host:port"): its port is the sender's own socket, so it names a peer. */
  datagram(from: string): string {
    return this.label(from);
  }

  /** A stream's remote end: its port is ephemeral, so the host names the peer. */
  stream(remote: StreamAddress): string {
    return this.label(hostOf(remote));
  }

  private label(peer: string): string {
    if (this.seen.has(peer)) return peer;
    if (this.seen.size >= this.max) return OTHER_PEERS;
    this.seen.add(peer);
    return peer;
  }
}
