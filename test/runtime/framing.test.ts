import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, frameHeader } from '../../src/runtime/node/framing.js';

/** Feed a chunk and take every frame it completes, and where it stopped (too large, over budget). */
function push(d: FrameDecoder, chunk: Buffer): { frames: Uint8Array[]; tooLarge?: number } {
  d.feed(chunk);
  const frames: Uint8Array[] = [];
  for (let r = d.next(); r !== undefined; r = d.next()) {
    if (r.kind !== 'frame') return { frames, tooLarge: r.length };
    frames.push(r.frame);
  }
  return { frames };
}

function encode(frames: Uint8Array[]): Buffer {
  return Buffer.concat(frames.flatMap((f) => [frameHeader(f.length), Buffer.from(f)]));
}

/** Cut bytes at the given (sorted, deduplicated) positions. */
function cut(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

test('frames cut at arbitrary points are reassembled exactly', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (frames, cuts) => {
        const d = new FrameDecoder(1000);
        const got: Uint8Array[] = [];
        for (const chunk of cut(encode(frames), cuts)) {
          const r = push(d, chunk);
          assert.equal(r.tooLarge, undefined);
          got.push(...r.frames);
        }
        assert.deepEqual(got.map((f) => Buffer.from(f)), frames.map((f) => Buffer.from(f)));
      },
    ),
  );
});

test('a header above the maximum is reported before its body arrives, after the frames before it', () => {
  const d = new FrameDecoder(10);
  const bytes = Buffer.concat([frameHeader(3), Buffer.from('abc'), frameHeader(11)]);
  const r = push(d, bytes);
  assert.deepEqual(r.frames.map((f) => Buffer.from(f).toString()), ['abc']);
  assert.equal(r.tooLarge, 11);
});

test('a frame of exactly the maximum is accepted', () => {
  const d = new FrameDecoder(10);
  const r = push(d, Buffer.concat([frameHeader(10), Buffer.alloc(10, 1)]));
  assert.equal(r.tooLarge, undefined);
  assert.equal(r.frames[0]?.length, 10);
});

test('the limit may change between two frames of one chunk (a handshake, then the first frame after it)', () => {
  const d = new FrameDecoder(4);
  d.feed(Buffer.concat([frameHeader(3), Buffer.from('hi!'), frameHeader(8), Buffer.from('12345678')]));
  const first = d.next();
  assert.ok(first?.kind === 'frame' && Buffer.from(first.frame).toString() === 'hi!');
  d.maxFrameSize = 16;
  const second = d.next();
  assert.ok(second?.kind === 'frame' && second.frame.length === 8, 'admitted before the second header was read');
});
