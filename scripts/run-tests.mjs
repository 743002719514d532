#!/usr/bin/env node
// Runs node's own test runner through tsx over an explicit list of test files.
// Node 20's --test does not expand globs, and `tsx --test` with no files silently runs nothing,
// so we collect the files ourselves and refuse to "pass" with zero of them.
//
// Usage: npm test [-- <substring filter>...]
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);
const files = readdirSync(join(root, 'test'), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.ts'))
  .map((f) => join('test', f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();

if (files.length === 0) {
  process.stderr.write(`run-tests: no test files matched under test/ (filters: ${filters.join(' ') || 'none'})\n`);
  process.exit(1);
}

const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', ...files],
  { stdio: ['ignore', 'pipe', 'inherit'], cwd: root, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
);
process.stdout.write(result.stdout ?? '');
if (result.error) {
  process.stderr.write(`run-tests: ${result.error.message}\n`);
  process.exit(1);
}
// A run that executed no test is a failure, never a pass.
const m = /^# tests (\d+)$/m.exec(result.stdout ?? '');
if (!m || Number(m[1]) === 0) {
  process.stderr.write('run-tests: the test runner reported zero tests\n');
  process.exit(1);
}
process.exit(result.status ?? 1);
