/**
 * The scenario suite (cts-scheduler style): test/amf/scenarios/<name>/{groups.conf, events.txt,
 * expected.txt}. A mismatch prints a diff; `UPDATE_SCENARIOS=1 npm test -- amf` re-blesses.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/model/index.js';
import { runScenario } from './scenario.js';
import { lineDiff } from './diff.js';

const root = new URL('./scenarios/', import.meta.url).pathname;
const update = process.env.UPDATE_SCENARIOS === '1';
const names = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('the scenario suite has at least 60 scenarios', () => {
  assert.ok(names.length >= 60, `only ${names.length} scenarios`);
});

for (const name of names) {
  test(`scenario ${name}`, () => {
    const dir = join(root, name);
    const conf = loadConfig(readFileSync(join(dir, 'groups.conf'), 'utf8'), `${name}/groups.conf`);
    if (!conf.ok) assert.fail(conf.error.map((e) => e.toString()).join('\n'));
    const actual = runScenario(conf.value, readFileSync(join(dir, 'events.txt'), 'utf8')).join('\n') + '\n';
    const file = join(dir, 'expected.txt');
    if (update) {
      writeFileSync(file, actual);
      return;
    }
    assert.ok(existsSync(file), `${name}: no expected.txt (run UPDATE_SCENARIOS=1 npm test -- amf)`);
    const expected = readFileSync(file, 'utf8');
    if (actual !== expected) assert.fail(`${name}: transcript differs (- expected, + actual)\n${lineDiff(expected, actual)}`);
  });
}
