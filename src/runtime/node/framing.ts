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

/**
 * Bytes of incomplete frames, over all the connections of a network: a frame's announced length
 * is reserved when its header arrives and released when it is complete (or its connection ends),
 * so what all the peers together can make us buffer is bounded, whoever they are.
 */
export class ReceiveBudget {
  private used = 0;

  constructor(readonly capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, `receive budget ${capacity}`);
  }

  get reserved(): number {
    return this.used;
  }

  reserve(n: number): boolean {
    if (this.used + n > this.capacity) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    this.used -= n;
    assert(this.used >= 0, 'receive budget released more than reserved');
  }
}

/**
 * Reassembles frames from chunks cut anywhere. Pure: no I/O. Rejects a header announcing more
 * than maxFrameSize (or more than the budget has room for) before buffering any of its body, so a
 * peer cannot make us allocate it. maxFrameSize may change between chunks (a handshake's limit,
 * then the connection's own).
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being assembled, once its header has been read (and reserved). */
  private need: number | undefined;

  constructor(
    public maxFrameSize: number,
    /** Default: a budget of its own, no bound beyond maxFrameSize. */
    private readonly budget: ReceiveBudget = new ReceiveBudget(Number.MAX_SAFE_INTEGER),
  ) {}

  /** Buffer a chunk; next() takes the frames out. */
  feed(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /**
   * The next complete frame, or why the stream cannot go on, or undefined (more bytes needed).
   * One at a time, so the user may change maxFrameSize (admit a connection) between two frames
   * that arrived in one chunk: a handshake's last frame and the first frame after it.
   */
  next(): { kind: 'frame'; frame: Uint8Array } | { kind: 'too-large' | 'over-budget'; length: number } | undefined {
    if (this.need === undefined) {
      if (this.buffered < FRAME_HEADER_BYTES) return undefined;
      const length = this.take(FRAME_HEADER_BYTES).readUInt32BE(0);
      if (length > this.maxFrameSize) return { kind: 'too-large', length };
      if (!this.budget.reserve(length)) return { kind: 'over-budget', length };
      this.need = length;
    }
    if (this.buffered < this.need) return undefined;
    const body = this.take(this.need);
    this.budget.release(this.need);
    this.need = undefined;
    return { kind: 'frame', frame: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) };
  }

  /** The connection ended: give back the reservation of a frame cut off midway, drop the bytes. */
  dispose(): void {
    if (this.need !== undefined) this.budget.release(this.need);
    this.need = undefined;
    this.chunks = [];
    this.buffered = 0;
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
