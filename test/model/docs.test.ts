import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { walkSchema } from '../../src/model/schema.js';

const docs = readFileSync(new URL('../../docs/groups.conf.md', import.meta.url), 'utf8');

test('docs/groups.conf.md documents every block and key of the schema', () => {
  const missing: string[] = [];
  walkSchema((block, spec) => {
    for (const word of [...Object.keys(spec.keys), ...Object.keys(spec.blocks)]) {
      if (!docs.includes(`\`${word}\``) && !docs.includes(`\`${word} `)) missing.push(`${block || 'top'}.${word}`);
    }
  });
  assert.deepEqual(missing, []);
});

test('the error messages quoted in the docs are real (they appear in the golden .errors files)', () => {
  const dir = new URL('./golden/invalid/', import.meta.url);
  const real = new Set(
    readdirSync(dir)
      .filter((f) => f.endsWith('.errors'))
      .flatMap((f) => readFileSync(new URL(f, dir), 'utf8').split('\n')),
  );
  const quoted = docs.split('\n').filter((l) => /^[\w-]+\.conf:\d+:\d+: /.test(l));
  assert.ok(quoted.length >= 5, 'the docs quote at least five error messages');
  for (const line of quoted) assert.ok(real.has(line), `not a real message: ${line}`);
});
