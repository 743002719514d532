/**
 * The StarlingX guest heartbeat wire protocol, version 3 revision 1, between the host and the
 * guest client over a virtio-serial channel (docs/guest-heartbeat.md §Wire). Every message is one
 * JSON object with a `\n` before and after it. This module encodes exactly the bytes StarlingX's
 * guest client and guestServer write (same keys, same order) and decodes with the same rules,
 * returning errors as values so that nothing a guest sends can throw.
 */
import { err, ok, type Result } from '../util/result.js';
import { assert } from '../util/assert.js';

export const HB_VERSION = 3;
export const HB_REVISION = 1;
/** The largest message, both newlines included (guest_heartbeat_msg_defs.h). */
export const MAX_MSG_BYTES = 1056;
/** Shorter lines cannot be a message and are dropped. */
export const MIN_MSG_BYTES = 32;
/** C buffer sizes, NUL included: a string value is at most size - 1 bytes. */
export const MAX_VALUE_BYTES = 32;
export const MAX_NAME_BYTES = 64;
export const MAX_LOG_BYTES = 224;
/** Challenges and invocation ids stay below 2^31: the C side prints them with %d and json-c clamps to int32. */
export const MAX_ID = 0x7fff_ffff;

export const MSG_TYPES = ['init', 'init_ack', 'exit', 'challenge', 'challenge_response', 'action_notify', 'action_response', 'nack'] as const;
export type MsgType = (typeof MSG_TYPES)[number];

/** What the guest asks the host to do with it on loss or ill health. */
export const CORRECTIVE_ACTIONS = ['reboot', 'stop', 'log'] as const;
export type CorrectiveAction = (typeof CORRECTIVE_ACTIONS)[number];
/** In a challenge response: `none` when healthy or already reported, `unknown` for anything else. */
export const RESPONSE_ACTIONS = ['none', 'reboot', 'stop', 'log', 'unknown'] as const;
export type ResponseAction = (typeof RESPONSE_ACTIONS)[number];

