import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunningProcess } from '../../../src/runtime/ports/process.js';
import { withFixture, type ProcessFixture, type Program } from './harness.js';

function spawnOk(f: ProcessFixture, program: Program, extra: { env?: Record<string, string>; timeoutMs?: number; killGraceMs?: number; maxOutputBytes?: number } = {}): RunningProcess {
  const r = f.runner.spawn({
    argv: program.argv,
    env: { ...program.env, ...extra.env },
    ...(extra.timeoutMs === undefined ? {} : { timeoutMs: extra.timeoutMs }),
    ...(extra.killGraceMs === undefined ? {} : { killGraceMs: extra.killGraceMs }),
    ...(extra.maxOutputBytes === undefined ? {} : { maxOutputBytes: extra.maxOutputBytes }),
  });
  assert.ok(r.ok, `spawn ${program.argv.join(' ')} failed: ${JSON.stringify(r.ok ? null : r.error)}`);
  return r.value;
}

/** Contract of ProcessRunner (src/runtime/ports/process.ts), for any implementation. */
export function processSuite(name: string, makeFixture: () => Promise<ProcessFixture>): void {
  const run = (fn: (f: ProcessFixture) => Promise<void>) => () => withFixture(makeFixture, fn);

  describe(`ProcessRunner compliance: ${name}`, () => {
    test('exit codes are reported, and the pid is alive until exit', run(async (f) => {
      const p0 = spawnOk(f, f.programs.exit(0, 0));
      const p3 = spawnOk(f, f.programs.exit(3, 200));
      assert.ok(p0.pid > 0 && p3.pid > 0 && p0.pid !== p3.pid);
      assert.ok(f.runner.isAlive(p3.pid), 'running process is alive');
      const e0 = await p0.exited;
      const e3 = await p3.exited;
      assert.deepEqual([e0.code, e0.signal, e0.timedOut], [0, null, false]);
      assert.deepEqual([e3.code, e3.signal, e3.timedOut], [3, null, false]);
      await f.harness.waitFor(() => !f.runner.isAlive(p3.pid), 5000, 'exited pid no longer alive');
    }));

    test('a missing executable is an error value, not an exception', run(async (f) => {
      const r = f.runner.spawn({ argv: f.programs.missing().argv, env: f.programs.missing().env });
      assert.ok(!r.ok);
      assert.equal(r.error.kind, 'not-found');
    }));

    test('a signal to the group ends the process with that signal', run(async (f) => {
      const p = spawnOk(f, f.programs.hang());
      await f.harness.sleep(100);
      p.killGroup('SIGUSR1');
      const e = await p.exited;
      assert.deepEqual([e.code, e.signal, e.timedOut], [null, 'SIGUSR1', false]);
    }));

    test('runner.signal reaches a pid and reports a missing one', run(async (f) => {
      const p = spawnOk(f, f.programs.hang());
      await f.harness.sleep(100);
      assert.equal(f.runner.signal(p.pid, 'SIGTERM'), true);
      const e = await p.exited;
      assert.equal(e.signal, 'SIGTERM');
      await f.harness.waitFor(() => !f.runner.isAlive(p.pid), 5000, 'pid gone');
      assert.equal(f.runner.signal(p.pid, 'SIGTERM'), false);
    }));

    test('timeout kills the group with SIGTERM and reports timedOut', run(async (f) => {
      const p = spawnOk(f, f.programs.hang(), { timeoutMs: 200, killGraceMs: 2000 });
      const e = await p.exited;
      assert.equal(e.timedOut, true);
      assert.equal(e.code, null);
      assert.equal(e.signal, 'SIGTERM');
    }));

    test('timeout escalates to SIGKILL after the grace when SIGTERM is ignored', run(async (f) => {
      const p = spawnOk(f, f.programs.ignoreTerm(), { timeoutMs: 200, killGraceMs: 300 });
      const e = await p.exited;
      assert.equal(e.timedOut, true);
      assert.equal(e.signal, 'SIGKILL');
    }));

    test('terminate() escalates to SIGKILL and resolves with the exit', run(async (f) => {
      const p = spawnOk(f, f.programs.ignoreTerm());
      await f.harness.sleep(200);
      const e = await p.terminate(300);
      assert.equal(e.signal, 'SIGKILL');
      assert.equal(e.timedOut, false);
      assert.equal(await p.exited, e);
    }));

    test('a group kill also kills grandchildren', run(async (f) => {
      const g = f.programs.withGrandchild();
      const p = spawnOk(f, g.program);
      await f.harness.waitFor(() => g.grandchildPid() !== undefined, 5000, 'grandchild started');
      const gpid = g.grandchildPid() ?? 0;
      assert.ok(gpid !== p.pid);
      assert.ok(f.runner.isAlive(gpid), 'grandchild alive before the kill');
      const e = await p.terminate(1000);
      assert.equal(e.signal, 'SIGTERM');
      await f.harness.waitFor(() => !f.runner.isAlive(gpid), 5000, 'grandchild dead after the group kill');
    }));

    test('a timeout also kills grandchildren', run(async (f) => {
      const g = f.programs.withGrandchild();
      const p = spawnOk(f, g.program, { timeoutMs: 300 });
      await f.harness.waitFor(() => g.grandchildPid() !== undefined, 5000, 'grandchild started');
      const gpid = g.grandchildPid() ?? 0;
      const e = await p.exited;
      assert.equal(e.timedOut, true);
      await f.harness.waitFor(() => !f.runner.isAlive(gpid), 5000, 'grandchild dead after the timeout');
    }));

    test('the environment is exactly the one given', run(async (f) => {
      const a = spawnOk(f, f.programs.printEnv('AMF_COMPLIANCE_VAR'), { env: { AMF_COMPLIANCE_VAR: 'a b=c' } });
      assert.equal((await a.exited).stdout.trim(), 'a b=c');
      // HOME is set in any test runner's own environment; it must not leak into the child.
      const b = spawnOk(f, f.programs.printEnv('HOME'));
      assert.equal((await b.exited).stdout.trim(), '<unset>');
    }));

    test('output is captured up to maxOutputBytes, the rest dropped and flagged', run(async (f) => {
      const small = await spawnOk(f, f.programs.output(100), { maxOutputBytes: 1000 }).exited;
      assert.equal(small.stdout, 'x'.repeat(100));
      assert.equal(small.stderr, 'x'.repeat(100));
      assert.equal(small.outputTruncated, false);
      const big = await spawnOk(f, f.programs.output(200_000), { maxOutputBytes: 1000 }).exited;
      assert.equal(big.code, 0, 'the child is not blocked or killed by the bound');
      assert.equal(big.stdout, 'x'.repeat(1000));
      assert.equal(big.stderr, 'x'.repeat(1000));
      assert.equal(big.outputTruncated, true);
    }));
  });
}
