import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AmfCommand, AmfNotice } from '../../src/amf/commands.js';
import { StandaloneLoop } from '../../src/agent/standalone.js';
import { clock, counterConf, eventually, freePort, logger, makeDir, model, processes, startAgent } from './harness.js';

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
});