export const EVENT_TYPES = [
  'stop',
  'reboot',
  'pause',
  'unpause',
  'suspend',
  'resume',
  'resize_begin',
  'resize_end',
  'live_migrate_begin',
  'live_migrate_end',
  'cold_migrate_begin',
  'cold_migrate_end',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const NOTIFICATION_TYPES = ['revocable', 'irrevocable'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const VOTE_RESULTS = ['accept', 'reject', 'complete', 'timeout', 'error', 'unknown'] as const;
export type VoteResult = (typeof VOTE_RESULTS)[number];

export const HEALTH_VALUES = ['healthy', 'unhealthy'] as const;
export type Health = (typeof HEALTH_VALUES)[number];

export interface InitMsg {
  readonly msgType: 'init';
  readonly invocationId: number;
  readonly name: string;
  readonly heartbeatIntervalMs: number;
  readonly voteSecs: number;
  readonly shutdownNoticeSecs: number;
  readonly suspendNoticeSecs: number;
  readonly resumeNoticeSecs: number;
  readonly restartSecs: number;
  readonly correctiveAction: ResponseAction;
}
export interface InitAckMsg {
  readonly msgType: 'init_ack';
  readonly invocationId: number;
}
export interface ExitMsg {
  readonly msgType: 'exit';
  readonly logMsg: string;
}
export interface ChallengeMsg {
  readonly msgType: 'challenge';
  readonly heartbeatChallenge: number;
}
export interface ChallengeResponseMsg {
  readonly msgType: 'challenge_response';
  readonly heartbeatResponse: number;
  readonly heartbeatHealth: string;
  readonly correctiveAction: ResponseAction;
  readonly logMsg: string;
}
export interface ActionNotifyMsg {
  readonly msgType: 'action_notify';
  readonly invocationId: number;
  readonly eventType: EventType;
  readonly notificationType: NotificationType;
  readonly timeoutMs: number;
}
export interface ActionResponseMsg {
  readonly msgType: 'action_response';
  readonly invocationId: number;
  readonly eventType: string;
  readonly notificationType: string;
  readonly voteResult: VoteResult;
  readonly logMsg: string;
}
export interface NackMsg {
  readonly msgType: 'nack';
  readonly invocationId: number;
  readonly logMsg: string;
}

export type HbMessage = InitMsg | InitAckMsg | ExitMsg | ChallengeMsg | ChallengeResponseMsg | ActionNotifyMsg | ActionResponseMsg | NackMsg;

/** The common fields every message carries. */
export interface HbHeader {
  readonly version: number;
  readonly revision: number;
  readonly sequence: number;
}

type Kind = 'id' | 'count' | 'name' | 'log' | 'value' | { readonly oneOf: readonly string[]; readonly otherwise?: string };

/** Each type's fields in the order StarlingX writes them: [wire key, message key, kind]. */
const FIELDS: { readonly [T in MsgType]: ReadonlyArray<readonly [string, string, Kind]> } = {
  init: [
    ['invocation_id', 'invocationId', 'id'],
    ['name', 'name', 'name'],
    ['heartbeat_interval_ms', 'heartbeatIntervalMs', 'count'],
    ['vote_secs', 'voteSecs', 'count'],
    ['shutdown_notice_secs', 'shutdownNoticeSecs', 'count'],
    ['suspend_notice_secs', 'suspendNoticeSecs', 'count'],
    ['resume_notice_secs', 'resumeNoticeSecs', 'count'],
    ['restart_secs', 'restartSecs', 'count'],
    ['corrective_action', 'correctiveAction', { oneOf: RESPONSE_ACTIONS, otherwise: 'unknown' }],
  ],
  init_ack: [['invocation_id', 'invocationId', 'id']],
  exit: [['log_msg', 'logMsg', 'log']],
  challenge: [['heartbeat_challenge', 'heartbeatChallenge', 'id']],
  challenge_response: [
    ['heartbeat_response', 'heartbeatResponse', 'id'],
    ['heartbeat_health', 'heartbeatHealth', 'value'],
    ['corrective_action', 'correctiveAction', { oneOf: RESPONSE_ACTIONS, otherwise: 'unknown' }],
    ['log_msg', 'logMsg', 'log'],
  ],
  action_notify: [
    ['invocation_id', 'invocationId', 'id'],
    ['event_type', 'eventType', { oneOf: EVENT_TYPES }],
    ['notification_type', 'notificationType', { oneOf: NOTIFICATION_TYPES }],
    ['timeout_ms', 'timeoutMs', 'count'],
  ],
  action_response: [
    ['invocation_id', 'invocationId', 'id'],
    ['event_type', 'eventType', 'value'],
    ['notification_type', 'notificationType', 'value'],
    ['vote_result', 'voteResult', { oneOf: VOTE_RESULTS, otherwise: 'unknown' }],
    ['log_msg', 'logMsg', 'log'],
  ],
  nack: [
    ['invocation_id', 'invocationId', 'id'],
    ['log_msg', 'logMsg', 'log'],
  ],
};

/** UTF-8 bytes of a string, without encoding it (this runs for every message of every guest). */
const byteLength = (s: string): number => Buffer.byteLength(s, 'utf8');

/** The longest prefix of s that fits in maxBytes of UTF-8, never splitting a character. */
export function truncateUtf8(s: string, maxBytes: number): string {
  if (s.length <= maxBytes / 3 || byteLength(s) <= maxBytes) return s;
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    const n = byteLength(ch);
    if (bytes + n > maxBytes) break;
    bytes += n;
    out += ch;
  }
  return out;
}

/** A string as the C side can hold it: control characters (newlines first) become spaces, then it is cut to the buffer. */
export function cString(s: string, bufferBytes: number): string {
  // eslint-disable-next-line no-control-regex
  return truncateUtf8(s.replace(/[\u0000-\u001f\u007f]/g, ' '), bufferBytes - 1);
}

function fieldValue(kind: Kind, v: unknown): unknown {
  if (kind === 'log') return cString(String(v), MAX_LOG_BYTES);
  if (kind === 'name') return cString(String(v), MAX_NAME_BYTES);
  if (kind === 'value') return cString(String(v), MAX_VALUE_BYTES);
  return v;
}

/**
 * One message as it goes on the channel: `\n{...}\n`. Strings are cut to what the peer's C buffers
 * hold (a longer log_msg would overflow StarlingX's strcpy), so every encoding fits MAX_MSG_BYTES.
 */
export function encodeMessage(msg: HbMessage, sequence: number): string {
  const parts = [`"version":${HB_VERSION}`, `"revision":${HB_REVISION}`, `"msg_type":"${msg.msgType}"`, `"sequence":${sequence}`];
  const record = msg as unknown as Record<string, unknown>;
  for (const [wire, key, kind] of FIELDS[msg.msgType]) {
    const v = fieldValue(kind, record[key]);
    assert(v !== undefined, `encode ${msg.msgType}: ${key} missing`);
    parts.push(`${JSON.stringify(wire)}:${JSON.stringify(v)}`);
  }
  const line = `\n{${parts.join(',')}}\n`;
  assert(byteLength(line) <= MAX_MSG_BYTES, `encode ${msg.msgType}: ${line.length} bytes > ${MAX_MSG_BYTES}`);
  return line;
}

/** Why a line was not a message. `drop` is silent on the wire; `invalid` and `unknown-type` earn a nack. */
export type DecodeError =
  | { readonly kind: 'drop'; readonly reason: 'too-short' | 'malformed-json' | 'not-object' | 'old-version'; readonly detail: string }
  | { readonly kind: 'invalid'; readonly field: string; readonly detail: string; readonly msgType?: MsgType; readonly invocationId?: number }
  | { readonly kind: 'unknown-type'; readonly msgType: string };

export interface Decoded {
  readonly header: HbHeader;
  readonly msg: HbMessage;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

function readField(obj: Record<string, unknown>, wire: string, kind: Kind): Result<unknown, string> {
  const v = obj[wire];
  if (v === undefined) return err('missing');
  if (kind === 'id') {
    // The C side writes uint32 values with %d: a large one arrives negative. Keep the 32 bits.
    if (!isInt(v) || v < -0x8000_0000 || v > 0xffff_ffff) return err(`not a 32-bit integer: ${JSON.stringify(v)}`);
    return ok(v >>> 0);
  }
  if (kind === 'count') {
    if (!isInt(v) || v < 0 || v > 0xffff_ffff) return err(`not a non-negative integer: ${JSON.stringify(v)}`);
    return ok(v);
  }
  if (typeof v !== 'string') return err(`not a string: ${JSON.stringify(v)}`);
  if (kind === 'log') return ok(truncateUtf8(v, MAX_LOG_BYTES - 1));
  if (kind === 'name') return ok(truncateUtf8(v, MAX_NAME_BYTES - 1));
  if (kind === 'value') return ok(truncateUtf8(v, MAX_VALUE_BYTES - 1));
  if (kind.oneOf.includes(v)) return ok(v);
  if (kind.otherwise !== undefined) return ok(kind.otherwise);
  return err(`not one of ${kind.oneOf.join(', ')}: ${JSON.stringify(truncateUtf8(v, MAX_VALUE_BYTES))}`);
}

/**
 * One framed line (the text between two `\n`) into a message. Like guestServer: an unparsable line
 * or a version below 3 is dropped; a missing or bad field, or an unknown msg_type, is reported so
 * that the caller can nack it.
 */
export function decodeLine(line: string): Result<Decoded, DecodeError> {
  const size = byteLength(line) + 2;
  if (size < MIN_MSG_BYTES) return err({ kind: 'drop', reason: 'too-short', detail: `${size} bytes < ${MIN_MSG_BYTES}` });
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return err({ kind: 'drop', reason: 'malformed-json', detail: (e as Error).message });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return err({ kind: 'drop', reason: 'not-object', detail: `a JSON ${Array.isArray(value) ? 'array' : typeof value}` });
  const obj = value as Record<string, unknown>;
  const version = obj['version'];
  if (!isInt(version)) return err({ kind: 'invalid', field: 'version', detail: version === undefined ? 'missing' : `not an integer: ${JSON.stringify(version)}` });
  if (version < HB_VERSION) return err({ kind: 'drop', reason: 'old-version', detail: `version ${version} < ${HB_VERSION}` });
  const msgType = obj['msg_type'];
  if (typeof msgType !== 'string') return err({ kind: 'invalid', field: 'msg_type', detail: msgType === undefined ? 'missing' : 'not a string' });
  const revision = obj['revision'];
  if (!isInt(revision)) return err({ kind: 'invalid', field: 'revision', detail: revision === undefined ? 'missing' : 'not an integer' });
  const sequence = obj['sequence'];
  if (!isInt(sequence)) return err({ kind: 'invalid', field: 'sequence', detail: sequence === undefined ? 'missing' : 'not an integer' });
  if (!(MSG_TYPES as readonly string[]).includes(msgType)) return err({ kind: 'unknown-type', msgType: truncateUtf8(msgType, MAX_VALUE_BYTES - 1) });
  const type = msgType as MsgType;
  const out: Record<string, unknown> = { msgType: type };
  for (const [wire, key, kind] of FIELDS[type]) {
    const r = readField(obj, wire, kind);
    if (!r.ok) {
      const inv = obj['invocation_id'];
      return err({ kind: 'invalid', field: wire, detail: r.error, msgType: type, ...(isInt(inv) ? { invocationId: inv >>> 0 } : {}) });
    }
    out[key] = r.value;
  }
  return ok({ header: { version, revision, sequence: sequence >>> 0 }, msg: out as unknown as HbMessage });
}
