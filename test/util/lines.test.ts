import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LineDecoder } from '../../src/util/lines.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);


describe('LineDecoder', () => {
  it('splits \\n-framed messages and skips the empty lines of the framing', () => {
    const d = new LineDecoder(100);
    assert.deepEqual(d.push(enc('\n{"a":1}\n\n{"b":2}\n')).lines, ['{"a":1}', '{"b":2}']);
  });

  it('gives the same lines however the bytes are cut (multi-byte characters included)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/\n/g, '')), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (msgs, cuts) => {
        const bytes = enc(msgs.map((m) => `\n${m}\n`).join(''));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const d = new LineDecoder(1000);
        const lines: string[] = [];
        let at = 0;
        for (const p of [...points, bytes.length]) {
          lines.push(...d.push(bytes.subarray(at, p)).lines);
          at = p;
        }
        assert.deepEqual(lines, msgs.filter((m) => m.length > 0));
      }),
    );
  });

  it('drops a line over the cap without buffering it, and keeps going', () => {
    const d = new LineDecoder(10);
    assert.deepEqual(d.push(enc('\nshort\n0123456789AB')).lines, ['short']);
    const r = d.push(enc('CDEF\nok\n'));
    assert.deepEqual(r.items, [{ drop: { reason: 'too-long', bytes: 16 } }, { line: 'ok' }], 'in stream order');
    assert.deepEqual([r.lines, r.dropped], [['ok'], [{ reason: 'too-long', bytes: 16 }]]);
  });

  it('drops a line that is not UTF-8', () => {
    const d = new LineDecoder(100);
    const r = d.push(new Uint8Array([0x0a, 0xff, 0xfe, 0x0a, 0x41, 0x0a]));
    assert.deepEqual(r.items, [{ drop: { reason: 'not-utf8', bytes: 2 } }, { line: 'A' }]);
  });

  it('reset() forgets a partial line', () => {
    const d = new LineDecoder(100);
    d.push(enc('{"partial'));
    d.reset();
    assert.deepEqual(d.push(enc('x\n')).lines, ['x']);
  });
});
