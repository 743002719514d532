import { Packr } from 'msgpackr';

/** The one msgpackr configuration for everything raft writes to disk or the wire. */
export const packr = new Packr({ useRecords: false });

/** msgpackr hands back Buffers that may share a pooled ArrayBuffer; copy into a plain Uint8Array. */
export function toBytes(v: unknown): Uint8Array | undefined {
  return v instanceof Uint8Array ? new Uint8Array(v) : undefined;
}

/** CRC-32 (IEEE), to detect torn or corrupted snapshot blobs. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
