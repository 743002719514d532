/**
 * Client writes (configuration, admin operations, operator error reports) from any node to the
 * Raft leader: one stream connection per request to the leader's rpc address, one request frame,
 * one answer frame. The leader stamps the entry's time and proposes it. Writes are rare, so no
 * connection is kept. Frames are validated; a malformed one gets an error answer or is dropped.
 */
import { z } from 'zod';
import type { RaftError } from '../raft/driver/types.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { ListenOptions, StreamConnection, StreamNetwork } from '../runtime/ports/stream.js';
import { err, ok, type Result } from '../util/result.js';
import { decode, encode } from './codec.js';
import { exchange } from './exchange.js';
import { validateEntry, type ClusterEntry } from './entries.js';
import { ApplyResult } from './fsm.js';
import { isVoteRequest, serveVote, type VoteAnswer, type VoteRequest } from './votes.js';

export type ClientEntry = Extract<ClusterEntry, { type: 'config-set' | 'admin' | 'operator-report' | 'admit' | 'guest-heartbeat' }>;
export type ClientRequest = ClientEntry extends infer E ? (E extends ClientEntry ? Omit<E, 'time'> : never) : never;

/**
 * Why a write was not done: refused before it was proposed (`not-leader`, `no-leader`, ...) or by
 * Raft (its error kinds; `timeout` and `leadershipLost` mean unknown: it may still commit).
 */
const RAFT_ERRORS = ['notLeader', 'rejected', 'timeout', 'leadershipLost', 'shutdown'] as const satisfies readonly RaftError['kind'][];
/** `vetoed`: an admin operation refused before it was proposed, by a vote of what it would stop (votes.ts). */
export const SubmitError = z.enum(['not-leader', 'no-leader', 'not-started', 'unreachable', 'too-large', 'bad-request', 'malformed-answer', 'vetoed', ...RAFT_ERRORS]);
export type SubmitError = z.infer<typeof SubmitError>;

/**
 * `result`: the FSM's answer once committed (it may refuse: stale epoch, invalid config, invalid
 * admin operation). Otherwise `code` says why not (and `error` in words). Also the answer frame.
 */
export const ClientResult = z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), result: ApplyResult }), z.object({ ok: z.literal(false), code: SubmitError, error: z.string() })]);
export type ClientResult = z.infer<typeof ClientResult>;

export const notDone = (code: SubmitError, error: string = code): ClientResult => ({ ok: false, code, error });

const CLIENT_TYPES = new Set(['config-set', 'admin', 'operator-report', 'admit', 'guest-heartbeat']);

/**
 * The rpc listener's limits. In clear the request is all a client sends, so it is the handshake:
 * at most 2 MiB (the API takes bodies up to 1 MiB) within 10 s; the connection is admitted once the
 * request validates, and closes after the answer. Sealed, the seal's handshake comes first.
 */
export const RPC_LISTEN_OPTIONS: ListenOptions = {
  handshake: { maxFrameSize: 2 * 1024 * 1024, timeoutMs: 10_000, maxPending: 64, maxPendingPerHost: 16 },
  maxConnections: 256,
};

export function validateRequest(x: unknown): Result<ClientRequest, string> {
  if (typeof x !== 'object' || x === null) return err('request: not an object');
  const t = (x as { type?: unknown }).type;
  if (typeof t !== 'string' || !CLIENT_TYPES.has(t)) return err(`request: type '${String(t)}' is not a client write`);
  const e = validateEntry({ ...x, v: 1, time: 0 });
  if (!e.ok) return e;
  const { time: _time, ...req } = e.value as ClientEntry;
  return ok(req as ClientRequest);
}

/** Serve forwarded writes (and vote requests, votes.ts) on a connection: `handle` proposes (or says not-leader). */
export function serveForwarded(conn: StreamConnection, handle: (req: ClientRequest) => Promise<ClientResult>, onBad: (why: string) => void, vote?: (req: VoteRequest) => Promise<VoteAnswer>): void {
  conn.onFrame((frame) => {
    const raw = decode(frame, 'forwarded request');
    if (raw.ok && vote !== undefined && isVoteRequest(raw.value)) return serveVote(conn, raw.value, vote, onBad);
    const req = raw.ok ? validateRequest(raw.value) : raw;
    if (!req.ok) {
      onBad(req.error);
      conn.send(encode(notDone('bad-request', `bad request: ${req.error}`)));
      conn.close();
      return;
    }
    conn.admit();
    void handle(req.value).then((r) => {
      if (!conn.closed) conn.send(encode(r));
      conn.close();
    });
  });
}

/** Send one write to `address` and wait for its answer (at most timeoutMs). */
export async function forward(net: StreamNetwork, clock: Clock, address: string, req: ClientRequest, timeoutMs: number): Promise<ClientResult> {
  const a = await exchange(net, clock, address, req, timeoutMs);
  if (!a.ok) {
    switch (a.error.kind) {
      case 'unreachable':
        return notDone('unreachable', `leader unreachable: ${a.error.detail}`);
      case 'too-large':
        return notDone('too-large', `request of ${a.error.bytes} bytes exceeds the frame limit ${a.error.limit}`);
      // Unknown outcome: the leader may still commit it.
      case 'timeout':
        return notDone('timeout');
      case 'closed':
        return notDone('leadershipLost');
      case 'undecodable':
        return notDone('malformed-answer', 'malformed answer from the leader');
    }
  }
  const r = ClientResult.safeParse(a.value);
  return r.success ? r.data : notDone('malformed-answer', 'malformed answer from the leader');
}
