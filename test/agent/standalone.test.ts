import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AmfCommand, AmfNotice } from '../../src/amf/commands.js';
import { StandaloneLoop } from './standalone.js';
import { clock, counterConf, eventually, freePort, logger, makeDir, model, processes, startAgent, writeScript } from './harness.js';

describe('agent + engine on one node', () => {
  it('a failing command healthcheck triggers recovery: the engine restarts the component', async () => {
    const dir = makeDir();
    writeFileSync(join(dir, 'healthy'), '');
    const m = model(
      dir,
      `group {
	name = g
	model = noredundancy
	unit {
		name = su1
		component {
			name = c1
			comptype = non_proxied_non_sa_aware
			command = /bin/sleep 1000
			healthcheck {
				key = hc
				period = 50
				maximum_duration = 2000
				invocation = command
				command = test -f ${dir}/healthy
			}
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
		}
	}
}
`,
    );
    const t = await startAgent(dir, m);
    const loop = new StandaloneLoop(m, t.agent, 'node1', clock, logger);
    const commands: AmfCommand[] = [];
    const notices: AmfNotice[] = [];
    loop.onCommand((c) => commands.push(c));
    loop.onNotice((n) => notices.push(n));
    try {
      loop.start();
      const activeSet = (): boolean => commands.some((c) => c.kind === 'csi-set' && c.haState === 'active');
      assert.ok(await eventually(() => activeSet() && t.agent.pid('su1', 'c1') !== undefined), JSON.stringify(commands));
      const first = t.agent.pid('su1', 'c1')!;
      rmSync(join(dir, 'healthy'));
      assert.ok(await eventually(() => notices.some((n) => n.kind === 'recovery'), 5000), 'the engine decided a recovery');
      writeFileSync(join(dir, 'healthy'), '');
      assert.ok(await eventually(() => {
        const pid = t.agent.pid('su1', 'c1');
        return pid !== undefined && pid !== first && t.agent.presence('su1', 'c1') === 'instantiated';
      }, 5000), 'the component runs again as a new process');
      assert.ok(!processes.isAlive(first), 'the failed process was cleaned up');
      const recovery = notices.find((n) => n.kind === 'recovery');
      assert.ok(recovery && recovery.kind === 'recovery' && recovery.action === 'component-restart', JSON.stringify(recovery));
    } finally {
      loop.stop();
      await t.agent.cleanup('su1', 'c1', 'end');
      await t.close();
    }
  });

  it('2N with the SA-aware sample: kill -9 of the active process makes the engine set the standby active; the old active comes back as standby', async () => {
    const dir = makeDir();
    const port = await freePort();
    const m = model(dir, counterConf(dir, port));
    const t = await startAgent(dir, m);
    const loop = new StandaloneLoop(m, t.agent, 'node1', clock, logger);
    const done: Array<{ su: string; ha: string }> = [];
    loop.onInput((i) => {
      if (i.kind === 'csi-set-done') done.push({ su: i.su, ha: i.haState });
    });
    try {
      loop.start();
      assert.ok(await eventually(() => done.length >= 2, 20_000), JSON.stringify(done));
      const active = done.find((d) => d.ha === 'active')!.su;
      const standby = active === 'counter_a' ? 'counter_b' : 'counter_a';
      assert.ok(done.some((d) => d.su === standby && d.ha === 'standby'));
      const pid = t.agent.pid(active, 'counter')!;
      done.length = 0;
      process.kill(pid, 'SIGKILL');
      assert.ok(await eventually(() => done.some((d) => d.su === standby && d.ha === 'active'), 5000), JSON.stringify(done));
      assert.ok(await eventually(() => done.some((d) => d.su === active && d.ha === 'standby'), 20_000), 'the failed unit is restarted as the standby');
      assert.ok(!processes.isAlive(pid));
    } finally {
      loop.stop();
      await t.agent.cleanup('counter_a', 'counter', 'end');
      await t.agent.cleanup('counter_b', 'counter', 'end');
      await t.close();
    }
  });

  it('instantiate retries: immediately without a delay, after instantiate_retry_delay with one; exit 200 stops retrying', async () => {
    const dir = makeDir();
    // Fails until it has run `ok_after` times; logs each attempt's time.
    writeScript(dir, 'inst.sh', `n=$(($(cat ${dir}/count 2>/dev/null || echo 0) + 1)); echo $n > ${dir}/count\ndate +%s%N >> ${dir}/times\n[ $n -ge $(cat ${dir}/ok_after) ] && exit 0\nexit $(cat ${dir}/code)`);
    const conf = (delay: number): string => `group {
	name = g
	model = noredundancy
	clccli_path = ${dir}
	unit {
		name = su1
		component {
			name = c1
			comptype = non_proxied_non_sa_aware
			instantiate = inst.sh
			instantiate_retries = 2
			instantiate_retry_delay = ${delay}
		}
	}
}
`;
    const run = async (delay: number, okAfter: number, code: number): Promise<{ attempts: number; gaps: number[]; presence: string | undefined }> => {
      writeFileSync(join(dir, 'count'), '0');
      writeFileSync(join(dir, 'times'), '');
      writeFileSync(join(dir, 'ok_after'), String(okAfter));
      writeFileSync(join(dir, 'code'), String(code));
      const m = model(dir, conf(delay));
      const t = await startAgent(dir, m);
      const loop = new StandaloneLoop(m, t.agent, 'node1', clock, logger);
      const engineView = (): string | undefined => loop.state.sus.su1?.comps.c1?.presence;
      const settled = new Promise<void>((resolve) =>
        loop.onNotice((n) => {
          if (n.kind === 'state-change' && n.entity === 'comp' && n.attr === 'presence' && (n.to === 'instantiated' || n.to === 'instantiation-failed')) resolve();
        }),
      );
      loop.start();
      await settled;
      loop.stop();
      const times = readFileSync(join(dir, 'times'), 'utf8').trim().split('\n').map((x) => Number(BigInt(x) / 1_000_000n));
      const presence = engineView();
      await t.agent.stop();
      return { attempts: times.length, gaps: times.slice(1).map((x, i) => x - times[i]!), presence };
    };
    const immediate = await run(0, 3, 1);
    assert.equal(immediate.attempts, 3);
    assert.equal(immediate.presence, 'instantiated');
    const delayed = await run(300, 3, 1);
    assert.equal(delayed.attempts, 3);
    assert.ok(delayed.gaps.every((g) => g >= 290), `gaps ${delayed.gaps.join(',')} ms`);
    assert.equal(delayed.presence, 'instantiated');
    const exhausted = await run(0, 99, 1);
    assert.equal(exhausted.attempts, 3, '1 + instantiate_retries attempts, then instantiation-failed');
    const noRetry = await run(0, 99, 200);
    assert.equal(noRetry.attempts, 1, 'exit 200: no retry');
  });
});
