/**
 * The host side of server-group messaging in one amfd: the relay core (relay.ts) and the status
 * tracker (notify.ts) driven by the committed state, a channel session per member this node hosts
 * (reconnecting, `\n`-framed), and a gossip channel to the other nodes. Thin: decisions are in the
 * cores; this file moves bytes, counts and logs.
 */
import { Counter, Gauge } from 'prom-client';
import { LineChannel, type LineChannelState } from '../runtime/line-channel.js';
import type { ChannelNetwork } from '../runtime/ports/channel.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { Logger, Registry } from '../runtime/ports/observability.js';
import type { LineDrop } from '../util/lines.js';
import { MAX_LINE_BYTES } from './envelope.js';
import type { ServerGroup, SgMember } from './group.js';
import { StatusTracker, type Applied } from './notify.js';
import { ServerGroupRelay, type RelayResult } from './relay.js';
import type { MemberStatus } from './status.js';

/** Best-effort messages to other nodes by name (a named gossip channel of the cluster). */
export interface GossipChannel {
  send(node: string, payload: Uint8Array): void;
  onMessage(handler: (from: string, payload: Uint8Array) => void): void;
}

export interface ServerGroupHostOptions {
  readonly node: string;
  readonly clock: Clock;
  readonly channels: ChannelNetwork;
  readonly gossip: GossipChannel;
  readonly logger: Logger;
  readonly metrics: Registry;
  /** Reconnect backoff of member channels. Default 200 ms doubling to 5 s. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Lines queued behind a guest that does not read, per member. Default 256 KiB. */
  readonly maxQueuedBytes?: number;
  /** The largest packet the gossip channel carries (a broadcast to more members of one node goes in several). */
  readonly maxPeerPayload?: number;
}

export interface MemberChannelView {
  readonly group: string;
  readonly instance: string;
  readonly channel: string;
  readonly state: LineChannelState;
  readonly connects: number;
}

interface StatusTag {
  readonly addr: string;
  readonly seq: number;
}

interface Session {
  readonly member: SgMember;
  readonly group: string;
  readonly path: string;
  readonly line: LineChannel<StatusTag>;
}

/** Member states in which a channel is worth connecting (QEMU's socket exists). */
const RUNNING = new Set(['building', 'active', 'rebooting', 'stopping']);
const DROP_LOG_EVERY_MS = 10_000;
const CONNECT_TIMEOUT_MS = 2000;

export class ServerGroupHost {
  private readonly relay: ServerGroupRelay;
  private readonly tracker = new StatusTracker();
  private readonly sessions = new Map<string, Session>();
  private groups: readonly ServerGroup[] = [];
  private started = false;
  private stopped = false;
  private readonly log: Logger;
  private readonly messages: Counter<'kind'>;
  private readonly dropped: Counter<'reason'>;
  private readonly lastDropLog = new Map<string, number>();

