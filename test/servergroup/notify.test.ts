/**
 * Notifications derived from committed state: the real AMF engine (its scripted-agent harness)
 * runs a server group's members through start, failure, failover and node loss; after every step
 * the tracker derives what the other members are told. The story is compared with a golden file
 * (testdata/notifications.golden; UPDATE_GOLDEN=1 rewrites it), and two trackers fed the same
 * steps tell exactly the same story.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { AmfInput, AmfNotice } from '../../src/amf/commands.js';
import { Harness } from '../../src/amf/harness.js';
import { loadConfig } from '../../src/model/index.js';
import type { ServerGroup } from '../../src/servergroup/group.js';
import { StatusTracker, type MemberNotification } from '../../src/servergroup/notify.js';

const unit = (i: number, nodes: string): string => `	unit {
		name = vm${i}
		nodes = ${nodes}
		component {
			name = vm
			command = /bin/true
			csi_type_name {
				name = t
			}
		}
	}
`;

const CONF = `${[1, 2, 3].map((i) => `node {\n\tname = n${i}\n}\n`).join('')}group {
	name = web
	model = nwayactive
	component_restart_max = 1
${unit(1, 'n1 n3')}${unit(2, 'n2 n3')}${unit(3, 'n3 n2')}	serviceinstance {
		name = web-si
		csi_descriptor {
			csi_name = c
			type_name = t
		}
	}
}
`;

const GROUP: ServerGroup = {
  name: 'web',
  policy: 'anti-affinity',
  broadcastRate: 10,
  broadcastBurst: 10,
  members: ['1', '2', '3'].map((i) => ({ instance: `instance-vm${i}`, su: `vm${i}`, comp: 'vm', displayName: `vm${i}`, channel: `/run/vm${i}.sock` })),
};

function story(): string[] {
  const loaded = loadConfig(CONF, 'groups.conf');
  assert.ok(loaded.ok, loaded.ok ? '' : loaded.error.map(String).join('\n'));
  const trackers = [new StatusTracker(), new StatusTracker()];
  const lines: string[] = [];
  const base = Date.UTC(2024, 4, 1, 12, 0, 0);
  let recoveries = new Map<string, string>();
  const h = new Harness(loaded.value, (r) => {
    const time = base + h.now;
    const changes = [];
    for (const n of r.notices as AmfNotice[]) {
      if (n.kind === 'recovery') recoveries.set(n.su, `${n.action}: ${n.reason}`);
      if (n.kind === 'state-change') changes.push({ time, entity: `${n.entity}/${n.name}`, field: n.attr, new: n.to });
    }
    const applied = { groups: [GROUP], amf: h.state, time, changes, recoveries };
    const [a, b] = trackers.map((t) => t.apply(applied)) as [MemberNotification[], MemberNotification[]];
    assert.deepEqual(a, b, 'two nodes fed the same entries tell the same story');
    for (const n of a) lines.push(`${n.event} ${n.instance}: ${JSON.stringify(n.data)}`);
    recoveries = new Map();
  }, undefined, true);
  for (const t of trackers) t.baseline({ groups: [GROUP], amf: h.state, time: base, changes: [] });
  const step = (title: string, ...inputs: AmfInput[]): void => {
    lines.push(`# ${title}`);
    h.send(...inputs);
  };
  step('the three nodes come up: each member starts on its own node', { kind: 'node-up', node: 'n1' }, { kind: 'node-up', node: 'n2' }, { kind: 'node-up', node: 'n3' });
  h.advance(1000);
  step('vm2 dies: restarted in place', { kind: 'error-report', su: 'vm2', comp: 'vm', recovery: 'no-recommendation', source: 'process-died', reason: 'process exited' });
  h.advance(1000);
  step('n1 is lost: vm1 moves to n3', { kind: 'node-down', node: 'n1' });
  h.advance(1000);
  step('vm3 is locked by the operator: it is stopped', { kind: 'admin', op: 'lock', target: { type: 'su', name: 'vm3' } }, { kind: 'admin', op: 'lock-instantiation', target: { type: 'su', name: 'vm3' } });
  return lines;
}

describe('server-group notifications from committed state', () => {
  it('tell every member of the group the same story of starts, failures, moves and losses', () => {
    const path = join(import.meta.dirname, 'testdata', 'notifications.golden');
    const got = `${story().join('\n')}\n`;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, got);
    else assert.equal(got, readFileSync(path, 'utf8'));
  });
});
