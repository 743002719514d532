/**
 * Member notifications, derived from committed state: after each applied entry the tracker
 * compares every member's status (status.ts) with the one before and tells the other members of
 * the group what changed, at most one notification per member per entry. Every node applies the
 * same entries, so every node derives the same notifications with the same timestamps (the entry's
 * time); each delivers them to the members it hosts. The data is shaped like the nova notification
 * StarlingX guests received: `{payload, event_type, priority, timestamp}`.
 */
import type { AmfState } from '../amf/state.js';
import type { ServerGroup } from './group.js';
import { groupStatuses, type MemberStatus } from './status.js';

/** What happened to a member, strongest first (one per member per entry). */
export type MemberEvent = 'node-lost' | 'failed' | 'moved' | 'instantiated' | 'terminated' | 'active' | 'standby';

export interface MemberNotification {
  readonly group: string;
  /** The member the notification is about (it is not sent to that member itself). */
  readonly instance: string;
  readonly event: MemberEvent;
  /** The notification object (the inner message's `data`). */
  readonly data: Readonly<Record<string, unknown>>;
}

/** A change-log record, as much of it as the tracker reads. */
export interface ChangeLike {
  readonly time: number;
  readonly entity: string;
  readonly field: string;
  readonly new: string | null;
}

/** One applied entry, as the tracker needs it. */
export interface Applied {
  readonly groups: readonly ServerGroup[];
  readonly amf: AmfState;
  /** The entry's time (ms since the epoch; committed, so the same on every node). */
  readonly time: number;
  /** Change-log records the entry appended (or, at a baseline, the whole ring). */
  readonly changes: Iterable<ChangeLike>;
  /** Recoveries the engine decided in this entry: SU → reason (a member's failure). */
  readonly recoveries?: ReadonlyMap<string, string>;
}

export class StatusTracker {
  private statuses = new Map<string, MemberStatus>();
  private readonly launchedAt = new Map<string, number>();
  /** The last host each member was active on (a later start elsewhere is a move). */
  private readonly lastActiveHost = new Map<string, string>();
  private nodesUp = new Map<string, boolean>();

  /** Take the state as it is, without notifying (start-up, snapshot restore). */
  baseline(a: Applied): void {
    this.absorb(a);
    this.statuses = groupStatuses(a.groups, a.amf, this.launchedAt);
    for (const [instance, s] of this.statuses) if (s.state === 'active' && s.host !== null) this.lastActiveHost.set(instance, s.host);
    this.nodesUp = nodesUp(a.amf);
  }

  /** The notifications one applied entry causes. */
  apply(a: Applied): MemberNotification[] {
    this.absorb(a);
    const next = groupStatuses(a.groups, a.amf, this.launchedAt);
    const up = nodesUp(a.amf);
    const lost = new Set([...this.nodesUp].filter(([n, was]) => was && up.get(n) !== true).map(([n]) => n));
    const out: MemberNotification[] = [];
    for (const g of a.groups) {
      for (const m of g.members) {
        const before = this.statuses.get(m.instance);
        const after = next.get(m.instance);
        if (before === undefined || after === undefined) continue; // new in the configuration: its baseline
        const n = this.notice(g.name, m.instance, m.su, before, after, lost, a);
        if (n) out.push(n);
        if (after.state === 'active' && after.host !== null) this.lastActiveHost.set(m.instance, after.host);
      }
    }
    this.statuses = next;
    this.nodesUp = up;
    return out;
  }

  /** The current status of every member, by instance. */
  current(): ReadonlyMap<string, MemberStatus> {
    return this.statuses;
  }

  private absorb(a: Applied): void {
    const byEntity = new Map<string, string>();
    for (const g of a.groups) for (const m of g.members) byEntity.set(`comp/${m.su}/${m.comp}`, m.instance);
    for (const c of a.changes) {
      const instance = byEntity.get(c.entity);
      if (instance !== undefined && c.field === 'presence' && c.new === 'instantiated') this.launchedAt.set(instance, c.time);
    }
  }

  private notice(group: string, instance: string, su: string, before: MemberStatus, after: MemberStatus, lost: ReadonlySet<string>, a: Applied): MemberNotification | undefined {
    const make = (event: MemberEvent, payload: MemberStatus, extra: Record<string, unknown> = {}): MemberNotification => ({
      group,
      instance,
      event,
      data: notificationData(event, payload, before, a.time, extra),
    });
    if (before.host !== null && lost.has(before.host)) {
      return make('node-lost', { ...before, state: 'error', state_description: `host ${before.host} lost`, ha_state: null }, { reason: `host ${before.host} lost` });
    }
    const recovery = a.recoveries?.get(su);
    const failing = (s: MemberStatus): boolean => s.state === 'error' || s.state === 'rebooting';
    if (recovery !== undefined || (failing(after) && !failing(before))) return make('failed', after, recovery === undefined ? {} : { reason: recovery });
    if (after.state === 'active' && before.state !== 'active') {
      const was = this.lastActiveHost.get(instance);
      return was !== undefined && was !== after.host ? make('moved', after, { old_host: was }) : make('instantiated', after);
    }
    if (after.state === 'stopped' && before.state !== 'stopped') return make('terminated', after);
    if (after.ha_state !== before.ha_state && (after.ha_state === 'active' || after.ha_state === 'standby')) return make(after.ha_state, after);
    return undefined;
  }
}

function nodesUp(amf: AmfState): Map<string, boolean> {
  return new Map(Object.entries(amf.nodes).map(([n, s]) => [n, s.up]));
}

/** The `data` of a notification: nova's message shape around the member's status. */
export function notificationData(event: MemberEvent, status: MemberStatus, before: MemberStatus, time: number, extra: Record<string, unknown>): Record<string, unknown> {
  const failure = event === 'failed' || event === 'node-lost';
  return {
    payload: { ...status, event, old_state: before.state, ...extra },
    event_type: 'compute.instance.update',
    priority: failure ? 'ERROR' : 'INFO',
    timestamp: new Date(time).toISOString(),
  };
}
