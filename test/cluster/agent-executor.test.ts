import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AgentExecutor } from '../../src/cluster/agent-executor.js';
import type { AgentReport } from '../../src/cluster/entries.js';
import { eventually, logger, makeDir, model, processes, startAgent } from '../agent/harness.js';

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
