/**
 * Named gossip channels for node services, over SWIM user messages (Memberlist.sendUserMessage):
 * each message carries its channel's name, and is handed to that channel's handlers on the
 * members it reaches. Best effort, as SWIM user messages are: one datagram per member, no retry,
 * no order. Sealed by SWIM's envelope under the cluster keyring when one is set (docs/cluster.md,
 * Security): this layer adds no crypto of its own.
 *
 * Wire: `version u8 (1) | name length u8 | name (1..32 of [a-z0-9._-]) | body`. Input that does
 * not parse, or names a channel nobody opened here, is counted and dropped; a handler that throws
 * is logged and counted, and the other handlers still get the message.
 */
import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { UserMessage } from '../swim/index.js';
import { err, ok, type Result } from '../util/result.js';

const VERSION = 1;
const NAME = /^[a-z0-9][a-z0-9._-]{0,31}$/;
/** One warning per drop reason per this period; the counter counts every drop. */
const DROP_LOG_PERIOD_MS = 10_000;

/** What the mux needs of SWIM (Memberlist implements it). */
export interface GossipTransport {
  sendUserMessage(payload: Uint8Array, to?: readonly string[]): Result<number, string>;
  onUserMessage(listener: (m: UserMessage) => void): void;
  /** The other members alive or suspect. */
  peers(): string[];
}

export interface GossipMessage {
  /** The sending member's name. */
  readonly from: string;
  readonly body: Uint8Array;
}

export interface GossipChannel {
  readonly name: string;
  /** The largest body a message may carry (the SWIM user message limit less this layer's header). */
  readonly maxBody: number;
  /** To the named members, or every other live member; the number addressed. */
  send(body: Uint8Array, to?: readonly string[]): Result<number, string>;
  onMessage(handler: (m: GossipMessage) => void): void;
  /** Stop receiving; the name may be opened again. */
  close(): void;
}

export type GossipDrop = 'malformed' | 'unknown-channel' | 'handler-error';

export class GossipMux {
  private readonly channels = new Map<string, Array<(m: GossipMessage) => void>>();
  private readonly dropped: Counter<'reason'>;
  private readonly delivered: Counter<'channel'>;
  private readonly lastDropLog = new Map<GossipDrop, number>();
  private readonly log: Logger;

  constructor(
    private readonly transport: GossipTransport,
    /** SWIM's maxUserMessageSize. */
    private readonly maxPayload: number,
    private readonly clock: Clock,
    logger: Logger,
    metrics: Registry,
  ) {
    this.log = logger.child({ module: 'cluster.gossip' });
    this.dropped = new Counter({ name: 'amf_cluster_gossip_dropped_total', help: 'Gossip channel messages dropped: malformed, for a channel not open here, or a handler failed', labelNames: ['reason'], registers: [metrics] });
    this.delivered = new Counter({ name: 'amf_cluster_gossip_delivered_total', help: 'Gossip channel messages handed to the channel open here', labelNames: ['channel'], registers: [metrics] });
    transport.onUserMessage((m) => this.receive(m));
  }

  /** The other members alive or suspect (a channel's "every member"). */
  peers(): string[] {
    return this.transport.peers();
  }

  /** Open a channel by name (one opening per name at a time). */
  channel(name: string): Result<GossipChannel, string> {
    if (!NAME.test(name)) return err(`gossip channel name ${JSON.stringify(name)}: 1 to 32 of a-z 0-9 . _ -, starting with a letter or digit`);
    if (this.channels.has(name)) return err(`gossip channel ${name} is already open`);
    const handlers: Array<(m: GossipMessage) => void> = [];
    this.channels.set(name, handlers);
    const header = encodeHeader(name);
    let open = true;
    return ok({
      name,
      maxBody: this.maxPayload - header.length,
      send: (body, to) => {
        if (!open) return err(`gossip channel ${name} is closed`);
        if (body.length > this.maxPayload - header.length) return err(`gossip channel ${name}: a body of ${body.length} bytes exceeds ${this.maxPayload - header.length}`);
        const payload = new Uint8Array(header.length + body.length);
        payload.set(header, 0);
        payload.set(body, header.length);
        return this.transport.sendUserMessage(payload, to);
      },
      onMessage: (handler) => {
        if (open) handlers.push(handler);
      },
      close: () => {
        if (!open) return;
        open = false;
        if (this.channels.get(name) === handlers) this.channels.delete(name);
      },
    });
  }

  private receive(m: UserMessage): void {
    const parsed = decode(m.payload);
    if (!parsed.ok) return this.drop('malformed', m.from, parsed.error);
    const handlers = this.channels.get(parsed.value.channel);
    if (!handlers) return this.drop('unknown-channel', m.from, `channel ${parsed.value.channel}`);
    this.delivered.inc({ channel: parsed.value.channel });
    const msg: GossipMessage = { from: m.from, body: parsed.value.body };
    for (const h of handlers) {
      try {
        h(msg);
      } catch (e) {
        this.drop('handler-error', m.from, `channel ${parsed.value.channel}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }

  private drop(reason: GossipDrop, from: string, detail: string): void {
    this.dropped.inc({ reason });
    const now = this.clock.now();
    const last = this.lastDropLog.get(reason);
    if (last !== undefined && now - last < DROP_LOG_PERIOD_MS) return;
    this.lastDropLog.set(reason, now);
    const fields = { from, reason, detail };
    if (reason === 'handler-error') this.log.error(fields, 'gossip: a channel handler threw (further ones only counted for 10 s)');
    else this.log.warn(fields, 'gossip: dropped a message (further drops of this kind only counted for 10 s)');
  }
}

function encodeHeader(name: string): Uint8Array {
  const n = Buffer.from(name, 'utf8');
  return Uint8Array.from([VERSION, n.length, ...n]);
}

function decode(payload: Uint8Array): Result<{ channel: string; body: Uint8Array }, string> {
  if (payload.length < 3) return err(`${payload.length} bytes`);
  if (payload[0] !== VERSION) return err(`version ${String(payload[0])}, expected ${VERSION}`);
  const len = payload[1] ?? 0;
  if (payload.length < 2 + len) return err(`a channel name of ${len} bytes in ${payload.length}`);
  const channel = Buffer.from(payload.subarray(2, 2 + len)).toString('utf8');
  if (!NAME.test(channel)) return err(`bad channel name ${JSON.stringify(channel.slice(0, 40))}`);
  return ok({ channel, body: payload.slice(2 + len) });
}
