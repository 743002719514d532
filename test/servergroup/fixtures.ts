import type { ServerGroup } from '../../src/servergroup/group.js';
import type { MemberStatus } from '../../src/servergroup/status.js';

/** One affinity group of three members; vm1 and vm2 on n1, vm3 on n2. */
export const WEB: ServerGroup = {
  name: 'web',
  policy: 'affinity',
  broadcastRate: 100,
  broadcastBurst: 20,
  members: ['vm1', 'vm2', 'vm3'].map((i) => ({ instance: `instance-${i}`, su: i, comp: 'vm', displayName: i, channel: `/run/test/${i}.sock` })),
};

/** A second group, whose member must never hear web's traffic. */
export const DB: ServerGroup = {
  name: 'db',
  policy: 'anti-affinity',
  broadcastRate: 100,
  broadcastBurst: 20,
  members: [{ instance: 'instance-db1', su: 'db1', comp: 'vm', displayName: 'db1', channel: '/run/test/db1.sock' }],
};

function status(g: ServerGroup, i: number, host: string, ha: MemberStatus['ha_state']): MemberStatus {
  const m = g.members[i]!;
  return {
    instance_id: m.instance,
    display_name: m.displayName,
    hostname: m.displayName,
    server_group: g.name,
    host,
    node: host,
    state: 'active',
    state_description: 'instantiated',
    ha_state: ha,
    launched_at: `2024-05-01T12:00:0${i}.000Z`,
  };
}

export const STATUSES: ReadonlyMap<string, MemberStatus> = new Map([
  ['instance-vm1', status(WEB, 0, 'n1', 'active')],
  ['instance-vm2', status(WEB, 1, 'n1', 'standby')],
  ['instance-vm3', status(WEB, 2, 'n2', null)],
  ['instance-db1', status(DB, 0, 'n1', 'active')],
]);
