/**
 * Node ↔ leader datagrams: a node renews its lease and carries its unacknowledged reports in one
 * `renew`; the leader answers `grant` (lease renewed, reports applied through `reportSeq`) or
 * `deny`. Loss is harmless: the node renews on a short period and resends every report until it
 * is acknowledged. Validated on receipt; anything malformed is dropped and counted by the caller.
 */
import { err, ok, type Result } from '../util/result.js';
import { decode, encode } from './codec.js';
import { type ReportItem, validateReport } from './entries.js';

export const WIRE_VERSION = 1;

export interface RenewMsg {
  readonly t: 'renew';
  readonly node: string;
  readonly inc: string;
  /** Per incarnation; the grant names it so the node knows when it sent the renewal. */
  readonly seq: number;
  readonly reports: readonly ReportItem[];
  readonly executedThrough: number;
  /** The leader's challenge to this (new) incarnation, echoed to prove it is live, not replayed. */
  readonly challenge?: string;
}

export interface GrantMsg {
  readonly t: 'grant';
  readonly inc: string;
  readonly seq: number;
  /** Reports of this incarnation applied so far. */
  readonly reportSeq: number;
}

/**
 * `stale`: this incarnation was declared down; the node must clean up and come back as a new one.
 * `wait`: the leader cannot grant yet (joining, condemned, not leader any more).
 */
export interface DenyMsg {
  readonly t: 'deny';
  readonly inc: string;
  readonly seq: number;
  readonly reason: 'stale' | 'wait';
  /** With `wait` to an incarnation the FSM does not know: echo this in the next renewals. */
  readonly challenge?: string;
}

export type WireMsg = RenewMsg | GrantMsg | DenyMsg;

export function encodeWire(m: WireMsg): Uint8Array {
  return encode({ v: WIRE_VERSION, ...m });
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const isSeq = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isChallenge = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= 64;

export function decodeWire(data: Uint8Array): Result<WireMsg, string> {
  const raw = decode(data, 'cluster datagram');
  if (!raw.ok) return raw;
  const x = raw.value as Record<string, unknown> | null;
  if (typeof x !== 'object' || x === null || x.v !== WIRE_VERSION) return err('cluster datagram: not a version 1 message');
  if (!isStr(x.inc) || !isSeq(x.seq)) return err(`cluster datagram ${String(x.t)}: needs inc and seq`);
  switch (x.t) {
    case 'renew': {
      if (!isStr(x.node) || !isSeq(x.executedThrough) || !Array.isArray(x.reports)) return err('renew: needs node, executedThrough, reports');
      const reports: ReportItem[] = [];
      for (const it of x.reports as unknown[]) {
        const item = it as Record<string, unknown> | null;
        if (typeof item !== 'object' || item === null || !isSeq(item.seq) || item.seq === 0) return err('renew: report needs a positive seq');
        const r = validateReport(item.input);
        if (!r.ok) return err(`renew: ${r.error}`);
        reports.push({ seq: item.seq, input: r.value });
      }
      if (x.challenge !== undefined && !isChallenge(x.challenge)) return err('renew: bad challenge');
      const challenge = x.challenge === undefined ? {} : { challenge: x.challenge };
      return ok({ t: 'renew', node: x.node, inc: x.inc, seq: x.seq, reports, executedThrough: x.executedThrough, ...challenge });
    }
    case 'grant':
      if (!isSeq(x.reportSeq)) return err('grant: needs reportSeq');
      return ok({ t: 'grant', inc: x.inc, seq: x.seq, reportSeq: x.reportSeq });
    case 'deny':
      if (x.reason !== 'stale' && x.reason !== 'wait') return err('deny: bad reason');
      if (x.challenge !== undefined && !isChallenge(x.challenge)) return err('deny: bad challenge');
      return ok({ t: 'deny', inc: x.inc, seq: x.seq, reason: x.reason, ...(x.challenge === undefined ? {} : { challenge: x.challenge }) });
    default:
      return err(`cluster datagram: unknown type '${String(x.t)}'`);
  }
}

/** What a node announces in its SWIM metadata: where its Raft and lease endpoints are. */
export interface NodeMeta {
  readonly raft: string;
  readonly rpc: string;
  /** Member of a Raft configuration already (a formed cluster exists: never bootstrap another). */
  readonly formed: boolean;
}

export function encodeMeta(m: NodeMeta): Uint8Array {
  return encode({ r: m.raft, c: m.rpc, f: m.formed });
}

export function decodeMeta(data: Uint8Array): NodeMeta | undefined {
  if (data.length === 0) return undefined;
  const raw = decode(data, 'node meta');
  if (!raw.ok) return undefined;
  const x = raw.value as Record<string, unknown> | null;
  if (typeof x !== 'object' || x === null || !isStr(x.r) || !isStr(x.c) || typeof x.f !== 'boolean') return undefined;
  return { raft: x.r, rpc: x.c, formed: x.f };
}
