/**
 * Properties (10 000 cases in all): random models survive print → parse; random mutations of real
 * files and random text never make the parser throw, only return located config errors; fmt is
 * idempotent on whatever parses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { diffModels, loadConfig, parseDocument, printDocument, printModel, type ConfigError } from '../../src/model/index.js';
import { modelArb } from './arbitrary.js';
import { withoutLocs } from './helpers.js';

const SEED = Number(process.env.FC_SEED ?? 20261122);

function assertLocated(errors: readonly ConfigError[], text: string, file: string): void {
  assert.ok(errors.length > 0);
  const lines = text.split('\n').length;
  for (const e of errors) {
    assert.equal(e.file, file);
    assert.ok(Number.isInteger(e.line) && e.line >= 1 && e.line <= lines, `bad line in ${e.toString()}`);
    assert.ok(Number.isInteger(e.col) && e.col >= 1, `bad column in ${e.toString()}`);
    assert.ok(e.message.length > 0);
    assert.equal(e.toString(), `${file}:${e.line}:${e.col}: ${e.message}`);
  }
}

/** Loading never throws: either a model or located errors; and fmt is stable on what parses. */
function checkText(text: string): void {
  const r = loadConfig(text, 'f.conf');
  if (!r.ok) assertLocated(r.error, text, 'f.conf');
  const doc = parseDocument(text, 'f.conf');
  if (!doc.ok) return;
  const once = printDocument(doc.value);
  const again = parseDocument(once, 'f.conf');
  assert.ok(again.ok, 'fmt output does not parse');
  assert.equal(printDocument(again.value), once);
}

test('random models round-trip through print → parse (2 000 cases)', () => {
  fc.assert(
    fc.property(modelArb, fc.boolean(), (model, explicit) => {
      const text = printModel(model, { explicit });
      const back = loadConfig(text, 'printed.conf');
      assert.ok(back.ok, back.ok ? '' : `${back.error.join('\n')}\n---\n${text}`);
      assert.deepEqual(withoutLocs(back.value), withoutLocs(model));
      assert.deepEqual(diffModels(back.value, model), []);
    }),
    { numRuns: 2_000, seed: SEED },
  );
});

const goldenDir = new URL('./golden/', import.meta.url);
const corpus = ['valid', 'invalid'].flatMap((kind) =>
  readdirSync(new URL(`${kind}/`, goldenDir))
    .filter((f) => f.endsWith('.conf'))
    .map((f) => readFileSync(new URL(`${kind}/${f}`, goldenDir), 'utf8')),
);

const mutation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('{', '}', '\n', '"', '#', '=', ' = ', '\r\n', '\t', 'unit {\n', '}\n', 'name = x\n')) }),
  fc.record({ op: fc.constant('swapLines' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ op: fc.constant('dupLine' as const), a: fc.nat() }),
);

function mutate(text: string, m: typeof mutation extends fc.Arbitrary<infer T> ? T : never): string {
  switch (m.op) {
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.len);
    }
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'swapLines':
    case 'dupLine': {
      const lines = text.split('\n');
      const a = m.a % lines.length;
      if (m.op === 'dupLine') lines.splice(a, 0, lines[a] as string);
      else {
        const b = m.b % lines.length;
        [lines[a], lines[b]] = [lines[b] as string, lines[a] as string];
      }
      return lines.join('\n');
    }
  }
}

test('random mutations of real files give a model or located errors, never a throw (3 500 cases)', () => {
  fc.assert(
    fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (pick, ms) => {
      checkText(ms.reduce(mutate, corpus[pick % corpus.length] as string));
    }),
    { numRuns: 3_500, seed: SEED },
  );
});

test('random text and bytes give located errors, never a throw (3 500 cases)', () => {
  const bytes = fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1'));
  const tokens = fc
    .array(fc.constantFrom('group', 'unit', 'component', 'name', '{', '}', '=', ' ', '\t', '\n', '\r\n', '#', '"', '\\', 'x', '1', 'model = 2n', 'node = n1'), { maxLength: 60 })
    .map((t) => t.join(''));
  fc.assert(
    fc.property(fc.oneof(bytes, fc.string({ maxLength: 200, unit: 'binary' }), tokens), checkText),
    { numRuns: 3_500, seed: SEED },
  );
});
