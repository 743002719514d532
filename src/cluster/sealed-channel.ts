/**
 * What the sealed decorators (sealed-datagram.ts, sealed-stream.ts) share: the AES-256-GCM seal of
 * one message under the cluster keyring (SWIM's Keyring: the primary key seals, every installed key
 * opens), the associated data that binds a message to its channel, and the refusal counter and
 * rate-limited warning for input that does not open.
 *
 * A sealed message is `kind u8 | iv(12) | ciphertext | tag(16)`. The associated data always starts
 * with MAGIC, the version and the channel id, then the kind and whatever context the caller binds
 * (stream nonces, a frame counter). SWIM's associated data starts with its wire version (1), never
 * MAGIC, so no gossip packet opens on a cluster channel, and no channel's message opens on another.
 */
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { Random } from '../runtime/ports/random.js';
import { PeerLabels } from '../runtime/peer-labels.js';
import type { Keyring } from '../swim/index.js';
import { IV_SIZE, TAG_SIZE } from '../swim/keyring.js';
import { err, ok, type Result } from '../util/result.js';

export type SealedChannelName = 'lease' | 'rpc' | 'raft';

const CHANNEL_IDS: Readonly<Record<SealedChannelName, number>> = { lease: 1, rpc: 2, raft: 3 };
const MAGIC = 0xa5;
const VERSION = 1;

/** Bytes a seal adds to a message: the kind byte, the IV and the tag. */
export const SEAL_OVERHEAD = 1 + IV_SIZE + TAG_SIZE;

/** A peer that sends us something it could not have sealed is warned about at most this often. */
const WARN_EVERY_MS = 10_000;
/** Peers remembered for rate limiting; beyond that the memory is cleared (a flood warns again). */
const WARN_PEERS_MAX = 1024;

/** The associated data of a message of `kind` on `channel`, binding `context` (nonces, counters). */
function associatedData(channel: SealedChannelName, kind: number, context: readonly Uint8Array[]): Uint8Array {
  const size = context.reduce((n, c) => n + c.length, 4);
  const aad = new Uint8Array(size);
  aad.set([MAGIC, VERSION, CHANNEL_IDS[channel], kind], 0);
  let at = 4;
  for (const c of context) {
    aad.set(c, at);
    at += c.length;
  }
  return aad;
}

/**
 * The cluster keyring bound to a node's logger and metrics. One per node, shared by its channels
 * (prom-client allows one counter of a name per registry).
 */
export class SealContext {
  private readonly refused: Counter<'channel' | 'reason' | 'peer'>;
  private readonly peers = new PeerLabels();
  private readonly log: Logger;
  private readonly warned = new Map<string, { at: number; suppressed: number }>();

  constructor(
    readonly keyring: Keyring,
    /** Handshake nonces (IVs come from the keyring's own Random). */
    readonly random: Random,
    readonly clock: Clock,
    logger: Logger,
    metrics: Registry,
  ) {
    this.log = logger.child({ module: 'cluster.sealed' });
    this.refused = new Counter({
      name: 'amf_cluster_unauthenticated_total',
      help: 'Cluster datagrams, frames and handshakes refused because they did not authenticate under the keyring, by peer',
      labelNames: ['channel', 'reason', 'peer'],
      registers: [metrics],
    });
  }

  /** With no key every channel stays in clear (the decorators are then the identity). */
  get enabled(): boolean {
    return this.keyring.size > 0;
  }

  seal(channel: SealedChannelName, kind: number, context: readonly Uint8Array[], plain: Uint8Array): Uint8Array {
    const body = this.keyring.encrypt(plain, associatedData(channel, kind, context));
    const out = new Uint8Array(1 + body.length);
    out[0] = kind;
    out.set(body, 1);
    return out;
  }

  /** The plaintext of a message of `kind`, or why it is refused (wrong kind, no key opens it). */
  open(channel: SealedChannelName, kind: number, context: readonly Uint8Array[], data: Uint8Array): Result<Uint8Array, string> {
    if (data.length < SEAL_OVERHEAD) return err(`${data.length} bytes is shorter than a sealed message (plaintext from a peer without the keyring?)`);
    if (data[0] !== kind) return err(`message kind ${String(data[0])}, expected ${kind} (plaintext from a peer without the keyring?)`);
    const plain = this.keyring.decrypt(data.subarray(1), associatedData(channel, kind, context));
    return plain.ok ? ok(plain.value) : err('does not authenticate: wrong key, tampered, replayed or out of order');
  }

  /** Count a refusal and warn about its peer, at most once per WARN_EVERY_MS per peer and channel. */
  refuse(channel: SealedChannelName, reason: string, peer: string, detail: string): void {
    // lease is datagrams (the source port is the peer's socket), rpc and raft streams (ephemeral ports).
    this.refused.inc({ channel, reason, peer: channel === 'lease' ? this.peers.datagram(peer) : this.peers.stream(peer) });
    const key = `${channel}|${peer}`;
    const now = this.clock.now();
    const w = this.warned.get(key);
    if (w && now - w.at < WARN_EVERY_MS) {
      w.suppressed++;
      return;
    }
    if (this.warned.size >= WARN_PEERS_MAX) this.warned.clear();
    this.warned.set(key, { at: now, suppressed: 0 });
    this.log.warn({ channel, peer, reason, detail, suppressedSinceLastWarning: w?.suppressed ?? 0 }, `refused unauthenticated ${channel} traffic`);
  }
}

/** The addresses ("host:port", "[v6]:port") whose host is not a loopback address. */
export function nonLoopback(addresses: readonly string[]): string[] {
  return addresses.filter((a) => {
    const host = a.slice(0, Math.max(0, a.lastIndexOf(':'))).replace(/^\[(.*)\]$/, '$1');
    return !(host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host));
  });
}
