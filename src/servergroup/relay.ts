/**
 * The host side of server-group messaging as a pure core: guest lines, peer packets and member
 * notifications in; lines for this node's guests and packets for other nodes out. Who is a member
 * and where each member runs comes from the committed state (setView), so a message is only ever
 * delivered to a member of the sender's group, on the node that hosts it.
 *
 * - broadcast from a local member: to every other member of its group; local ones directly, the
 *   others in one packet per hosting node (peer-wire.ts). Best effort, as the StarlingX service.
 * - status_query: answered here, from the committed state: one status_response per member placed
 *   on a node (the asker included) and status_response_done, all with the query's seq, to the
 *   asking address.
 * - anything refused: a nack with orig_msg_type and log_msg.
 * - every guest message takes a token of the member's bucket; over the limit it is dropped and
 *   counted, and the guest hears one nack a second about it.
 */
import { decodeEnvelope, encodeEnvelope, SERVER_GROUP_ADDR, SG_VERSION } from './envelope.js';
import { indexMembers, type ServerGroup, type SgMember } from './group.js';
import { decodeGuestRequest, encodeHostMessage, HOST_GUEST_BUFSIZE, type HostMessage } from './messages.js';
import type { MemberNotification } from './notify.js';
import { decodePeerBroadcast, encodePeerBroadcast, type PeerBroadcast } from './peer-wire.js';
import { TokenBucket } from './rate-limit.js';
import type { MemberStatus } from './status.js';
import type { LineDrop } from '../util/lines.js';

export type RelayOut =
  /** A line for a guest; `status` marks a status answer (a newer query drops queued older ones). */
  | { readonly kind: 'guest'; readonly instance: string; readonly line: string; readonly status?: { readonly addr: string; readonly seq: number } }
  | { readonly kind: 'peer'; readonly node: string; readonly payload: Uint8Array };

export type DropReason = 'nack' | 'rate-limit' | 'not-member' | 'not-local' | 'peer-malformed' | 'unplaced';

export interface RelayDrop {
  readonly reason: DropReason;
  readonly detail: string;
  readonly instance?: string;
  readonly node?: string;
}

export interface RelayResult {
  readonly out: RelayOut[];
  readonly drops: RelayDrop[];
}

/** SWIM's default maxUserMessageSize (8 KiB) less the gossip channel's header. */
const DEFAULT_MAX_PEER_PAYLOAD = 8192 - 64;
/** One nack a second at most about a member's rate limit. */
const RATE_NACK_EVERY_MS = 1000;

interface Sender {
  readonly bucket: TokenBucket;
  limited: number;
  lastNackAt: number | undefined;
}

export class ServerGroupRelay {
  private members = new Map<string, { readonly group: ServerGroup; readonly member: SgMember }>();
  private groups = new Map<string, ServerGroup>();
  private statuses: ReadonlyMap<string, MemberStatus> = new Map();
  private readonly senders = new Map<string, Sender>();

  /**
   * `maxPeerPayload`: the largest packet the gossip channel carries; a broadcast to more members
   * of one node than fit in one packet goes in several.
   */
  constructor(
    private readonly self: string,
    private readonly maxPeerPayload = DEFAULT_MAX_PEER_PAYLOAD,
  ) {}

  /** The committed view: the groups and every member's status (which names its host). */
  setView(groups: readonly ServerGroup[], statuses: ReadonlyMap<string, MemberStatus>): void {
    this.members = indexMembers(groups);
    this.groups = new Map(groups.map((g) => [g.name, g]));
    this.statuses = statuses;
    for (const instance of this.senders.keys()) if (!this.members.has(instance)) this.senders.delete(instance);
  }

  /** Members this node hosts, per the committed placement. */
  localMembers(): SgMember[] {
    return [...this.members.values()].filter((x) => this.statuses.get(x.member.instance)?.host === this.self).map((x) => x.member);
  }

