import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { AmfClient } from '../../src/client/index.js';
import { AgentExecutor } from '../../src/cluster/agent-executor.js';
import type { AgentReport } from '../../src/cluster/entries.js';
import { eventually, logger, makeDir, model, processes, readEnvFile, startAgent, streamNetwork, writeScript } from '../agent/harness.js';

const CONF = `node {
	name = node1
}
group {
	name = g
	model = noredundancy
	unit {
		name = su1
		node = node1
		component {
			name = c1
			comptype = non_proxied_non_sa_aware
			command = /bin/sleep 1000
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
`;

it('agent executor (real processes): commands run on the node agent, answers come back as reports, resetAll stops everything', async () => {
  const dir = makeDir();
  const m = model(dir, CONF);
  const t = await startAgent(dir, m);
  const ex = new AgentExecutor(t.agent, 'node1', m, logger);
  const reports: AgentReport[] = [];
  ex.onReport((r) => reports.push(r));
  try {
    ex.execute({ kind: 'comp-instantiate', node: 'node1', su: 'su1', comp: 'c1', attempt: 1 });
    assert.ok(await eventually(() => reports.some((r) => r.kind === 'comp-instantiated')), JSON.stringify(reports));
    const pid = t.agent.pid('su1', 'c1');
    assert.ok(pid !== undefined && processes.isAlive(pid));
    await ex.resetAll();
    assert.ok(await eventually(() => !processes.isAlive(pid)), 'the component was cleaned up');
    ex.execute({ kind: 'comp-instantiate', node: 'other', su: 'su1', comp: 'c1', attempt: 1 });
    assert.equal(reports.filter((r) => r.kind === 'comp-instantiated').length, 1, 'a command for another node is not run');
  } finally {
    await t.agent.cleanup('su1', 'c1', 'end');
    await t.close();
  }
});

/**
 * openais B.01.01 shape: an sa_aware component started by the sample's clc_cli_script (its pid in
 * openais_cleanup_<name>), registering like testamf1 (here a client in the test process, in the
 * component's name, with the secret its script was given).
 */
const SA_CONF = (dir: string): string => `node {
	name = node1
}
group {
	name = GROUP
	model = nplusm
	clccli_path = ${dir}/clc
	unit {
		name = unit_a
		node = node1
		component {
			name = comp_a
			comptype = sa_aware
			instantiate = clc_cli_script
			cleanup = clc_cli_script
			terminate_timeout = 300
		}
	}
	unit {
		name = unit_b
		node = node1
		component {
			name = comp_b
			comptype = sa_aware
			instantiate = clc_cli_script
			cleanup = clc_cli_script
			terminate_timeout = 300
		}
	}
	serviceinstance {
		name = siaa
	}
}
`;

const CLC_CLI_SCRIPT = (dir: string): string => `case "$CLC_CLI_INTERFACE" in
instantiate)
	env > ${dir}/env-$SA_AMF_COMPONENT_NAME
	sleep 1000 >/dev/null 2>&1 &
	echo $! > ${dir}/openais_cleanup_$SA_AMF_COMPONENT_NAME
	;;
cleanup)
	echo cleanup >> ${dir}/log-$SA_AMF_COMPONENT_NAME
	kill -9 \`cat ${dir}/openais_cleanup_$SA_AMF_COMPONENT_NAME\` 2>/dev/null
	exit 0
	;;
esac
`;

it('a graceful stop terminates SA-aware components with their terminate callback, then after the timeout cleans up', async () => {
  const dir = makeDir();
  mkdirSync(join(dir, 'clc'));
  writeScript(join(dir, 'clc'), 'clc_cli_script', CLC_CLI_SCRIPT(dir));
  const m = model(dir, SA_CONF(dir));
  const t = await startAgent(dir, m);
  const ex = new AgentExecutor(t.agent, 'node1', m, logger);
  const reports: AgentReport[] = [];
  ex.onReport((r) => reports.push(r));
  const log = (comp: string): string[] => (existsSync(join(dir, `log-${comp}`)) ? readFileSync(join(dir, `log-${comp}`), 'utf8').trim().split('\n') : []);
  try {
    const clients = new Map<string, AmfClient>();
    const calls: string[] = [];
    for (const [su, comp] of [['unit_a', 'comp_a'], ['unit_b', 'comp_b']] as const) {
      ex.execute({ kind: 'comp-instantiate', node: 'node1', su, comp, attempt: 1 });
      const envFile = join(dir, `env-${comp}`);
      assert.ok(await eventually(() => existsSync(envFile) && readFileSync(envFile, 'utf8').includes('AMF_COMPONENT_SECRET=')));
      const env = readEnvFile(envFile);
      const client = await AmfClient.connect({ network: streamNetwork(), env });
      client.onCsiSet(() => undefined);
      clients.set(comp, client);
      await client.register();
    }
    assert.ok(await eventually(() => reports.filter((r) => r.kind === 'comp-instantiated').length === 2), JSON.stringify(reports));
    const pidFile = (comp: string): string => join(dir, `openais_cleanup_${comp}`);
    assert.ok(await eventually(() => ['comp_a', 'comp_b'].every((c) => existsSync(pidFile(c)) && readFileSync(pidFile(c), 'utf8').endsWith('\n'))));
    const pidOf = (comp: string): number => Number(readFileSync(pidFile(comp), 'utf8'));
    const [pidA, pidB] = [pidOf('comp_a'), pidOf('comp_b')];
    // comp_a exits when told to terminate (as testamf1 would); comp_b accepts and keeps running.
    clients.get('comp_a')!.onTerminate(() => {
      calls.push('terminate comp_a');
      // The process exits, and with it its connection to the agent.
      process.kill(pidA, 'SIGTERM');
      setImmediate(() => clients.get('comp_a')!.close());
    });
    clients.get('comp_b')!.onTerminate(() => void calls.push('terminate comp_b'));
    await ex.stopAll();
    assert.deepEqual(calls.sort(), ['terminate comp_a', 'terminate comp_b'], 'each got its terminate callback');
    assert.ok(!processes.isAlive(pidA) && !processes.isAlive(pidB));
    assert.deepEqual(log('comp_a'), [], 'a component that ended on its callback is not cleaned up');
    assert.deepEqual(log('comp_b'), ['cleanup'], 'one still running after terminate_timeout is cleaned up');
    assert.equal(t.agent.presence('unit_a', 'comp_a'), 'uninstantiated');
    assert.equal(t.agent.presence('unit_b', 'comp_b'), 'uninstantiated');
    for (const c of clients.values()) c.close();
  } finally {
    await t.close();
  }
});
