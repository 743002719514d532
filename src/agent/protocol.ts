/**
 * The component API wire protocol (docs/component-api.md): one JSON object per frame, frames
 * length-prefixed by the stream transport. Every frame carries `v` (PROTOCOL_VERSION). Shared by
 * the agent's server and the client library in src/client, so the two cannot drift apart. Each
 * frame type is its zod schema's type: what is sent is exactly what the other side validates.
 */
import { z } from 'zod';
import { HaState, Recovery } from '../model/vocabulary.js';
import { err, ok, type Result } from '../util/result.js';

export const PROTOCOL_VERSION = 1;
/** The largest frame either side accepts; the transport closes a connection that sends a bigger one. */
export const MAX_FRAME_BYTES = 64 * 1024;

const name = z.string().min(1).max(256);
const requestId = z.number().int().nonnegative();
const result = z.enum(['ok', 'failed']);
/** The longest reason a component may give with a failed callback response. */
export const MAX_FAILURE_MESSAGE = 1024;
const v = z.literal(PROTOCOL_VERSION);

/** Requests from a component to the agent. Each carries an `id` echoed in the reply. */
export const ClientFrame = z.discriminatedUnion('type', [
  z.object({ v, type: z.literal('register'), id: requestId, comp: name, secret: z.string().min(1).max(256) }),
  z.object({ v, type: z.literal('unregister'), id: requestId }),
  z.object({
    v,
    type: z.literal('healthcheck-start'),
    id: requestId,
    key: z.string().min(1).max(32),
    invocation: z.enum(['amf', 'component']),
    recovery: Recovery.default('no-recommendation'),
  }),
  z.object({ v, type: z.literal('healthcheck-stop'), id: requestId, key: z.string().min(1).max(32) }),
  z.object({ v, type: z.literal('healthcheck-confirm'), id: requestId, key: z.string().min(1).max(32), result }),
  z.object({ v, type: z.literal('quiescing-complete'), id: requestId, invocation: requestId, result }),
  z.object({ v, type: z.literal('error-report'), id: requestId, recovery: Recovery, reason: z.string().max(1024).optional() }),
  z.object({ v, type: z.literal('error-clear'), id: requestId }),
  z.object({ v, type: z.literal('pg-track'), id: requestId, csi: name, flags: z.enum(['current', 'changes', 'changes-only']) }),
  z.object({ v, type: z.literal('pg-track-stop'), id: requestId, csi: name }),
  z.object({ v, type: z.literal('ha-state-get'), id: requestId, csi: name }),
  /** The answer to a callback (csi-set, csi-remove, healthcheck, terminate). */
  // `message`: why a callback answered failed, for the error the agent reports (e.g. a CSI set).
  z.object({ v, type: z.literal('response'), id: requestId, invocation: requestId, result, message: z.string().max(MAX_FAILURE_MESSAGE).optional() }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
export type ClientFrameType = ClientFrame['type'];

export const ERROR_CODES = [
  'bad-frame',
  'unsupported-version',
  'not-registered',
  'already-registered',
  'unknown-component',
  'not-owner',
  'bad-state',
  'unknown-key',
  'exists',
  'unknown-invocation',
  'not-assigned',
  'busy',
] as const;
export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const PgMember = z.object({ comp: z.string(), haState: HaState });
export type PgMember = z.infer<typeof PgMember>;
export const PgChange = PgMember.extend({ change: z.enum(['added', 'removed', 'state-change']) });
export type PgChange = z.infer<typeof PgChange>;

/** Frames from the agent to a component, validated by the client too. */
export const ServerFrame = z.discriminatedUnion('type', [
  z.discriminatedUnion('ok', [
    z.object({ v, type: z.literal('reply'), id: requestId, ok: z.literal(true), data: z.unknown().optional() }),
    z.object({ v, type: z.literal('reply'), id: requestId, ok: z.literal(false), code: ErrorCode, message: z.string() }),
  ]),
  /** A frame that could not be tied to a request (unparseable, no id). */
  z.object({ v, type: z.literal('error'), code: ErrorCode, message: z.string() }),
  z.object({
    v,
    type: z.literal('csi-set'),
    invocation: requestId,
    si: name,
    csi: name,
    csiType: z.string(),
    haState: HaState,
    /** The first value of each attribute name. */
    attributes: z.record(z.string(), z.string()),
    /** Every attribute in configuration order, a multi-valued one once per value (SaAmfCSIAttributeListT). */
    attributeList: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
  }),
  z.object({ v, type: z.literal('csi-remove'), invocation: requestId, si: name, csi: name }),
  z.object({ v, type: z.literal('healthcheck'), invocation: requestId, key: z.string() }),
  z.object({ v, type: z.literal('terminate'), invocation: requestId }),
  z.object({ v, type: z.literal('pg-update'), csi: name, members: z.array(PgMember), changes: z.array(PgChange) }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

export interface DecodeError {
  readonly code: 'bad-frame' | 'unsupported-version';
  readonly message: string;
  /** The request id when the frame had a usable one, so the error can be sent as its reply. */
  readonly id?: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export function encodeFrame(frame: ServerFrame | ClientFrame): Uint8Array {
  return encoder.encode(JSON.stringify(frame));
}

/** Parse and validate one frame against a schema; never throws. Other JSON-frame protocols pass their own version. */
export function decodeFrame<T>(bytes: Uint8Array, schema: z.ZodType<T>, version: number = PROTOCOL_VERSION): Result<T, DecodeError> {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch (e) {
    return err({ code: 'bad-frame', message: `not UTF-8 JSON: ${e instanceof Error ? e.message : String(e)}` });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return err({ code: 'bad-frame', message: 'frame is not a JSON object' });
  const rec = raw as Record<string, unknown>;
  const id = typeof rec.id === 'number' && Number.isInteger(rec.id) && rec.id >= 0 ? rec.id : undefined;
  const withId = <E extends DecodeError>(e: E): DecodeError => (id === undefined ? e : { ...e, id });
  if (rec.v !== version) return err(withId({ code: 'unsupported-version', message: `protocol version ${JSON.stringify(rec.v)} not supported (this side speaks ${version})` }));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at '${issue.path.join('.')}'` : '';
    return err(withId({ code: 'bad-frame', message: `invalid ${typeof rec.type === 'string' ? `'${rec.type}' ` : ''}frame${where}: ${issue?.message ?? 'does not match the protocol'}` }));
  }
  return ok(parsed.data);
}