  /** One message line from a local member's channel. */
  fromGuest(instance: string, line: string, now: number): RelayResult {
    const res: RelayResult = { out: [], drops: [] };
    const entry = this.members.get(instance);
    if (!entry) return res;
    if (!this.admit(instance, entry.group, now, res)) return res;
    const env = decodeEnvelope(line, { destAddr: true, sourceAddr: true });
    if (!env.ok) return this.nack(res, instance, SERVER_GROUP_ADDR, env.error.msgType ?? 'unknown', env.error.log);
    const reply = env.value.sourceAddr ?? SERVER_GROUP_ADDR;
    if (env.value.destAddr !== SERVER_GROUP_ADDR) {
      const t = typeof env.value.data['msg_type'] === 'string' ? env.value.data['msg_type'] : 'unknown';
      return this.nack(res, instance, reply, t, `dest_addr ${JSON.stringify(env.value.destAddr)} is not served here: a member reaches its own server group (${entry.group.name}) at ${SERVER_GROUP_ADDR}`);
    }
    const req = decodeGuestRequest(env.value.data);
    if (!req.ok) return this.nack(res, instance, reply, req.error.msgType, req.error.log);
    if (req.value.type === 'status_query') {
      const seq = req.value.seq;
      for (const m of entry.group.members) {
        const st = this.statuses.get(m.instance);
        // A member that was never started (placed nowhere) is not a server yet, as in nova.
        if (st && (st.host !== null || m.instance === instance)) res.out.push(this.toGuest(instance, reply, { type: 'status_response', seq, data: { ...st } }, { addr: reply, seq }));
      }
      res.out.push(this.toGuest(instance, reply, { type: 'status_response_done', seq }, { addr: reply, seq }));
      return res;
    }
    const data = req.value.data;
    const probe = this.toGuest(instance, SERVER_GROUP_ADDR, { type: 'broadcast', sourceInstance: instance, data });
    const size = Buffer.byteLength(probe.line) - 2;
    if (size > HOST_GUEST_BUFSIZE) {
      return this.nack(res, instance, reply, 'broadcast', `broadcast encodes to ${size} bytes for its receivers, above their ${HOST_GUEST_BUFSIZE}-byte buffer (HOST_GUEST_BUFSIZE): too many characters JSON must escape`);
    }
    const remote = new Map<string, string[]>();
    for (const m of entry.group.members) {
      if (m.instance === instance) continue;
      const host = this.statuses.get(m.instance)?.host ?? null;
      if (host === null) res.drops.push({ reason: 'unplaced', instance: m.instance, detail: `broadcast from ${instance}: ${m.instance} runs nowhere` });
      else if (host === this.self) res.out.push({ ...probe, instance: m.instance });
      else remote.set(host, [...(remote.get(host) ?? []), m.instance]);
    }
    for (const [node, dests] of remote) {
      for (const payload of this.packets({ group: entry.group.name, source: instance, dests, data })) res.out.push({ kind: 'peer', node, payload });
    }
    return res;
  }

  /** A line the channel could not take (over the size cap, not UTF-8): the guest hears why. */
  guestLineDropped(instance: string, drop: LineDrop, now: number): RelayResult {
    const res: RelayResult = { out: [], drops: [] };
    const entry = this.members.get(instance);
    if (!entry || !this.admit(instance, entry.group, now, res)) return res;
    const log = drop.reason === 'too-long' ? `message of ${drop.bytes} bytes or more dropped: above the line limit` : `message of ${drop.bytes} bytes dropped: not UTF-8`;
    return this.nack(res, instance, SERVER_GROUP_ADDR, 'unknown', log);
  }

