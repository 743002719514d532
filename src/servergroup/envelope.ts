/**
 * The outer layer of StarlingX server-group messaging (host-guest-comm 2.0), byte-compatible with
 * its guest_agent, host_agent and libservergroup: one JSON object per message, without newlines,
 * framed as `\n{…}\n` on the virtio-serial channel. Fields:
 *
 *   version          2 (CUR_VERSION)
 *   dest_addr        the address the message is for: `cgcs.server_grp` (the server-group service
 *                    on the host, and the libservergroup application in the guest)
 *   source_addr      the sender's address (the guest agent fills in the application's)
 *   source_instance  the guest the message came from (only ever set by a host)
 *   data             the inner message (messages.ts), a JSON object
 *
 * Unknown fields are ignored, as json-c's readers do. Every decode error is a value whose text is
 * the `log_msg` a nack carries back.
 */
import { err, ok, type Result } from '../util/result.js';

/** CUR_VERSION of host_guest_msg_type.h; both layers carry it. */
export const SG_VERSION = 2;
/** The server-group service's address: nova's `server_grp_name`, the address libservergroup binds. */
export const SERVER_GROUP_ADDR = 'cgcs.server_grp';
/** The guest agent's (and StarlingX host agent's) own address. */
export const AGENT_ADDR = 'cgcs.messaging';
/** UNIX_ADDR_LEN 16 including the terminating NUL. */
export const MAX_ADDR_LEN = 15;
/**
 * The largest message line a host or guest agent accepts. A broadcast's 3050 bytes of data may
 * grow sixfold as JSON escapes (`\u0001`), and json-c also escapes `/`; 20 KiB holds any valid one.
 */
export const MAX_LINE_BYTES = 20 * 1024;

export interface Envelope {
  readonly version: number;
  readonly destAddr?: string;
  readonly sourceAddr?: string;
  readonly sourceInstance?: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface EnvelopeError {
  /** What a nack's `log_msg` says. */
  readonly log: string;
  /** The inner `msg_type` when the data could be read that far (a nack's `orig_msg_type`). */
  readonly msgType?: string;
}

/** The fields a reader insists on besides version and data (the StarlingX readers differ). */
export interface EnvelopeNeeds {
  readonly destAddr?: boolean;
  readonly sourceAddr?: boolean;
}

const MAX_SHOWN = 60;

/** A value for an error message: JSON, cut short. */
export function shown(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v);
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function address(rec: Record<string, unknown>, key: string): Result<string, string> {
  const v = rec[key];
  if (typeof v !== 'string') return err(`failed to parse ${key}`);
  if (v.length === 0 || Buffer.byteLength(v) > MAX_ADDR_LEN || !/^[\x21-\x7e]+$/.test(v)) return err(`${key} ${shown(v)} is not an address (1..${MAX_ADDR_LEN} printable ASCII bytes)`);
  return ok(v);
}

/** One message line (without its newlines) to an envelope; never throws. */
export function decodeEnvelope(line: string, needs: EnvelopeNeeds): Result<Envelope, EnvelopeError> {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    // Not V8's parser message: it differs between Node versions, and the guest needs only this.
    return err({ log: 'failed to parse msg: not JSON' });
  }
  if (!isRecord(raw)) return err({ log: `failed to parse msg: ${shown(raw)} is not a JSON object` });
  const data = raw['data'];
  const msgType = isRecord(data) && typeof data['msg_type'] === 'string' ? data['msg_type'] : undefined;
  const fail = (log: string): Result<Envelope, EnvelopeError> => err(msgType === undefined ? { log } : { log, msgType });
  if (!('version' in raw)) return fail('failed to parse version');
  if (raw['version'] !== SG_VERSION) return fail(`invalid guest agent message version ${shown(raw['version'])}, expecting ${SG_VERSION}`);
  const out: { version: number; destAddr?: string; sourceAddr?: string; sourceInstance?: string; data: Record<string, unknown> } = { version: SG_VERSION, data: {} };
  for (const [key, field, needed] of [
    ['source_addr', 'sourceAddr', needs.sourceAddr],
    ['dest_addr', 'destAddr', needs.destAddr],
  ] as const) {
    if (!needed && raw[key] === undefined) continue;
    const a = address(raw, key);
    if (!a.ok) return fail(a.error);
    out[field] = a.value;
  }
  if (typeof raw['source_instance'] === 'string') out.sourceInstance = raw['source_instance'];
  if (!isRecord(data)) return fail('failed to parse data');
  out.data = data;
  return ok(out);
}

/** An envelope as its framed line: `\n{"version":2,…,"data":{…}}\n`. */
export function encodeEnvelope(e: Envelope): string {
  const o: Record<string, unknown> = { version: e.version };
  if (e.sourceAddr !== undefined) o['source_addr'] = e.sourceAddr;
  if (e.destAddr !== undefined) o['dest_addr'] = e.destAddr;
  if (e.sourceInstance !== undefined) o['source_instance'] = e.sourceInstance;
  o['data'] = e.data;
  return `\n${JSON.stringify(o)}\n`;
}
