import { Packr } from 'msgpackr';
import { err, ok, type Result } from '../util/result.js';

/**
 * The SWIM messages and their msgpack encoding. Each message is a msgpack array whose first item
 * is its type number (append-only: the numbers are protocol). A packet body is a msgpack array of
 * encoded messages, so piggybacked updates are appended byte-for-byte and the size budget is exact.
 */
/** In wire order: a state travels as its index here. */
export const MEMBER_STATES = ['alive', 'suspect', 'dead', 'left'] as const;
export type MemberState = (typeof MEMBER_STATES)[number];

export type SwimMessage =
  /** Direct probe. `target` lets a restarted process ignore pings meant for another identity. */
  | { readonly type: 'ping'; readonly seq: number; readonly target: string; readonly source: string }
  /** Ask the receiver to ping `target` for us and relay the ack (and a nack if it stays silent). */
  | {
      readonly type: 'indirect-ping';
      readonly seq: number;
      readonly target: string;
      readonly targetAddr: string;
      readonly nack: boolean;
      readonly source: string;
    }
  | { readonly type: 'ack'; readonly seq: number }
  /** Lifeguard: an indirect-probe helper heard nothing from the target within its probe timeout. */
  | { readonly type: 'nack'; readonly seq: number }
  | { readonly type: 'alive'; readonly incarnation: number; readonly node: string; readonly addr: string; readonly meta: Uint8Array }
  | { readonly type: 'suspect'; readonly incarnation: number; readonly node: string; readonly from: string }
  /** `from === node` is a graceful leave (state left). */
  | { readonly type: 'dead'; readonly incarnation: number; readonly node: string; readonly from: string }
  | { readonly type: 'user'; readonly from: string; readonly payload: Uint8Array };

/** One member in a push-pull state exchange. */
export interface MemberSnapshot {
  readonly name: string;
  readonly addr: string;
  readonly incarnation: number;
  readonly state: MemberState;
  readonly meta: Uint8Array;
}

export interface PushPull {
  /** True when the sender is joining (sent by join(), answered like any push-pull). */
  readonly join: boolean;
  readonly members: readonly MemberSnapshot[];
}

const TYPE = { ping: 0, 'indirect-ping': 1, ack: 2, nack: 3, alive: 4, suspect: 5, dead: 6, user: 7 } as const;
const STATES: readonly MemberState[] = MEMBER_STATES;
const PUSH_PULL_TAG = 100;

/** Hard wire limits (independent of config, so a peer with a bigger config cannot make us allocate). */
export const WIRE_LIMITS = {
  maxName: 128,
  maxAddr: 256,
  maxMeta: 4096,
  maxUserPayload: 60_000,
  maxMessagesPerPacket: 255,
  maxPushPullMembers: 100_000,
} as const;

const packr = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true, int64AsType: 'number' });

/** Encode into a fresh copy (msgpackr hands back a view of its reusable buffer). */
function pack(value: unknown): Uint8Array {
  return Uint8Array.prototype.slice.call(packr.pack(value));
}

export function encodeMessage(m: SwimMessage): Uint8Array {
  switch (m.type) {
    case 'ping':
      return pack([TYPE.ping, m.seq, m.target, m.source]);
    case 'indirect-ping':
      return pack([TYPE['indirect-ping'], m.seq, m.target, m.targetAddr, m.nack, m.source]);
    case 'ack':
      return pack([TYPE.ack, m.seq]);
    case 'nack':
      return pack([TYPE.nack, m.seq]);
    case 'alive':
      return pack([TYPE.alive, m.incarnation, m.node, m.addr, m.meta]);
    case 'suspect':
      return pack([TYPE.suspect, m.incarnation, m.node, m.from]);
    case 'dead':
      return pack([TYPE.dead, m.incarnation, m.node, m.from]);
    case 'user':
      return pack([TYPE.user, m.from, m.payload]);
  }
}

/** The msgpack array header for n items (fixarray, array16). */
function arrayHeader(n: number): Uint8Array {
  return n < 16 ? Uint8Array.of(0x90 | n) : Uint8Array.of(0xdc, n >> 8, n & 0xff);
}

/** Bytes a packet body adds on top of its messages (the array header, at most 3 bytes). */
export const BODY_OVERHEAD = 3;

/** A packet body from already-encoded messages. */
export function assembleBody(messages: readonly Uint8Array[]): Uint8Array {
  const header = arrayHeader(messages.length);
  let size = header.length;
  for (const m of messages) size += m.length;
  const out = new Uint8Array(size);
  out.set(header, 0);
  let at = header.length;
  for (const m of messages) {
    out.set(m, at);
    at += m.length;
  }
  return out;
}

export function encodePushPull(p: PushPull): Uint8Array {
  return pack([PUSH_PULL_TAG, p.join, p.members.map((m) => [m.name, m.addr, m.incarnation, STATES.indexOf(m.state), m.meta])]);
}

function unpack(bytes: Uint8Array): Result<unknown, string> {
  try {
    return ok(packr.unpack(bytes));
  } catch (e) {
    return err(`msgpack: ${(e as Error).message}`);
  }
}

const isU32 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
const isStr = (v: unknown, max: number, min = 1): v is string => typeof v === 'string' && v.length >= min && v.length <= max;
const isBytes = (v: unknown, max: number): v is Uint8Array => v instanceof Uint8Array && v.length <= max;

