import { Packr } from 'msgpackr';
import { err, ok, type Result } from '../util/result.js';

/** The one msgpackr configuration for everything the cluster writes to the log, snapshots or the wire. */
const packr = new Packr({ useRecords: false });

export function encode(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Bytes from the log, a snapshot or a peer: decoded, or why not (never throws). */
export function decode(data: Uint8Array, what: string): Result<unknown, string> {
  try {
    return ok(packr.unpack(data));
  } catch (e) {
    return err(`${what}: undecodable (${(e as Error).message})`);
  }
}
