/**
 * The validated shapes of everything a client sends: bodies, path parameters and query strings.
 * The CLI client reuses them for what it sends, so both ends agree on one definition.
 */
import { z } from 'zod';
import { AdminKind, AdminOp, Recovery } from '../model/vocabulary.js';

/** Entity names as groups.conf allows them (no slash, no whitespace, bounded). */
export const EntityName = z.string().regex(/^[^\s/]{1,255}$/, 'an entity name: 1-255 characters, no "/" or whitespace');

/** Bounded so a huge body cannot be accepted by the schema even below the byte limit. */
export const PutConfigBody = z.strictObject({ text: z.string().max(4 * 1024 * 1024) });

export const ReportErrorBody = z.strictObject({
  recovery: Recovery.default('no-recommendation'),
  reason: z.string().max(1024).default('reported by an operator'),
});

/** `PUT /v1/members/{name}/seat`: the Raft seat an operator gives a node the configuration does not name. */
export const SeatBody = z.strictObject({ seat: z.enum(['voter', 'nonvoter', 'none']) });
export type Seat = z.infer<typeof SeatBody>['seat'];

export const AdminParams = z.object({
  kind: AdminKind,
  name: EntityName,
  op: AdminOp,
});

/** The body of an admin operation: none (or {}); the operation is in the path. */
export const NoBody = z.strictObject({});
/** `migrate`: the destination node. */
export const MigrateBody = z.strictObject({ to: EntityName });

/** `?since=N`: the last seq the reader has seen. */
export const Seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** `If-Match: 7` or `If-Match: "7"` (an ETag). */
export const EpochTag = z
  .string()
  .regex(/^"?\d{1,15}"?$/, 'an epoch such as 7 or "7" (the ETag of GET /v1/config)')
  .transform((s) => Number(s.replaceAll('"', '')));

/** A flag in the query string: present, `1` or `true` turns it on; `0` or `false` off. */
export function flag(v: string | null): boolean | undefined {
  if (v === null) return false;
  if (v === '' || v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return undefined;
}
