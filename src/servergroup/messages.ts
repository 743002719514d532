/**
 * The inner (`data`) layer of server-group messaging, as libservergroup and nova's cgcs_messaging
 * speak it (docs/server-groups.md has the table):
 *
 *   guest → host  broadcast {version, msg_type, data: string ≤ 3050 bytes, no newline}
 *                 status_query {version, msg_type, seq}
 *   host → guest  broadcast {version, msg_type, source_instance, data}
 *                 notification {version, msg_type, data: {…}}
 *                 status_response {version, msg_type, seq, data: {…}}   one per member
 *                 status_response_done {version, msg_type, seq}
 *                 nack {version, msg_type, orig_msg_type, log_msg}
 *
 * Decoders return the nack text on failure; encoders build plain objects in the field order of
 * the reference (nova's dicts), so transcripts compare byte for byte.
 */
import { err, ok, type Result } from '../util/result.js';
import { shown, SG_VERSION } from './envelope.js';

/** MAX_MSG_DATA_LEN of server_group.h: the bytes of a broadcast's data. */
export const MAX_MSG_DATA_LEN = 3050;
/**
 * HOST_GUEST_BUFSIZE: libservergroup receives each message into a buffer of this size, so nothing
 * sent to a guest application may encode larger.
 */
export const HOST_GUEST_BUFSIZE = 4096;
/** The longest log_msg we send (nacks stay short). */
export const MAX_LOG_MSG = 256;
/** seq travels as a C int through json-c. */
const MAX_SEQ = 0x7fff_ffff;

export type GuestRequest = { readonly type: 'broadcast'; readonly data: string } | { readonly type: 'status_query'; readonly seq: number };

export type HostMessage =
  | { readonly type: 'broadcast'; readonly sourceInstance: string; readonly data: string }
  | { readonly type: 'notification'; readonly data: Readonly<Record<string, unknown>> }
  | { readonly type: 'status_response'; readonly seq: number; readonly data: Readonly<Record<string, unknown>> }
  | { readonly type: 'status_response_done'; readonly seq: number }
  | { readonly type: 'nack'; readonly origMsgType: string; readonly log: string };

export interface InnerError {
  readonly log: string;
  /** The message type to name in the nack (`unknown` when there was none). */
  readonly msgType: string;
}

/** Why a broadcast's data is refused, or undefined when it is acceptable. */
export function checkBroadcastData(data: string): string | undefined {
  const bytes = Buffer.byteLength(data, 'utf8');
  if (bytes > MAX_MSG_DATA_LEN) return `broadcast data is ${bytes} bytes, above the limit of ${MAX_MSG_DATA_LEN} bytes (MAX_MSG_DATA_LEN)`;
  if (data.includes('\n')) return 'broadcast data must not contain a newline';
  if (data.includes('\0')) return 'broadcast data must not contain a NUL byte (it is a C string)';
  return undefined;
}

function seqOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_SEQ ? v : undefined;
}

/** The inner message a guest application sent, validated as the host needs it. */
export function decodeGuestRequest(data: Readonly<Record<string, unknown>>): Result<GuestRequest, InnerError> {
  const t = data['msg_type'];
  if (typeof t !== 'string') return err({ log: 'failed to parse msg_type', msgType: 'unknown' });
  if (data['version'] !== SG_VERSION) return err({ log: `invalid server group message version ${shown(data['version'])}, expecting ${SG_VERSION}`, msgType: t });
  if (t === 'broadcast') {
    const d = data['data'];
    if (typeof d !== 'string') return err({ log: `failed to parse data for type broadcast: ${shown(d)} is not a string`, msgType: t });
    const bad = checkBroadcastData(d);
    return bad === undefined ? ok({ type: 'broadcast', data: d }) : err({ log: bad, msgType: t });
  }
  if (t === 'status_query') {
    const seq = seqOf(data['seq']);
    return seq === undefined ? err({ log: `failed to parse seq for type status_query: ${shown(data['seq'])} is not an integer 0..${MAX_SEQ}`, msgType: t }) : ok({ type: 'status_query', seq });
  }
  return err({ log: `got server group message with invalid type ${shown(t)}`, msgType: t });
}

/** The inner message a host sent, validated as a guest library needs it (server_group.c). */
export function decodeHostMessage(data: Readonly<Record<string, unknown>>): Result<HostMessage, string> {
  const t = data['msg_type'];
  if (typeof t !== 'string') return err('failed to parse msg_type');
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  switch (t) {
    case 'broadcast': {
      const d = data['data'];
      const src = data['source_instance'];
      if (typeof d !== 'string') return err('failed to parse data for type broadcast');
      if (typeof src !== 'string') return err('failed to parse source_instance for type broadcast');
      return ok({ type: t, sourceInstance: src, data: d });
    }
    case 'notification': {
      const d = data['data'];
      return obj(d) ? ok({ type: t, data: d }) : err('failed to parse data for type notification');
    }
    case 'status_response':
    case 'status_response_done': {
      const seq = seqOf(data['seq']);
      if (seq === undefined) return err(`failed to parse seq for type ${t}`);
      if (t === 'status_response_done') return ok({ type: t, seq });
      const d = data['data'];
      return obj(d) ? ok({ type: t, seq, data: d }) : err('failed to parse data for type status_response');
    }
    case 'nack': {
      const log = data['log_msg'];
      const orig = data['orig_msg_type'];
      return ok({ type: t, origMsgType: typeof orig === 'string' ? orig : 'unknown', log: typeof log === 'string' ? log : 'Nack: failed to parse log_msg' });
    }
    default:
      return err(`unknown server group message type ${shown(t)}`);
  }
}

/** A host message as the inner object of its envelope. */
export function encodeHostMessage(m: HostMessage): Record<string, unknown> {
  const head = { version: SG_VERSION, msg_type: m.type };
  switch (m.type) {
    case 'broadcast':
      return { ...head, source_instance: m.sourceInstance, data: m.data };
    case 'notification':
      return { ...head, data: m.data };
    case 'status_response':
      return { ...head, seq: m.seq, data: m.data };
    case 'status_response_done':
      return { ...head, seq: m.seq };
    case 'nack':
      return { ...head, orig_msg_type: m.origMsgType, log_msg: m.log.length > MAX_LOG_MSG ? `${m.log.slice(0, MAX_LOG_MSG - 1)}…` : m.log };
  }
}

/** A guest request as the inner object of its envelope (what libservergroup sends). */
export function encodeGuestRequest(r: GuestRequest): Record<string, unknown> {
  return r.type === 'broadcast' ? { version: SG_VERSION, msg_type: r.type, data: r.data } : { version: SG_VERSION, msg_type: r.type, seq: r.seq };
}