  constructor(private readonly o: ServerGroupHostOptions) {
    this.relay = new ServerGroupRelay(o.node, o.maxPeerPayload);
    this.log = o.logger.child({ module: 'servergroup' });
    this.messages = new Counter({ name: 'amf_servergroup_messages_total', help: 'Server-group messages handled by kind', labelNames: ['kind'], registers: [o.metrics] });
    this.dropped = new Counter({ name: 'amf_servergroup_dropped_total', help: 'Server-group messages dropped or refused, by reason', labelNames: ['reason'], registers: [o.metrics] });
    const sessions = this.sessions;
    new Gauge({
      name: 'amf_servergroup_channels',
      help: 'Member channels of this node by state',
      labelNames: ['state'],
      registers: [o.metrics],
      collect() {
        const counts = new Map<string, number>();
        for (const s of sessions.values()) counts.set(s.line.state, (counts.get(s.line.state) ?? 0) + 1);
        this.reset();
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    o.gossip.onMessage((from, payload) => {
      if (this.stopped) return;
      this.messages.inc({ kind: 'peer-in' });
      this.deliver(this.relay.fromPeer(from, payload));
    });
  }

  /** The committed state after an entry (or, the first time, the state to start from). */
  onCommitted(a: Applied): void {
    if (this.stopped) return;
    this.groups = a.groups;
    let notes: ReturnType<StatusTracker['apply']> = [];
    if (!this.started) {
      this.tracker.baseline(a);
      this.started = true;
    } else notes = this.tracker.apply(a);
    this.relay.setView(a.groups, this.tracker.current());
    this.syncSessions();
    if (notes.length > 0) {
      this.messages.inc({ kind: 'notification' }, notes.length);
      for (const n of notes) this.log.info({ group: n.group, instance: n.instance, event: n.event }, 'server-group member notification');
      this.deliver(this.relay.notify(notes));
    }
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sessions.values()) s.line.stop();
    this.sessions.clear();
  }

  /** Every member's committed status. */
  statuses(): ReadonlyMap<string, MemberStatus> {
    return this.tracker.current();
  }

  serverGroups(): readonly ServerGroup[] {
    return this.groups;
  }

  /** The channels this node holds, one per member it hosts. */
  channels(): MemberChannelView[] {
    return [...this.sessions.values()].map((s) => ({ group: s.group, instance: s.member.instance, channel: s.path, state: s.line.state, connects: s.line.connects }));
  }

  private syncSessions(): void {
    const want = new Map<string, { member: SgMember; group: string; path: string }>();
    const statuses = this.tracker.current();
    for (const g of this.groups) {
      for (const m of g.members) {
        const st = statuses.get(m.instance);
        if (m.channel !== undefined && st?.host === this.o.node && RUNNING.has(st.state)) want.set(m.instance, { member: m, group: g.name, path: m.channel });
      }
    }
    for (const [instance, s] of this.sessions) {
      const w = want.get(instance);
      if (w && w.path === s.path) continue;
      s.line.stop();
      this.sessions.delete(instance);
    }
    for (const [instance, w] of want) {
      const have = this.sessions.get(instance);
      if (have) {
        have.line.kick();
        continue;
      }
      const line: LineChannel<StatusTag> = new LineChannel<StatusTag>({
        open: () => this.o.channels.connect(w.path, { timeoutMs: CONNECT_TIMEOUT_MS }),
        clock: this.o.clock,
        maxLineBytes: MAX_LINE_BYTES,
        minBackoffMs: this.o.minBackoffMs ?? 200,
        maxBackoffMs: this.o.maxBackoffMs ?? 5000,
        maxQueuedBytes: this.o.maxQueuedBytes ?? 256 * 1024,
        onLine: (l) => this.fromGuest(instance, l),
        onDrop: (d) => this.lineDropped(instance, d),
        onState: (state, detail) => this.log.debug({ instance, channel: w.path, state, detail }, 'member channel'),
      });
      this.sessions.set(instance, { member: w.member, group: w.group, path: w.path, line });
      line.start();
    }
  }

  private fromGuest(instance: string, line: string): void {
    this.messages.inc({ kind: 'guest-in' });
    const r = this.relay.fromGuest(instance, line, this.o.clock.now());
    const asked = r.out.find((x) => x.kind === 'guest' && x.status !== undefined);
    if (asked?.kind === 'guest' && asked.status) {
      const { addr, seq } = asked.status;
      // A new query cancels a pending one: its answers still queued behind the channel go.
      const n = this.sessions.get(instance)?.line.cancel((t) => t.addr === addr && t.seq !== seq) ?? 0;
      if (n > 0) this.dropped.inc({ reason: 'status-cancelled' }, n);
    }
    this.deliver(r);
  }

  private lineDropped(instance: string, d: LineDrop): void {
    this.deliver(this.relay.guestLineDropped(instance, d, this.o.clock.now()));
  }

  private deliver(r: RelayResult): void {
    for (const d of r.drops) {
      this.dropped.inc({ reason: d.reason });
      const key = `${d.reason}/${d.instance ?? d.node ?? ''}`;
      const now = this.o.clock.now();
      const last = this.lastDropLog.get(key);
      if (last === undefined || now - last >= DROP_LOG_EVERY_MS) {
        this.lastDropLog.set(key, now);
        this.log.warn({ reason: d.reason, instance: d.instance, node: d.node, detail: d.detail }, 'server-group message dropped');
      }
    }
    for (const x of r.out) {
      if (x.kind === 'peer') {
        this.messages.inc({ kind: 'peer-out' });
        this.o.gossip.send(x.node, x.payload);
        continue;
      }
      const s = this.sessions.get(x.instance);
      const outcome = s ? s.line.send(x.line, x.status) : 'not-connected';
      if (outcome === 'sent' || outcome === 'queued') this.messages.inc({ kind: 'guest-out' });
      else this.dropped.inc({ reason: outcome });
    }
  }
}
