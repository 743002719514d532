/** Small helpers over node's request/response: JSON replies, the error shape, bounded bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { type Result, err, ok } from '../util/result.js';

/** Where the API listens unless configured otherwise (amfd's api.bind, amfctl's --addr): loopback only. */
export const DEFAULT_API_BIND = '127.0.0.1:7950';

/** An API error: sent as `{"error": {"code", "message", "details"}}` with its status. */
export interface ApiError {
  readonly status: number;
  readonly code: string;
  /** Says what went wrong and what to do next. */
  readonly message: string;
  readonly details?: unknown;
}

export function apiError(status: number, code: string, message: string, details?: unknown): ApiError {
  return { status, code, message, ...(details === undefined ? {} : { details }) };
}

export function errorBody(e: ApiError): { error: { code: string; message: string; details: unknown } } {
  return { error: { code: e.code, message: e.message, details: e.details ?? null } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: ApiError, headers: Record<string, string> = {}): void {
  sendJson(res, e.status, errorBody(e), headers);
}

/**
 * Reads a JSON body of at most `limit` bytes. An empty body reads as `{}` when `emptyOk`.
 * Oversized bodies are refused as soon as they pass the limit (without reading the rest).
 */
export async function readJson(req: IncomingMessage, limit: number, emptyOk: boolean): Promise<Result<unknown, ApiError>> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  const tooLarge = apiError(413, 'body-too-large', `the request body is larger than ${limit} bytes; send a smaller body (the limit is api.max_body_bytes)`);
  if (Number.isFinite(declared) && declared > limit) return err(tooLarge);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) return err(tooLarge);
      chunks.push(chunk);
    }
  } catch (e) {
    return err(apiError(400, 'bad-request', `the request body could not be read: ${e instanceof Error ? e.message : String(e)}`));
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') {
    return emptyOk ? ok({}) : err(apiError(400, 'bad-json', 'the request body is empty; send a JSON object'));
  }
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/json\b/i.test(type)) {
    return err(apiError(415, 'unsupported-media-type', `the body must be JSON: send it with Content-Type: application/json (got ${type === '' ? 'none' : JSON.stringify(type)})`));
  }
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (e) {
    return err(apiError(400, 'bad-json', `the request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`));
  }
}

/** Validates with a zod schema; the error lists every problem with its path. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): Result<T, ApiError> {
  const r = schema.safeParse(value);
  if (r.success) return ok(r.data);
  const details = r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
  const summary = details.map((d) => `${d.path}: ${d.message}`).join('; ');
  return err(apiError(400, 'invalid-request', `invalid ${what}: ${summary}`, details));
}
