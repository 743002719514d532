/**
 * Votes before an admin operation is committed (a committed terminate cannot be refused): the
 * components the operation would stop, restart or take out of service are found by running the
 * engine on it (amf/affected.ts), and the node agent of each one's node is asked
 * (`NodeAgent.preTerminate`: its driver and the node services' hooks, e.g. the guest heartbeat's
 * vote). A remote node is asked over its rpc address: one connection, one request, one answer,
 * like forwarded writes. Any veto refuses the operation with its reason.
 */
import { z } from 'zod';
import type { AdminTarget } from '../amf/commands.js';
import type { AffectedComponent } from '../amf/affected.js';
import type { TerminateIntent, Veto } from '../agent/drivers/driver.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { StreamConnection, StreamNetwork } from '../runtime/ports/stream.js';
import { err, ok, type Result } from '../util/result.js';
import { encode } from './codec.js';
import { exchange } from './exchange.js';

/** A guest votes within its own vote and notice timeouts (seconds each); more than enough. */
export const VOTE_TIMEOUT_MS = 60_000;

const name = z.string().min(1).max(256);
export const VoteRequest = z.object({ type: z.literal('pre-terminate'), su: name, comp: name, action: z.enum(['stop', 'restart', 'move']), reason: z.string().max(1024) }) satisfies z.ZodType<TerminateIntent & { type: 'pre-terminate'; su: string; comp: string }>;
export type VoteRequest = z.infer<typeof VoteRequest>;

export const VoteAnswer = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), veto: z.object({ by: z.string().max(256), reason: z.string().max(4096) }).optional() }),
  z.object({ ok: z.literal(false), error: z.string().max(4096) }),
]);
export type VoteAnswer = z.infer<typeof VoteAnswer>;

/** What the operation does to a component, as the agent's pre-terminate intent. */
export function intentOf(a: AffectedComponent, op: string): Pick<VoteRequest, 'action' | 'reason'> {
  if (a.effect === 'restart') return { action: 'restart', reason: `admin ${op}` };
  if (a.effect === 'terminate') return { action: 'stop', reason: `admin ${op}` };
  return { action: 'move', reason: `admin ${op} takes it out of service` };
}

export function describeTarget(t: AdminTarget): string {
  return t.type === 'comp' ? `component ${t.su}/${t.comp}` : `${t.type.toUpperCase()} ${t.name}`;
}

/** Is this frame a vote request (else a forwarded write)? */
export function isVoteRequest(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'pre-terminate';
}

/** Answer one vote request on an rpc connection. */
export function serveVote(conn: StreamConnection, raw: unknown, vote: (req: VoteRequest) => Promise<VoteAnswer>, onBad: (why: string) => void): void {
  const req = VoteRequest.safeParse(raw);
  if (!req.success) {
    onBad(`bad vote request: ${req.error.issues[0]?.message ?? 'invalid'}`);
    conn.send(encode({ ok: false, error: 'bad vote request' } satisfies VoteAnswer));
    conn.close();
    return;
  }
  conn.admit();
  void vote(req.data).then((a) => {
    if (!conn.closed) conn.send(encode(a));
    conn.close();
  });
}

/** Ask the node at `address`; an unreachable node or a bad answer is an error (no veto). */
export async function askVote(net: StreamNetwork, clock: Clock, address: string, req: VoteRequest, timeoutMs = VOTE_TIMEOUT_MS): Promise<Result<Veto | undefined, string>> {
  const r = await exchange(net, clock, address, req, timeoutMs, Math.min(timeoutMs, 5000));
  if (!r.ok) return err(r.error.kind === 'unreachable' ? `unreachable: ${r.error.detail}` : r.error.kind === 'timeout' ? `no answer in ${timeoutMs} ms` : r.error.kind === 'closed' ? 'connection closed before the answer' : 'malformed vote answer');
  const a = VoteAnswer.safeParse(r.value);
  if (!a.success) return err('malformed vote answer');
  return a.data.ok ? ok(a.data.veto) : err(a.data.error);
}