  /** A packet from another node: delivered to the named members that are in the group and here. */
  fromPeer(node: string, payload: Uint8Array): RelayResult {
    const res: RelayResult = { out: [], drops: [] };
    const p = decodePeerBroadcast(payload);
    if (!p.ok) {
      res.drops.push({ reason: 'peer-malformed', node, detail: p.error });
      return res;
    }
    const { group, source, dests, data } = p.value;
    const src = this.members.get(source);
    if (!this.groups.has(group) || src?.group.name !== group) {
      res.drops.push({ reason: 'not-member', node, instance: source, detail: `broadcast from ${source} for group ${group}: the sender is not a member of it here` });
      return res;
    }
    for (const d of dests) {
      const dst = this.members.get(d);
      if (dst?.group.name !== group || d === source) res.drops.push({ reason: 'not-member', node, instance: d, detail: `broadcast from ${source}: ${d} is not another member of ${group}` });
      else if (this.statuses.get(d)?.host !== this.self) res.drops.push({ reason: 'not-local', node, instance: d, detail: `broadcast from ${source}: ${d} is not hosted here` });
      else res.out.push(this.toGuest(d, SERVER_GROUP_ADDR, { type: 'broadcast', sourceInstance: source, data }));
    }
    return res;
  }

  /** Notifications about members, to the local members of the same group (not the subject). */
  notify(notes: readonly MemberNotification[]): RelayResult {
    const res: RelayResult = { out: [], drops: [] };
    for (const n of notes) {
      const g = this.groups.get(n.group);
      if (!g) continue;
      for (const m of g.members) {
        if (m.instance === n.instance || this.statuses.get(m.instance)?.host !== this.self) continue;
        res.out.push(this.toGuest(m.instance, SERVER_GROUP_ADDR, { type: 'notification', data: n.data }));
      }
    }
    return res;
  }

  /** The packets for one node: one, or the destinations split until each fits. */
  private packets(b: PeerBroadcast): Uint8Array[] {
    const p = encodePeerBroadcast(b);
    if (p.length <= this.maxPeerPayload || b.dests.length === 1) return [p];
    const half = Math.ceil(b.dests.length / 2);
    return [...this.packets({ ...b, dests: b.dests.slice(0, half) }), ...this.packets({ ...b, dests: b.dests.slice(half) })];
  }

  /** Messages refused by a member's rate limit since it was last told. */
  limitedCount(instance: string): number {
    return this.senders.get(instance)?.limited ?? 0;
  }

  private admit(instance: string, group: ServerGroup, now: number, res: RelayResult): boolean {
    let s = this.senders.get(instance);
    if (!s) this.senders.set(instance, (s = { bucket: new TokenBucket(group.broadcastRate, group.broadcastBurst), limited: 0, lastNackAt: undefined }));
    if (s.bucket.take(now)) return true;
    s.limited++;
    res.drops.push({ reason: 'rate-limit', instance, detail: `${instance} is over ${group.broadcastRate} messages/s (burst ${group.broadcastBurst})` });
    if (s.lastNackAt === undefined || now - s.lastNackAt >= RATE_NACK_EVERY_MS) {
      s.lastNackAt = now;
      const log = `rate limit: ${s.limited} message(s) dropped, above ${group.broadcastRate} messages/s (burst ${group.broadcastBurst})`;
      s.limited = 0;
      res.out.push(this.toGuest(instance, SERVER_GROUP_ADDR, { type: 'nack', origMsgType: 'unknown', log }));
    }
    return false;
  }

  private nack(res: RelayResult, instance: string, addr: string, orig: string, log: string): RelayResult {
    res.drops.push({ reason: 'nack', instance, detail: log });
    res.out.push(this.toGuest(instance, addr, { type: 'nack', origMsgType: orig, log }));
    return res;
  }

  private toGuest(instance: string, destAddr: string, m: HostMessage, status?: { addr: string; seq: number }): RelayOut & { kind: 'guest' } {
    const line = encodeEnvelope({ version: SG_VERSION, sourceAddr: SERVER_GROUP_ADDR, destAddr, data: encodeHostMessage(m) });
    return status ? { kind: 'guest', instance, line, status } : { kind: 'guest', instance, line };
  }
}
