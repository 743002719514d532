import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/runtime/observability.js';
import type { ProcessRunner, RunningProcess } from '../../src/runtime/ports/process.js';
import { eventually, groupMembers, makeDir, model, processes, sleep, startAgent, writeScript } from './harness.js';

/** The openais B.01.01 test/clc_cli_script, adapted only in where it keeps its pidfile. */
const OPENAIS_SCRIPT = `
PIDFILE=@DIR@/openais_cleanup_$SA_AMF_COMPONENT_NAME
case "$CLC_CLI_INTERFACE" in
instantiate)
	env > @DIR@/env.instantiate
	$COMP_BINARY_PATH/$COMP_BINARY_NAME >/dev/null 2>&1 &
	echo $! > $PIDFILE
	;;
terminate)
	env > @DIR@/env.terminate
	kill -15 \`cat $PIDFILE\`
	;;
cleanup)
	echo "$AMF_CLEANUP_REASON" > @DIR@/cleanup.reason
	kill -9 \`cat $PIDFILE\` 2>/dev/null
	exit 0
	;;
esac
`;

function conf(component: string): string {
  return `group {
	name = g
	model = noredundancy
	clccli_path = @DIR@/clc
	binary_path = @DIR@/bin
	unit {
		name = su1
		component {
			name = c1
			comptype = non_proxied_non_sa_aware
${component}
			csi_type_name {
				name = t
			}
		}
	}
	serviceinstance {
		name = si
		csi_descriptor {
			csi_name = csi1
			type_name = t
			name_value {
				name = PORT
				value = 8080
			}
		}
	}
}
`;
}

function setup(): string {
  const dir = makeDir();
  mkdirSync(join(dir, 'clc'));
  mkdirSync(join(dir, 'bin'));
  writeScript(join(dir, 'bin'), 'testbin', 'exec sleep 1000');
  return dir;
}

function readEnv(path: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env.set(line.slice(0, i), line.slice(i + 1));
  }
  return env;
}

function pidOf(dir: string): number {
  return Number(readFileSync(join(dir, 'openais_cleanup_c1'), 'utf8').trim());
}

