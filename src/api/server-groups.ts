/**
 * The API's view of the server groups: each member's committed status (the same on every node)
 * and its messaging channel as the answering node holds it. A node holds the channels of the
 * members placed on it only; for the others `channel` is null and `host` says which node to ask.
 */
import type { ServerGroupMemberView, ServerGroupView } from './backend.js';
import type { ServerGroupsView } from '../servergroup/service.js';

export function serverGroupViews(v: ServerGroupsView): ServerGroupView[] {
  const held = new Map(v.channels.map((c) => [c.instance, c]));
  return v.groups.map((g) => ({
    name: g.name,
    policy: g.policy,
    broadcastRate: g.broadcastRate,
    broadcastBurst: g.broadcastBurst,
    members: g.members.map((m): ServerGroupMemberView => {
      const st = v.statuses.get(m.instance);
      const c = held.get(m.instance);
      return {
        instance: m.instance,
        displayName: m.displayName,
        unit: m.su,
        component: m.comp,
        state: st?.state ?? 'stopped',
        stateDescription: st?.state_description ?? 'uninstantiated',
        host: st?.host ?? null,
        ha: st?.ha_state ?? null,
        launchedAt: st?.launched_at ?? null,
        channelPath: m.channel ?? null,
        channel: c ? { state: c.state, connects: c.connects } : null,
      };
    }),
  }));
}
