import { Packr } from 'msgpackr';

/** The one msgpackr configuration for everything raft writes to disk or the wire. */
export const packr = new Packr({ useRecords: false });

/** msgpackr hands back Buffers that may share a pooled ArrayBuffer; copy into a plain Uint8Array. */
export function toBytes(v: unknown): Uint8Array | undefined {
  return v instanceof Uint8Array ? new Uint8Array(v) : undefined;
}
