import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NodeProcessRunner } from '../../src/runtime/node/process.js';
import { quietPorts, realHarness, tempDir } from './node-fixtures.js';

// Node-only behaviour of the process runner, beyond the shared compliance suite.

const PATH = '/usr/bin:/bin';

test('spawn errors come back as values: permission denied, not found on PATH, empty argv', () => {
  const dir = tempDir('proc');
  try {
    const script = join(dir, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n');
    chmodSync(script, 0o644);
    const runner = new NodeProcessRunner(quietPorts());
    const denied = runner.spawn({ argv: [script], env: { PATH } });
    assert.deepEqual(denied.ok ? null : denied.error, { kind: 'permission-denied', file: script });
    const missing = runner.spawn({ argv: ['amfd-no-such-command'], env: { PATH } });
    assert.deepEqual(missing.ok ? null : missing.error, { kind: 'not-found', file: 'amfd-no-such-command' });
    // Bare names are looked up on the child's PATH, not ours.
    const noPath = runner.spawn({ argv: ['sh', '-c', 'exit 0'], env: {} });
    assert.equal(noPath.ok ? 'ok' : noPath.error.kind, 'not-found');
    const empty = runner.spawn({ argv: [], env: {} });
    assert.equal(empty.ok ? 'ok' : empty.error.kind, 'failed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bare name runs from env.PATH in the given cwd', async () => {
  const dir = tempDir('proc');
  try {
    const runner = new NodeProcessRunner(quietPorts());
    const r = runner.spawn({ argv: ['sh', '-c', 'pwd; echo "$0"'], env: { PATH }, cwd: dir });
    assert.ok(r.ok);
    const e = await r.value.exited;
    assert.deepEqual(e.stdout.trim().split('\n'), [dir, 'sh']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exit is reported although a daemonised grandchild still holds stdout open', async () => {
  const runner = new NodeProcessRunner(quietPorts());
  const r = runner.spawn({ argv: ['/bin/sh', '-c', 'echo started; sleep 1000 & exit 0'], env: { PATH } });
  assert.ok(r.ok);
  const e = await r.value.exited;
  assert.equal(e.code, 0);
  assert.equal(e.stdout, 'started\n');
  // Clean up the grandchild: it is still in the group.
  assert.equal(runner.signal(-r.value.pid, 'SIGKILL'), true);
});

test('onStdout streams a long-running child line by line, a multi-byte character split across writes kept whole', async () => {
  const runner = new NodeProcessRunner(quietPorts());
  let seen = '';
  // \xc3\xa9 is é, written in two halves.
  const r = runner.spawn({ argv: ['/bin/sh', '-c', "echo one; printf '\\303'; sleep 0.1; printf '\\251\\n'; sleep 1000"], env: { PATH }, onStdout: (c) => (seen += c) });
  assert.ok(r.ok);
  await realHarness.waitFor(() => seen === 'one\né\n', 5000, 'both lines streamed before the exit');
  r.value.killGroup('SIGKILL');
  assert.equal((await r.value.exited).stdout, 'one\né\n');
});

test('isAlive: our own pid yes, a reaped child and nonsense pids no', async () => {
  const runner = new NodeProcessRunner(quietPorts());
  assert.equal(runner.isAlive(process.pid), true);
  assert.equal(runner.isAlive(0), false);
  assert.equal(runner.isAlive(-1), false);
  assert.equal(runner.isAlive(2 ** 22 + 1), false);
  const r = runner.spawn({ argv: ['/bin/sh', '-c', 'exit 0'], env: {} });
  assert.ok(r.ok);
  await r.value.exited;
  await realHarness.waitFor(() => !runner.isAlive(r.value.pid), 2000, 'child gone');
  assert.equal(runner.signal(r.value.pid, 'SIGTERM'), false);
});

test('spawn failures are counted on the node registry', async () => {
  const q = quietPorts();
  const runner = new NodeProcessRunner(q);
  runner.spawn({ argv: ['/nonexistent/x'], env: {} });
  assert.match(await q.metrics.metrics(), /amfd_process_spawn_failures_total\{kind="not-found",node="test"\} 1/);
});

test('startTime: /proc starttime of a live process; later processes start later; none for a gone pid', async () => {
  const runner = new NodeProcessRunner(quietPorts());
  const own = runner.startTime(process.pid);
  assert.ok(own !== undefined && own > 0);
  assert.equal(runner.startTime(process.pid), own, 'stable for one process');
  await new Promise((r) => setTimeout(r, 30)); // starttime counts clock ticks (10 ms)
  const r = runner.spawn({ argv: ['/bin/sleep', '1000'], env: {} });
  assert.ok(r.ok);
  const child = runner.startTime(r.value.pid);
  assert.ok(child !== undefined && child > own, `${child} after ${own}`);
  r.value.killGroup('SIGKILL');
  await r.value.exited;
  await realHarness.waitFor(() => runner.startTime(r.value.pid) === undefined, 2000, 'child reaped');
  assert.equal(runner.startTime(0), undefined);
  assert.equal(runner.startTime(2 ** 22 + 1), undefined);
});
