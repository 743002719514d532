import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const MODULE = fileURLToPath(new URL('../../src/daemon/heap-sizing.ts', import.meta.url));

/** New-space size (bytes) before and after a burst of garbage with survivors, in a fresh node. */
function newSpaceGrowth(withModule: boolean): { before: number; after: number } {
  const script = `
    import { getHeapSpaceStatistics } from 'node:v8';
    ${withModule ? `await import(${JSON.stringify(MODULE)});` : ''}
    const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const before = size();
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }
    process.stdout.write(JSON.stringify({ before, after: size() }));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as { before: number; after: number };
}

test('heap-sizing: the young generation does not grow past its initial size', () => {
  const r = newSpaceGrowth(true);
  assert.ok(r.after <= r.before, `new space grew from ${r.before} to ${r.after} bytes`);
});

test('heap-sizing: without it the same burst grows the young generation (the test can fail)', () => {
  const r = newSpaceGrowth(false);
  assert.ok(r.after > r.before, `new space stayed at ${r.after} bytes`);
});
