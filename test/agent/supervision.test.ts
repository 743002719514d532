import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { eventually, groupMembers, makeDir, model, processes, sleep, startAgent } from './harness.js';

function conf(component: string): string {
  return `group {
	name = g
	model = noredundancy
	clccli_path = @DIR@
	unit {
		name = su1
		component {
			name = c1
			comptype = non_proxied_non_sa_aware
${component}
		}
	}
}
`;
}

describe('agent: supervised commands', () => {
  it('spawns the command, reports its kill -9 at once, cleans up and restarts it', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, conf('\t\t\tcommand = /bin/sleep 1000')));
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const pid = t.agent.pid('su1', 'c1');
      assert.ok(pid !== undefined && processes.isAlive(pid));
      process.kill(pid, 'SIGKILL');
      const f = await t.waitFault((x) => x.kind === 'error-report');
      assert.ok(f.kind === 'error-report' && f.source === 'process-died' && f.recovery === 'component-restart', JSON.stringify(f));
      assert.ok((await t.agent.cleanup('su1', 'c1', 'restart')).ok);
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const again = t.agent.pid('su1', 'c1');
      assert.ok(again !== undefined && again !== pid && processes.isAlive(again));
      assert.ok((await t.agent.terminate('su1', 'c1')).ok);
      assert.ok(!processes.isAlive(again));
      assert.equal(t.faults.length, 1, 'a terminate is not reported as a death');
    } finally {
      await t.close();
    }
  });

  it('cleanup after the leader was killed -9 still kills what it left in its group', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, conf('\t\t\tcommand = /bin/sh -c "sleep 1000 & wait"')));
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const pid = t.agent.pid('su1', 'c1');
      assert.ok(pid !== undefined);
      assert.ok(await eventually(() => groupMembers(pid) === 2), 'sh and its sleep');
      process.kill(pid, 'SIGKILL');
      await t.waitFault((x) => x.kind === 'error-report');
      assert.equal(groupMembers(pid), 1, 'the orphaned sleep is still in the group');
      assert.ok((await t.agent.cleanup('su1', 'c1', 'restart')).ok);
      assert.ok(await eventually(() => groupMembers(pid) === 0), 'cleanup left the orphan running');
    } finally {
      await t.close();
    }
  });

  it('terminate after the main process exited still kills the children it forked', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, conf('\t\t\tcommand = /bin/sh -c "sleep 1000 & exit 0"')));
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const pid = t.agent.pid('su1', 'c1');
      assert.ok(pid !== undefined);
      await t.waitFault((x) => x.kind === 'error-report');
      assert.ok(await eventually(() => groupMembers(pid) === 1), 'the forked sleep outlives its parent');
      assert.ok((await t.agent.terminate('su1', 'c1')).ok);
      assert.ok(await eventually(() => groupMembers(pid) === 0), 'terminate left the orphan running');
    } finally {
      await t.agent.cleanup('su1', 'c1', 'test-end');
      await t.close();
    }
  });

  it('terminate is SIGTERM with a timeout, then SIGKILL of the group', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, conf(`\t\t\tcommand = /bin/sh -c "trap '' TERM; sleep 1000 & wait"\n\t\t\tterminate_timeout = 300`)));
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const pid = t.agent.pid('su1', 'c1');
      assert.ok(pid !== undefined);
      await sleep(50);
      assert.ok((await t.agent.terminate('su1', 'c1')).ok);
      assert.ok(await eventually(() => !processes.isAlive(pid)));
      assert.ok(await eventually(() => groupMembers(pid) === 0), 'the sleep ignoring nothing died with its group');
      assert.equal(t.faults.length, 0);
    } finally {
      await t.close();
    }
  });
});

