/**
 * Golden files. valid/X.conf must load; X.expected is `amfctl config fmt` output and X.model the
 * canonical model text. invalid/X.conf must fail with exactly the messages in X.errors.
 * UPDATE_GOLDEN=1 npm test -- test/model/golden re-blesses them (review the git diff!).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadConfig, parseDocument, printDocument, printModel } from '../../src/model/index.js';
import { withoutLocs } from './helpers.js';

const dir = new URL('./golden/', import.meta.url);
const update = process.env.UPDATE_GOLDEN === '1';

function compare(file: URL, actual: string): void {
  if (update || !existsSync(file)) {
    if (!update) assert.fail(`missing golden file ${file.pathname} (run with UPDATE_GOLDEN=1)`);
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `differs from ${file.pathname}`);
}

const confs = (kind: string): string[] =>
  readdirSync(new URL(`${kind}/`, dir)).filter((f) => f.endsWith('.conf')).sort();

test('there are golden files of both kinds', () => {
  assert.ok(confs('valid').length >= 3);
  assert.ok(confs('invalid').length >= 6);
});

for (const name of confs('valid')) {
  test(`valid/${name}`, () => {
    const base = new URL(`valid/${name.slice(0, -'.conf'.length)}`, dir);
    const text = readFileSync(new URL(`valid/${name}`, dir), 'utf8');
    const loaded = loadConfig(text, name);
    assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.join('\n'));
    const model = loaded.value;

    // fmt: canonical layout, stable, and the same meaning.
    const doc = parseDocument(text, name);
    assert.ok(doc.ok);
    const formatted = printDocument(doc.value);
    compare(new URL(`${base.href}.expected`), formatted);
    const again = parseDocument(formatted, name);
    assert.ok(again.ok);
    assert.equal(printDocument(again.value), formatted, 'fmt is not idempotent');
    const reloaded = loadConfig(formatted, name);
    assert.ok(reloaded.ok);
    assert.deepEqual(withoutLocs(reloaded.value), withoutLocs(model));

    // The model's own text, minimal and explicit, both load back to the same model.
    const canonical = printModel(model);
    compare(new URL(`${base.href}.model`), canonical);
    for (const printed of [canonical, printModel(model, { explicit: true })]) {
      const back = loadConfig(printed, 'printed.conf');
      assert.ok(back.ok, back.ok ? '' : `${back.error.join('\n')}\n${printed}`);
      assert.deepEqual(withoutLocs(back.value), withoutLocs(model));
    }
  });
}

for (const name of confs('invalid')) {
  test(`invalid/${name}`, () => {
    const text = readFileSync(new URL(`invalid/${name}`, dir), 'utf8');
    const loaded = loadConfig(text, name);
    assert.ok(!loaded.ok, 'expected errors');
    for (const e of loaded.error) assert.ok(e.line >= 1 && e.col >= 1, `unlocated: ${e.toString()}`);
    compare(new URL(`invalid/${name.slice(0, -'.conf'.length)}.errors`, dir), loaded.error.map(String).join('\n') + '\n');
  });
}
