import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { quoteScalar, quoteWord, scalarText, scanValue, splitWords } from '../../src/model/text.js';
import { loadConfig } from '../../src/model/index.js';

test('values: comments need a blank before "#", quotes keep "#" and blanks', () => {
  assert.deepEqual(scanValue(' /opt/bin#2   # note'), { raw: '/opt/bin#2', comment: ' note' });
  assert.deepEqual(scanValue(' "a # b" #c'), { raw: '"a # b"', comment: 'c' });
  assert.deepEqual(scanValue(' "open'), { raw: '"open', unterminatedQuoteAt: 1 });
  assert.equal(scalarText('"say \\"hi\\""'), 'say "hi"');
  assert.equal(scalarText('my service'), 'my service');
  assert.deepEqual(splitWords('/bin/app -D "/data dir" x""y'), ['/bin/app', '-D', '/data dir', 'xy']);
});

test('a byte-order mark, CRLF and a last line without newline are accepted', () => {
  const r = loadConfig('\uFEFFgroup {\r\n\tname = g\r\n\tunit {\r\n\t\tname = u\r\n\t\tcomponent {\r\n\t\t\tname = c\r\n\t\t\tbn = x\r\n\t\t}\r\n\t}\r\n}', 'b.conf');
  assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
  // openais dropped the last character of a file without a final newline; we keep it.
  assert.equal(r.value.groups[0]?.units[0]?.components[0]?.binaryName, 'x');
});

// Strings a model can hold: anything but control characters other than tab, newline and CR.
const modelText = fc.string({ unit: fc.oneof(fc.constantFrom(' ', '\t', '\n', '\r', '"', '\\', '#', '{', '}', '='), fc.integer({ min: 0x20, max: 0x2fff }).map((c) => String.fromCodePoint(c)), fc.constantFrom('é', '€', '\u00a0')), maxLength: 12 })
  // eslint-disable-next-line no-control-regex
  .filter((s) => !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s));

test('quoting inverts parsing for any text (1 000 cases)', () => {
  fc.assert(
    fc.property(modelText, (s) => {
      assert.equal(scalarText(scanValue(` ${quoteScalar(s)}`).raw), s);
      assert.deepEqual(splitWords(scanValue(` ${quoteWord(s)}`).raw), [s]);
    }),
    { numRuns: 1_000, seed: 20261122 },
  );
});
