import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FrameDecoder, frameHeader } from '../../src/runtime/node/framing.js';

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
          const r = d.push(chunk);
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
  const r = d.push(bytes);
  assert.deepEqual(r.frames.map((f) => Buffer.from(f).toString()), ['abc']);
  assert.equal(r.tooLarge, 11);
});

test('a frame of exactly the maximum is accepted', () => {
  const d = new FrameDecoder(10);
  const r = d.push(Buffer.concat([frameHeader(10), Buffer.alloc(10, 1)]));
  assert.equal(r.tooLarge, undefined);
  assert.equal(r.frames[0]?.length, 10);
});
