import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AMFD_NODE_FLAGS, missingNodeFlags } from '../../src/daemon/node-flags.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (p: string): string => readFileSync(`${root}${p}`, 'utf8');

test('node-flags: every launcher passes exactly AMFD_NODE_FLAGS before the entry script', () => {
  const flags = AMFD_NODE_FLAGS.join(' ');
  assert.equal(read('bin/amfd.js').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  assert.match(read('conf/amfd.service'), new RegExp(`^ExecStart=/usr/bin/node ${flags} /opt/amfd/bin/amfd\\.js `, 'm'));
  const cmd = /^CMD (.*)$/m.exec(read('Dockerfile'))?.[1];
  assert.deepEqual(JSON.parse(cmd ?? 'null'), ['node', ...AMFD_NODE_FLAGS, '/opt/amfd/bin/amfd.js']);
  assert.match(read('scripts/local-cluster.ts'), /\[process\.execPath, \.\.\.AMFD_NODE_FLAGS, /);
});

test('node-flags: missingNodeFlags reads node argv and NODE_OPTIONS', () => {
  assert.deepEqual(missingNodeFlags([...AMFD_NODE_FLAGS], undefined), []);
  assert.deepEqual(missingNodeFlags([], ` ${AMFD_NODE_FLAGS.join('  ')} `), []);
  assert.deepEqual(missingNodeFlags([AMFD_NODE_FLAGS[0]!], '--enable-source-maps'), AMFD_NODE_FLAGS.slice(1));
  assert.deepEqual(missingNodeFlags([], undefined), [...AMFD_NODE_FLAGS]);
});

/** Young-generation size (bytes) of a fresh node after a burst of garbage with survivors. */
function newSpaceAfterBurst(flags: readonly string[]): number {
  const script = `
    const { getHeapSpaceStatistics } = require('node:v8');
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 100000) keep = []; }
    process.stdout.write(String(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size));`;
  return Number(execFileSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));
}

test('node-flags: with them the young generation stays at 2 MiB; without them the same burst grows it', () => {
  assert.ok(newSpaceAfterBurst(AMFD_NODE_FLAGS) <= 2 * 2 ** 20);
  assert.ok(newSpaceAfterBurst([]) > 4 * 2 ** 20);
});
