import { assert } from '../../util/assert.js';

/** Each frame on a stream is a 4-byte big-endian length, then that many bytes. */
export const FRAME_HEADER_BYTES = 4;
/** The largest length the header can carry. */
export const MAX_FRAME_LENGTH = 0xffff_ffff;

export function frameHeader(length: number): Buffer {
  assert(Number.isInteger(length) && length >= 0 && length <= MAX_FRAME_LENGTH, `frame length ${length}`);
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h.writeUInt32BE(length, 0);
  return h;
}

/** The frames completed by a chunk; tooLarge is the announced length of an oversized frame after them. */
export interface DecodeResult {
  readonly frames: Uint8Array[];
  readonly tooLarge?: number;
}

/**
 * Reassembles frames from chunks cut anywhere. Pure: no I/O. Rejects a header announcing more
 * than maxFrameSize before buffering any of its body, so a peer cannot make us allocate it.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being assembled, once its header has been read. */
  private need: number | undefined;

  constructor(private readonly maxFrameSize: number) {}

  push(chunk: Buffer): DecodeResult {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.need === undefined) {
        if (this.buffered < FRAME_HEADER_BYTES) break;
        const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameSize) return { frames, tooLarge: length };
        this.need = length;
      }
      if (this.buffered < this.need) break;
      const body = this.take(this.need);
      frames.push(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
      this.need = undefined;
    }
    return { frames };
  }

  /** Remove and return the first n buffered bytes (a copy only when they span chunks). */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0];
    if (first !== undefined && first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0];
      assert(c !== undefined, 'frame decoder: ran out of chunks');
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    return out;
  }
}