describe('agent: command healthchecks', () => {
  it('a failing command healthcheck is reported; a healthy one is not', async () => {
    const dir = makeDir();
    writeFileSync(join(dir, 'healthy'), '');
    const t = await startAgent(
      dir,
      model(dir, conf('\t\t\tcommand = /bin/sleep 1000\n\t\t\thealthcheck {\n\t\t\t\tkey = hc\n\t\t\t\tperiod = 50\n\t\t\t\tmaximum_duration = 2000\n\t\t\t\tinvocation = command\n\t\t\t\tcommand = test -f healthy\n\t\t\t}')),
    );
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      assert.deepEqual(t.agent.startHealthcheck('su1', 'c1', 'hc', 'component-failover'), { ok: true, value: undefined });
      assert.ok(!t.agent.startHealthcheck('su1', 'c1', 'hc').ok, 'starting it twice is refused');
      const unknown = t.agent.startHealthcheck('su1', 'c1', 'nope');
      assert.ok(!unknown.ok);
      assert.match(unknown.error, /no healthcheck 'nope' is configured/);
      await sleep(300);
      assert.equal(t.faults.length, 0);
      rmSync(join(dir, 'healthy'));
      const f = await t.waitFault((x) => x.kind === 'healthcheck-failed', 3000);
      assert.deepEqual(f, { kind: 'healthcheck-failed', su: 'su1', comp: 'c1', key: 'hc', recovery: 'component-failover' });
      await sleep(200);
      assert.equal(t.faults.length, 1, 'a failed healthcheck reports once and stops');
    } finally {
      await t.agent.cleanup('su1', 'c1', 'end');
      await t.close();
    }
  });

  it('a healthcheck command that hangs past maximum_duration is a failure', async () => {
    const dir = makeDir();
    const t = await startAgent(
      dir,
      model(dir, conf('\t\t\tcommand = /bin/sleep 1000\n\t\t\thealthcheck {\n\t\t\t\tkey = hc\n\t\t\t\tperiod = 50\n\t\t\t\tmaximum_duration = 200\n\t\t\t\tinvocation = command\n\t\t\t\tcommand = sleep 1000\n\t\t\t}')),
    );
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      assert.ok(t.agent.startHealthcheck('su1', 'c1', 'hc').ok);
      const f = await t.waitFault((x) => x.kind === 'healthcheck-failed', 3000);
      assert.equal(f.kind, 'healthcheck-failed');
    } finally {
      await t.agent.cleanup('su1', 'c1', 'end');
      await t.close();
    }
  });
});

const DUMMY = '/usr/lib/ocf/resource.d/heartbeat/Dummy';

describe('agent: OCF resource agents', { skip: !existsSync(DUMMY) && 'resource-agents is not installed' }, () => {
  it('ocf:heartbeat:Dummy starts, is monitored, a deleted state file is caught by monitor, and it stops', async () => {
    const dir = makeDir();
    const state = join(dir, 'dummy.state');
    const t = await startAgent(
      dir,
      model(dir, conf(`\t\t\tocf = heartbeat:Dummy\n\t\t\tenv {\n\t\t\t\tstate = ${state}\n\t\t\t}\n\t\t\thealthcheck {\n\t\t\t\tkey = monitor\n\t\t\t\tperiod = 100\n\t\t\t\tmaximum_duration = 5000\n\t\t\t}`)),
    );
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      assert.ok(existsSync(state), 'start created the state file');
      assert.ok(t.agent.startHealthcheck('su1', 'c1', 'monitor').ok);
      await sleep(400);
      assert.equal(t.faults.length, 0, 'monitor says running');
      rmSync(state);
      const f = await t.waitFault((x) => x.kind === 'healthcheck-failed', 5000);
      assert.equal(f.kind, 'healthcheck-failed');
      assert.ok((await t.agent.cleanup('su1', 'c1', 'restart')).ok);
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      assert.ok(existsSync(state));
      assert.ok((await t.agent.terminate('su1', 'c1')).ok);
      assert.ok(!existsSync(state), 'stop removed the state file');
    } finally {
      await t.close();
    }
  });

  it('a failing start maps the OCF exit code to its meaning', async () => {
    const dir = makeDir();
    const t = await startAgent(dir, model(dir, conf(`\t\t\tocf = heartbeat:Dummy\n\t\t\tenv {\n\t\t\t\tstate = /nonexistent-dir/x/dummy.state\n\t\t\t}`)));
    try {
      const r = await t.agent.instantiate('su1', 'c1');
      assert.ok(!r.ok);
      assert.match(r.error.reason, /OCF exit \d+ \(/);
    } finally {
      await t.close();
    }
  });
});
