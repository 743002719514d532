import { err, ok, type Result } from '../../util/result.js';
import { MESSAGE_TYPES, type ConfState, type Entry, type Message, type SnapshotMeta } from './types.js';

/**
 * Checks an untrusted decoded value (a transport frame) against the Message union. Hostile or
 * malformed input yields a message naming the field; nothing here throws.
 */
export function validateMessage(v: unknown): Result<Message, string> {
  try {
    return ok(checkMessage(v));
  } catch (e) {
    if (e instanceof Invalid) return err(e.message);
    throw e;
  }
}

class Invalid extends Error {}

const MAX_ID_LEN = 256;
const MAX_CONTEXT_LEN = 4096;

function fail(field: string, why: string): never {
  throw new Invalid(`raft message: field ${field} ${why}`);
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'must be an object');
  return v as Record<string, unknown>;
}

function uint(o: Record<string, unknown>, k: string, path = k): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(path, 'must be a non-negative safe integer');
  return v;
}

function bool(o: Record<string, unknown>, k: string): boolean {
  const v = o[k];
  if (typeof v !== 'boolean') fail(k, 'must be a boolean');
  return v;
}

function str(o: Record<string, unknown>, k: string, max: number, nonEmpty: boolean, path = k): string {
  const v = o[k];
  if (typeof v !== 'string') fail(path, 'must be a string');
  if (v.length > max) fail(path, `is longer than ${max}`);
  if (nonEmpty && v === '') fail(path, 'must not be empty');
  return v;
}

function bytes(o: Record<string, unknown>, k: string, path = k): Uint8Array {
  const v = o[k];
  if (!(v instanceof Uint8Array)) fail(path, 'must be bytes');
  return v;
}

function ids(v: unknown, path: string): string[] {
  if (!Array.isArray(v)) fail(path, 'must be an array');
  const out: string[] = [];
  for (const [i, x] of v.entries()) {
    if (typeof x !== 'string' || x === '' || x.length > MAX_ID_LEN) fail(`${path}[${i}]`, 'must be a node id');
    out.push(x);
  }
  if (new Set(out).size !== out.length) fail(path, 'has duplicates');
  return out;
}

function confState(v: unknown, path: string): ConfState {
  const o = obj(v, path);
  const voters = ids(o.voters, `${path}.voters`);
  const learners = ids(o.learners, `${path}.learners`);
  if (voters.some((x) => learners.includes(x))) fail(path, 'lists a node as both voter and learner');
  return { voters, learners };
}

function snapshotMeta(v: unknown, path: string): SnapshotMeta {
  const o = obj(v, path);
  return { index: uint(o, 'index', `${path}.index`), term: uint(o, 'term', `${path}.term`), confState: confState(o.confState, `${path}.confState`) };
}

function entries(v: unknown, prevIndex: number): Entry[] {
  if (!Array.isArray(v)) fail('entries', 'must be an array');
  const out: Entry[] = [];
  for (const [i, x] of v.entries()) {
    const path = `entries[${i}]`;
    const o = obj(x, path);
    const index = uint(o, 'index', `${path}.index`);
    const term = uint(o, 'term', `${path}.term`);
    if (index !== prevIndex + 1 + i) fail(`${path}.index`, `must be ${prevIndex + 1 + i}`);
    if (term === 0) fail(`${path}.term`, 'must be positive');
    const prev = out[i - 1];
    if (prev !== undefined && term < prev.term) fail(`${path}.term`, 'must not decrease');
    const type = o.type;
    if (type !== 'normal' && type !== 'confChange' && type !== 'noop') fail(`${path}.type`, 'must be normal|confChange|noop');
    out.push({ index, term, type, data: bytes(o, 'data', `${path}.data`) });
  }
  return out;
}

function checkMessage(v: unknown): Message {
  const o = obj(v, 'message');
  const type = o.type;
  if (typeof type !== 'string' || !(MESSAGE_TYPES as readonly string[]).includes(type)) fail('type', 'is not a known message type');
  const from = str(o, 'from', MAX_ID_LEN, true);
  const to = str(o, 'to', MAX_ID_LEN, true);
  const term = uint(o, 'term');
  const base = { from, to, term };
  switch (type) {
    case 'appendEntries': {
      const prevIndex = uint(o, 'prevIndex');
      const prevTerm = uint(o, 'prevTerm');
      const es = entries(o.entries, prevIndex);
      const last = es[es.length - 1];
      if (last !== undefined && last.term > term) fail('entries', 'hold a term above the message term');
      if (es[0] !== undefined && es[0].term < prevTerm) fail('entries', 'start below prevTerm');
      return { ...base, type, prevIndex, prevTerm, entries: es, commit: uint(o, 'commit') };
    }
    case 'appendEntriesResponse':
      return { ...base, type, index: uint(o, 'index'), reject: bool(o, 'reject'), rejectHint: uint(o, 'rejectHint'), hintTerm: uint(o, 'hintTerm') };
    case 'heartbeat':
      return { ...base, type, commit: uint(o, 'commit'), context: str(o, 'context', MAX_CONTEXT_LEN, false) };
    case 'heartbeatResponse':
      return { ...base, type, context: str(o, 'context', MAX_CONTEXT_LEN, false) };
    case 'requestVote':
    case 'requestPreVote':
      return { ...base, type, lastLogIndex: uint(o, 'lastLogIndex'), lastLogTerm: uint(o, 'lastLogTerm'), transfer: bool(o, 'transfer') };
    case 'requestVoteResponse':
    case 'requestPreVoteResponse': {
      const m = { ...base, type, reject: bool(o, 'reject') };
      if (o.commit === undefined && o.commitTerm === undefined) return m;
      return { ...m, commit: uint(o, 'commit'), commitTerm: uint(o, 'commitTerm') };
    }
    case 'installSnapshot': {
      const meta = snapshotMeta(o.meta, 'meta');
      const offset = uint(o, 'offset');
      const data = bytes(o, 'data');
      const totalSize = uint(o, 'totalSize');
      const done = bool(o, 'done');
      if (offset + data.length > totalSize) fail('data', 'runs past totalSize');
      if (done !== (offset + data.length === totalSize)) fail('done', 'disagrees with offset+length vs totalSize');
      if (meta.index === 0 || meta.term === 0) fail('meta', 'must describe a non-empty snapshot');
      return { ...base, type, meta, offset, data, totalSize, done };
    }
    case 'installSnapshotResponse':
      return { ...base, type, snapshotIndex: uint(o, 'snapshotIndex'), received: uint(o, 'received'), reject: bool(o, 'reject') };
    case 'timeoutNow':
      return { ...base, type };
    case 'readIndex':
      return { ...base, type, context: str(o, 'context', MAX_CONTEXT_LEN, false) };
    case 'readIndexResponse':
      return { ...base, type, context: str(o, 'context', MAX_CONTEXT_LEN, false), index: uint(o, 'index') };
    default:
      return fail('type', 'is not a known message type');
  }
}
