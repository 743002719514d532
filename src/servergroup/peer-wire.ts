/**
 * What one host tells another about server groups, as the payload of a gossip-channel message:
 * a broadcast to the members the receiving node hosts. msgpack, so a broadcast's 3050 bytes of data
 * travel as they are (JSON escaping could grow them sixfold past a datagram).
 *
 *   [1, 'b', group, source_instance, [dest_instance…], data]
 */
import { Packr } from 'msgpackr';
import { err, ok, type Result } from '../util/result.js';
import { MAX_INSTANCE_NAME } from './config.js';
import { checkBroadcastData } from './messages.js';

const PEER_WIRE_VERSION = 1;
/** Members of one group one packet may name: far above any real server group. */
const MAX_DESTS = 1024;
const MAX_GROUP_NAME = 128;

const packr = new Packr({ useRecords: false });

export interface PeerBroadcast {
  readonly group: string;
  readonly source: string;
  readonly dests: readonly string[];
  readonly data: string;
}

export function encodePeerBroadcast(b: PeerBroadcast): Uint8Array {
  return new Uint8Array(packr.pack([PEER_WIRE_VERSION, 'b', b.group, b.source, b.dests, b.data]));
}

const name = (v: unknown, max: number): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;

/** A peer's packet, validated field by field; never throws. */
export function decodePeerBroadcast(bytes: Uint8Array): Result<PeerBroadcast, string> {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch (e) {
    return err(`undecodable (${(e as Error).message})`);
  }
  if (!Array.isArray(raw) || raw.length !== 6) return err('not a server-group packet');
  const [v, kind, group, source, dests, data] = raw as unknown[];
  if (v !== PEER_WIRE_VERSION) return err(`unsupported version ${String(v)}`);
  if (kind !== 'b') return err(`unknown kind ${String(kind)}`);
  if (!name(group, MAX_GROUP_NAME)) return err('bad group name');
  if (!name(source, MAX_INSTANCE_NAME)) return err('bad source instance');
  if (!Array.isArray(dests) || dests.length === 0 || dests.length > MAX_DESTS || !dests.every((d) => name(d, MAX_INSTANCE_NAME))) return err('bad destination list');
  if (typeof data !== 'string') return err('data is not a string');
  const bad = checkBroadcastData(data);
  if (bad !== undefined) return err(bad);
  return ok({ group, source, dests: dests as string[], data });
}