describe('agent: CLC-CLI', () => {
  it('runs an openais script that dispatches on $CLC_CLI_INTERFACE unchanged, with the B.01.01 environment', async () => {
    const dir = setup();
    writeScript(join(dir, 'clc'), 'clc_cli_script', OPENAIS_SCRIPT.replaceAll('@DIR@', dir));
    const t = await startAgent(
      dir,
      model(dir, conf('\t\t\tbn = testbin\n\t\t\tinstantiate = clc_cli_script\n\t\t\tterminate = clc_cli_script\n\t\t\tcleanup = clc_cli_script\n\t\t\tenv {\n\t\t\t\tFOO = bar\n\t\t\t}')),
    );
    try {
      const r = await t.agent.instantiate('su1', 'c1');
      assert.deepEqual(r, { ok: true, value: undefined });
      const env = readEnv(join(dir, 'env.instantiate'));
      assert.equal(env.get('CLC_CLI_INTERFACE'), 'instantiate');
      assert.equal(env.get('COMP_BINARY_NAME'), 'testbin');
      assert.equal(env.get('COMP_BINARY_PATH'), join(dir, 'bin'));
      assert.equal(env.get('SA_AMF_COMPONENT_NAME'), 'c1');
      assert.equal(env.get('SA_AMF_COMPONENT_DN'), 'safComp=c1,safSu=su1,safSg=g');
      assert.equal(env.get('FOO'), 'bar');
      assert.equal(env.get('PATH'), process.env.PATH);
      assert.equal(env.get('PORT'), '8080', "the group's one CSI of the component's type is exported at instantiate");
      const pid = pidOf(dir);
      assert.ok(processes.isAlive(pid));

      // A CSI's attributes reach the scripts of a non-SA-aware component.
      assert.ok((await t.agent.csiSet('su1', 'c1', { si: 'si', csi: 'csi1', csiType: 't', haState: 'active', attributes: [{ name: 'PORT', value: '8080' }] })).ok);
      assert.deepEqual(await t.agent.terminate('su1', 'c1'), { ok: true, value: undefined });
      assert.equal(readEnv(join(dir, 'env.terminate')).get('PORT'), '8080');
      assert.ok(await eventually(() => !processes.isAlive(pid)));
      assert.equal(t.agent.presence('su1', 'c1'), 'uninstantiated');
    } finally {
      await t.agent.cleanup('su1', 'c1', 'test-end');
      await t.close();
    }
  });

  it('reports a kill -9 of the passively monitored process at once, and cleanup runs the CLEANUP CLI', async () => {
    const dir = setup();
    writeScript(join(dir, 'clc'), 'clc_cli_script', OPENAIS_SCRIPT.replaceAll('@DIR@', dir));
    const t = await startAgent(dir, model(dir, conf('\t\t\tbn = testbin\n\t\t\tinstantiate = clc_cli_script\n\t\t\tcleanup = clc_cli_script\n\t\t\trecovery_on_error = component-failover')));
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const pid = pidOf(dir);
      await sleep(50); // let the monitor pick the pid up
      process.kill(pid, 'SIGKILL');
      const f = await t.waitFault((x) => x.kind === 'error-report', 2000);
      assert.equal(f.kind, 'error-report');
      assert.ok(f.kind === 'error-report' && f.source === 'process-died' && f.recovery === 'component-failover' && f.su === 'su1' && f.comp === 'c1');
      assert.ok((await t.agent.cleanup('su1', 'c1', 'restart')).ok);
      assert.equal(readFileSync(join(dir, 'cleanup.reason'), 'utf8').trim(), 'restart');
      assert.equal(t.faults.length, 1, 'the death is reported once, and cleanup reports nothing');
    } finally {
      await t.close();
    }
  });

  it('a pidfile pid reused by an unrelated process after the component died is reported as a death and never signalled', async () => {
    const dir = setup();
    writeScript(join(dir, 'clc'), 'clc_cli_script', OPENAIS_SCRIPT.replaceAll('@DIR@', dir));
    // Pid reuse on demand: the agent's view of a pid can be pointed at another real process.
    const reused = new Map<number, number>();
    const real = (pid: number): number => reused.get(pid) ?? pid;
    const runner: ProcessRunner = {
      spawn: (o) => processes.spawn(o),
      isAlive: (pid) => processes.isAlive(real(pid)),
      signal: (pid, sig) => processes.signal(pid > 0 ? real(pid) : pid, sig),
      startTime: (pid) => processes.startTime(real(pid)),
    };
    const t = await startAgent(dir, model(dir, conf('\t\t\tbn = testbin\n\t\t\tinstantiate = clc_cli_script')), {}, { processes: runner });
    let later: RunningProcess | undefined;
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const pid = pidOf(dir);
      assert.ok(await eventually(() => t.agent.pid('su1', 'c1') === pid), 'the monitor picked the pid up');
      await sleep(30); // start times tick every 10 ms: the stranger starts visibly later
      const spawned = processes.spawn({ argv: ['/bin/sleep', '1000'], env: {} });
      assert.ok(spawned.ok);
      later = spawned.value;
      // The component dies and, before the next poll, an unrelated process started after it has its pid.
      process.kill(pid, 'SIGKILL');
      reused.set(pid, later.pid);
      const f = await t.waitFault((x) => x.kind === 'error-report', 2000);
      assert.ok(f.kind === 'error-report' && f.source === 'process-died' && f.reason === `monitored process ${pid} is gone (its pid now belongs to another process)`, JSON.stringify(f));
      assert.ok((await t.agent.cleanup('su1', 'c1', 'restart')).ok);
      await sleep(50);
      assert.ok(processes.isAlive(later.pid), 'cleanup killed the unrelated process that reused the pid');
    } finally {
      later?.killGroup('SIGKILL');
      await t.close();
    }
  });

  it('a stale pidfile naming an unrelated process older than the instantiation is ignored until the component writes its own', async () => {
    const dir = setup();
    const spawned = processes.spawn({ argv: ['/bin/sleep', '1000'], env: {} });
    assert.ok(spawned.ok);
    const stranger = spawned.value;
    // Left over from the previous run: its pid has been reused since by an unrelated process.
    writeFileSync(join(dir, 'openais_cleanup_c1'), `${stranger.pid}\n`);
    // The component writes its pidfile a little after the instantiate script returned.
    writeScript(join(dir, 'clc'), 'inst.sh', `(sleep 0.3; ${dir}/bin/testbin & echo $! > ${dir}/openais_cleanup_c1.new; mv ${dir}/openais_cleanup_c1.new ${dir}/openais_cleanup_c1; wait) >/dev/null 2>&1 &`);
    await sleep(30); // start times tick every 10 ms
    const t = await startAgent(dir, model(dir, conf('\t\t\tinstantiate = inst.sh')));
    try {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      await sleep(150);
      assert.equal(t.agent.pid('su1', 'c1'), undefined, 'the stale pid was not taken');
      assert.ok(await eventually(() => t.agent.pid('su1', 'c1') === pidOf(dir) && pidOf(dir) !== stranger.pid), 'the component\'s own pid is watched');
      assert.ok((await t.agent.cleanup('su1', 'c1', 'restart')).ok);
      await sleep(50);
      assert.ok(processes.isAlive(stranger.pid), 'cleanup killed the unrelated process');
    } finally {
      stranger.killGroup('SIGKILL');
      await t.agent.cleanup('su1', 'c1', 'test-end');
      await t.close();
    }
  });

  it('terminate and cleanup kill what the component forked, even after its main process died', async () => {
    const dir = setup();
    // The main process (in the pidfile) forks a sleeping child that stays in the script's group.
    writeScript(join(dir, 'bin'), 'forker', 'sleep 1000 &\nexec sleep 1000');
    writeScript(join(dir, 'clc'), 'inst.sh', `${dir}/bin/forker >/dev/null 2>&1 &\necho $! > ${dir}/openais_cleanup_c1\necho $$ > ${dir}/group`);
    writeScript(join(dir, 'clc'), 'ok.sh', 'exit 0');
    const t = await startAgent(dir, model(dir, conf('\t\t\tinstantiate = inst.sh\n\t\t\tterminate = ok.sh\n\t\t\tcleanup = ok.sh')));
    try {
      for (const how of ['terminate', 'cleanup'] as const) {
        assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
        const group = Number(readFileSync(join(dir, 'group'), 'utf8'));
        const pid = pidOf(dir);
        assert.ok(await eventually(() => t.agent.pid('su1', 'c1') === pid && groupMembers(group) === 2), 'the main process and its child');
        process.kill(pid, 'SIGKILL');
        await t.waitFault((x) => x.kind === 'error-report' && t.faults.length === (how === 'terminate' ? 1 : 2));
        assert.equal(groupMembers(group), 1, 'the forked child outlives the main process');
        const r = how === 'terminate' ? await t.agent.terminate('su1', 'c1') : await t.agent.cleanup('su1', 'c1', 'restart');
        assert.ok(r.ok);
        assert.ok(await eventually(() => groupMembers(group) === 0), `${how} left the forked child running`);
      }
    } finally {
      await t.agent.cleanup('su1', 'c1', 'test-end');
      await t.close();
    }
  });

  it('refuses commands that escape clccli_path through .. or a symlink', async () => {
    const dir = setup();
    writeScript(dir, 'outside.sh', 'exit 0');
    symlinkSync(join(dir, 'outside.sh'), join(dir, 'clc', 'link.sh'));
    for (const [cmd, expect] of [
      ['../outside.sh', /outside clccli_path/],
      ['link.sh', /outside clccli_path/],
      ['missing.sh', /not found in clccli_path/],
    ] as const) {
      const t = await startAgent(dir, model(dir, conf(`\t\t\tinstantiate = ${cmd}`)));
      try {
        const r = await t.agent.instantiate('su1', 'c1');
        assert.ok(!r.ok);
        assert.match(r.error.reason, expect);
        assert.equal(r.error.noRetry, true);
      } finally {
        await t.agent.stop();
      }
    }
  });

  it('a timeout kills the whole process group, grandchildren included', async () => {
    const dir = setup();
    writeScript(join(dir, 'clc'), 'slow.sh', `sleep 1000 &\necho $! > ${dir}/grandchild.pid\nsleep 1000`);
    const t = await startAgent(dir, model(dir, conf('\t\t\tinstantiate = slow.sh\n\t\t\tinstantiate_timeout = 300')));
    try {
      const r = await t.agent.instantiate('su1', 'c1');
      assert.ok(!r.ok);
      assert.match(r.error.reason, /timed out/);
      const gc = Number(readFileSync(join(dir, 'grandchild.pid'), 'utf8').trim());
      assert.ok(gc > 0);
      assert.ok(await eventually(() => !processes.isAlive(gc)), `grandchild ${gc} survived the timeout`);
    } finally {
      await t.close();
    }
  });

  it('maps exit codes: non-zero instantiate fails, 200 means do not retry, a failing cleanup is termination-failed', async () => {
    const dir = setup();
    writeFileSync(join(dir, 'code'), '1');
    writeScript(join(dir, 'clc'), 'inst.sh', `exit $(cat ${dir}/code)`);
    writeScript(join(dir, 'clc'), 'clean.sh', 'exit 3');
    const t = await startAgent(dir, model(dir, conf('\t\t\tinstantiate = inst.sh\n\t\t\tcleanup = clean.sh')));
    try {
      const first = await t.agent.instantiate('su1', 'c1');
      assert.ok(!first.ok && !first.error.noRetry && /exited 1/.test(first.error.reason));
      assert.equal(t.agent.presence('su1', 'c1'), 'termination-failed', 'the cleanup after the failed attempt failed too');
      writeFileSync(join(dir, 'code'), '200');
      const second = await t.agent.instantiate('su1', 'c1');
      assert.ok(!second.ok && second.error.noRetry);
      writeFileSync(join(dir, 'code'), '0');
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const c = await t.agent.cleanup('su1', 'c1', 'test');
      assert.ok(!c.ok);
      assert.match(c.error, /cleanup exited 3/);
      assert.equal(t.agent.presence('su1', 'c1'), 'termination-failed');
    } finally {
      await t.close();
    }
  });

  it('runs every CLC-CLI command in its clccli_path, so the openais sample script can call ./openais-instantiate', async () => {
    const dir = setup();
    // The B.01.01 test/clc_cli_script starts the binary through ./openais-instantiate, relative to
    // the script's own directory; terminate and cleanup record where they ran.
    writeScript(join(dir, 'clc'), 'openais-instantiate', '"$1" >/dev/null 2>&1 &\necho $! > @DIR@/openais_cleanup_$SA_AMF_COMPONENT_NAME'.replaceAll('@DIR@', dir));
    writeScript(
      join(dir, 'clc'),
      'clc_cli_script',
      `pwd > ${dir}/cwd.$CLC_CLI_INTERFACE
case "$CLC_CLI_INTERFACE" in
instantiate) ./openais-instantiate $COMP_BINARY_PATH/$COMP_BINARY_NAME ;;
terminate) kill -15 \`cat ${dir}/openais_cleanup_$SA_AMF_COMPONENT_NAME\` ;;
cleanup) kill -9 \`cat ${dir}/openais_cleanup_$SA_AMF_COMPONENT_NAME\` 2>/dev/null; exit 0 ;;
*) ;;
esac`,
    );
    const t = await startAgent(
      dir,
      model(dir, conf('\t\t\tbn = testbin\n\t\t\tinstantiate = clc_cli_script\n\t\t\tterminate = clc_cli_script\n\t\t\tcleanup = clc_cli_script\n\t\t\tam_start = clc_cli_script')),
    );
    try {
      assert.notEqual(process.cwd(), join(dir, 'clc'));
      assert.deepEqual(await t.agent.instantiate('su1', 'c1'), { ok: true, value: undefined });
      const pid = pidOf(dir);
      assert.ok(processes.isAlive(pid));
      assert.ok((await t.agent.activeMonitor('su1', 'c1', 'am_start')).ok);
      assert.deepEqual(await t.agent.terminate('su1', 'c1'), { ok: true, value: undefined });
      assert.ok(await eventually(() => !processes.isAlive(pid)));
      assert.ok((await t.agent.cleanup('su1', 'c1', 'test')).ok);
      for (const iface of ['instantiate', 'am_start', 'terminate', 'cleanup']) {
        assert.equal(readFileSync(join(dir, `cwd.${iface}`), 'utf8').trim(), realpathSync(join(dir, 'clc')), `${iface} runs in clccli_path`);
      }
    } finally {
      await t.agent.cleanup('su1', 'c1', 'test-end');
      await t.close();
    }
  });

  it('a script that fails inside but exits 0 is logged at warn with its stderr and the component, and the failure says why', async () => {
    const dir = setup();
    // The openais sample run from the wrong place: its shell says `not found`, the script exits 0.
    writeScript(join(dir, 'clc'), 'clc_cli_script', './openais-instantiate-missing $COMP_BINARY_PATH/$COMP_BINARY_NAME\nexit 0');
    writeScript(join(dir, 'clc'), 'bad_cleanup', 'echo "cannot read pidfile" >&2\nexit 3');
    const lines: string[] = [];
    const logger = createLogger({ node: 'test', level: 'warn', destination: { write: (l: string) => void lines.push(l) } });
    const sa = conf('\t\t\tbn = testbin\n\t\t\tinstantiate = clc_cli_script\n\t\t\tcleanup = bad_cleanup\n\t\t\tinstantiate_timeout = 300').replace('comptype = non_proxied_non_sa_aware', 'comptype = sa_aware');
    const t = await startAgent(dir, model(dir, sa), {}, { logger });
    try {
      const r = await t.agent.instantiate('su1', 'c1');
      assert.ok(!r.ok);
      assert.match(r.error.reason, /no registration within the instantiate timeout \(300 ms\); the instantiate script exited 0 \(stderr: .*openais-instantiate-missing: not found\)/);
      const warned = lines.map((l) => JSON.parse(l) as { level: number; comp?: string; stderr?: string; msg: string }).find((l) => /exited 0 but/.test(l.msg));
      assert.ok(warned, `a warn line for the script; got ${lines.join('')}`);
      assert.equal(warned.level, 40);
      assert.equal(warned.comp, 'safComp=c1,safSu=su1,safSg=g');
      assert.match(warned.stderr ?? '', /not found/);
      const c = await t.agent.cleanup('su1', 'c1', 'test');
      assert.ok(!c.ok && c.error === 'cleanup exited 3 (stderr: cannot read pidfile)', JSON.stringify(c));
    } finally {
      await t.close();
    }
  });

  it('runs am_start and am_stop with their CLC_CLI_INTERFACE', async () => {
    const dir = setup();
    writeScript(join(dir, 'clc'), 'am.sh', `echo "$CLC_CLI_INTERFACE" >> ${dir}/am.log\n[ "$CLC_CLI_INTERFACE" = am_start ]`);
    const t = await startAgent(dir, model(dir, conf('\t\t\tinstantiate = am.sh\n\t\t\tam_start = am.sh\n\t\t\tam_stop = am.sh')));
    try {
      assert.ok((await t.agent.activeMonitor('su1', 'c1', 'am_start')).ok);
      const stop = await t.agent.activeMonitor('su1', 'c1', 'am_stop');
      assert.ok(!stop.ok && /am_stop exited 1/.test(stop.error));
      assert.deepEqual(readFileSync(join(dir, 'am.log'), 'utf8').trim().split('\n'), ['am_start', 'am_stop']);
    } finally {
      await t.close();
    }
  });

  it('a cleanup cuts short an instantiate script in progress', async () => {
    const dir = setup();
    writeScript(join(dir, 'clc'), 'hang.sh', 'sleep 1000');
    const t = await startAgent(dir, model(dir, conf('\t\t\tinstantiate = hang.sh\n\t\t\tinstantiate_timeout = 600000')));
    try {
      const instantiating = t.agent.instantiate('su1', 'c1');
      await sleep(100); // the script is running
      assert.ok((await t.agent.cleanup('su1', 'c1', 'admin')).ok);
      const r = await instantiating;
      assert.ok(!r.ok);
      assert.match(r.error.reason, /killed by SIGKILL/, 'killed, not left to its 10-minute timeout');
    } finally {
      await t.close();
    }
  });

  it('refuses unknown components', async () => {
    const dir = setup();
    const t = await startAgent(dir, model(dir, conf('\t\t\tinstantiate = x')));
    try {
      const r = await t.agent.instantiate('su1', 'nope');
      assert.ok(!r.ok);
      assert.match(r.error.reason, /unknown component su1\/nope/);
    } finally {
      await t.close();
    }
  });
});