// Hot path (every packet): plain functions, no closures created per call.
function name(v: unknown): v is string {
  return isStr(v, WIRE_LIMITS.maxName);
}

/**
 * "host:port" with a port of 1..65535: a member address we will send to. Port 0 would make Node's
 * dgram send throw synchronously, so one hostile alive or indirect-ping must not get that far.
 */
function isAddr(v: unknown): v is string {
  if (!isStr(v, WIRE_LIMITS.maxAddr)) return false;
  const port = /.:(\d{1,5})$/.exec(v)?.[1];
  return port !== undefined && Number(port) >= 1 && Number(port) <= 65535;
}

function badField(t: unknown, field: string): Result<never, string> {
  return err(`message type ${String(t)}: bad ${field}`);
}

/** Validate one decoded message; the error names the type and field. */
function toMessage(raw: unknown): Result<SwimMessage, string> {
  if (!Array.isArray(raw) || raw.length === 0) return err('message is not a non-empty array');
  const [t, a, b, c, d, e] = raw as unknown[];
  switch (t) {
    case TYPE.ping:
      if (raw.length !== 4) return badField(t, 'length');
      if (!isU32(a)) return badField(t, 'seq');
      if (!name(b)) return badField(t, 'target');
      if (!name(c)) return badField(t, 'source');
      return ok({ type: 'ping', seq: a, target: b, source: c });
    case TYPE['indirect-ping']:
      if (raw.length !== 6) return badField(t, 'length');
      if (!isU32(a)) return badField(t, 'seq');
      if (!name(b)) return badField(t, 'target');
      if (!isAddr(c)) return badField(t, 'targetAddr');
      if (typeof d !== 'boolean') return badField(t, 'nack');
      if (!name(e)) return badField(t, 'source');
      return ok({ type: 'indirect-ping', seq: a, target: b, targetAddr: c, nack: d, source: e });
    case TYPE.ack:
    case TYPE.nack:
      if (raw.length !== 2) return badField(t, 'length');
      if (!isU32(a)) return badField(t, 'seq');
      return ok({ type: t === TYPE.ack ? 'ack' : 'nack', seq: a });
    case TYPE.alive:
      if (raw.length !== 5) return badField(t, 'length');
      if (!isU32(a)) return badField(t, 'incarnation');
      if (!name(b)) return badField(t, 'node');
      if (!isAddr(c)) return badField(t, 'addr');
      if (!isBytes(d, WIRE_LIMITS.maxMeta)) return badField(t, 'meta');
      return ok({ type: 'alive', incarnation: a, node: b, addr: c, meta: d });
    case TYPE.suspect:
    case TYPE.dead:
      if (raw.length !== 4) return badField(t, 'length');
      if (!isU32(a)) return badField(t, 'incarnation');
      if (!name(b)) return badField(t, 'node');
      if (!name(c)) return badField(t, 'from');
      return ok({ type: t === TYPE.suspect ? 'suspect' : 'dead', incarnation: a, node: b, from: c });
    case TYPE.user:
      if (raw.length !== 3) return badField(t, 'length');
      if (!name(a)) return badField(t, 'from');
      if (!isBytes(b, WIRE_LIMITS.maxUserPayload)) return badField(t, 'payload');
      return ok({ type: 'user', from: a, payload: b });
    default:
      return err(`unknown message type ${String(t)}`);
  }
}

/** Decode and validate a packet body: all of it or nothing. */
export function decodeBody(bytes: Uint8Array): Result<SwimMessage[], string> {
  const raw = unpack(bytes);
  if (!raw.ok) return raw;
  const list = raw.value;
  if (!Array.isArray(list) || list.length === 0 || list.length > WIRE_LIMITS.maxMessagesPerPacket) {
    return err('packet body is not an array of 1..255 messages');
  }
  const out: SwimMessage[] = [];
  for (const item of list) {
    const m = toMessage(item);
    if (!m.ok) return m;
    out.push(m.value);
  }
  return ok(out);
}

export function decodePushPull(bytes: Uint8Array): Result<PushPull, string> {
  const raw = unpack(bytes);
  if (!raw.ok) return raw;
  const v = raw.value;
  if (!Array.isArray(v) || v.length !== 3 || v[0] !== PUSH_PULL_TAG) return err('push-pull: not a push-pull frame');
  const [, join, list] = v as unknown[];
  if (typeof join !== 'boolean') return err('push-pull: bad join flag');
  if (!Array.isArray(list) || list.length > WIRE_LIMITS.maxPushPullMembers) return err('push-pull: bad member list');
  const members: MemberSnapshot[] = [];
  for (const [i, item] of list.entries()) {
    if (!Array.isArray(item) || item.length !== 5) return err(`push-pull: member ${i} is not a 5-item array`);
    const [name, addr, incarnation, state, meta] = item as unknown[];
    if (!isStr(name, WIRE_LIMITS.maxName)) return err(`push-pull: member ${i}: bad name`);
    if (!isAddr(addr)) return err(`push-pull: member ${i}: bad addr`);
    if (!isU32(incarnation)) return err(`push-pull: member ${i}: bad incarnation`);
    const st = typeof state === 'number' ? STATES[state] : undefined;
    if (st === undefined) return err(`push-pull: member ${i}: bad state`);
    if (!isBytes(meta, WIRE_LIMITS.maxMeta)) return err(`push-pull: member ${i}: bad meta`);
    members.push({ name, addr, incarnation, state: st, meta });
  }
  return ok({ join, members });
}
