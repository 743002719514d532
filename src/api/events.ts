/**
 * The event stream's model (vminfod's /events, RFD 0039): every change is one event naming the
 * entity, the field, and the value before and after. `EventLog` numbers events, keeps the latest
 * in a bounded ring so a reader can resume with `?since=<seq>`, and fans them out to subscribers.
 * The daemon feeds it from committed log entries, so every node numbers the same history alike.
 */
import type { SubscribeResult } from './backend.js';
import type { AmfNotice } from '../amf/commands.js';
import type { ModelChange } from '../model/index.js';
import { assert } from '../util/assert.js';

export type ApiEventKind = 'create' | 'modify' | 'delete' | 'escalation' | 'admin' | 'membership';

export type EventValue = string | number | boolean | null;

export interface ApiEvent {
  /** 1, 2, 3, … without gaps. */
  readonly seq: number;
  /** ISO-8601 time the change was stamped by its proposer. */
  readonly time: string;
  /** `SU_1`, `SU_1/comp_a` for a component, `n1` for a node, `config` for the configuration. */
  readonly entity: string;
  readonly kind: ApiEventKind;
  readonly field: string | null;
  readonly old: EventValue;
  readonly new: EventValue;
  /** Why, when the change carries one (recovery and escalation reasons, admin operations). */
  readonly reason?: string;
}

/** An event before it is numbered and stamped. */
export type EventBody = Omit<ApiEvent, 'seq' | 'time'>;

/** The events an AMF notice stands for (an ignored input stands for none). */
export function noticeEvents(n: AmfNotice): EventBody[] {
  switch (n.kind) {
    case 'state-change':
      return [{ entity: n.name, kind: n.attr === 'membership' ? 'membership' : 'modify', field: n.attr, old: n.from, new: n.to }];
    case 'assignment':
      return [{ entity: n.si, kind: 'modify', field: `assignment.${n.su}`, old: n.from, new: n.to }];
    case 'recovery':
      return [{ entity: `${n.su}/${n.comp}`, kind: 'escalation', field: 'recovery', old: null, new: `${n.action} (level ${n.level})`, reason: n.reason }];
    case 'escalation':
      return [{ entity: n.name, kind: 'escalation', field: 'level', old: n.from, new: n.to, reason: n.reason }];
    case 'ignored':
      return [];
  }
}

/** The events of a committed config change: entities created and deleted, attributes modified. */
export function configEvents(changes: readonly ModelChange[], epoch: number): EventBody[] {
  const out: EventBody[] = changes.map((c) =>
    c.op === 'modify'
      ? { entity: c.entity.label, kind: 'modify', field: c.attribute, old: c.old ?? null, new: c.new ?? null }
      : { entity: c.entity.label, kind: c.op === 'add' ? 'create' : 'delete', field: null, old: null, new: null },
  );
  out.push({ entity: 'config', kind: 'modify', field: 'epoch', old: epoch - 1, new: epoch });
  return out;
}

/** An operator's admin operation, as it was committed. */
export function adminEvent(entity: string, op: string): EventBody {
  return { entity, kind: 'admin', field: 'op', old: null, new: op };
}

/**
 * One line the way vminfod prints it:
 * `[2026-11-22T10:00:00.000Z] SU_1 modify: readiness changed :: "in-service" -> "out-of-service"`.
 */
export function formatEvent(e: ApiEvent): string {
  const head = `[${e.time}] ${e.entity} ${e.kind}`;
  if (e.field === null) return e.reason === undefined ? head : `${head}: ${e.reason}`;
  const verb = e.old === null && e.new !== null ? 'added' : e.new === null && e.old !== null ? 'removed' : 'changed';
  const line = `${head}: ${e.field} ${verb} :: ${JSON.stringify(e.old)} -> ${JSON.stringify(e.new)}`;
  return e.reason === undefined ? line : `${line} (${e.reason})`;
}

/**
 * Numbered events with a bounded ring for resume. Subscribers are called synchronously in seq
 * order; a subscriber that cannot keep up must buffer or drop itself (the HTTP stream does).
 */
export class EventLog {
  private readonly ring: ApiEvent[] = [];
  private readonly subscribers = new Set<(e: ApiEvent) => void>();
  private last: number;

  /** `lastSeq`: the seq before the first event this log will append (restored from a snapshot). */
  constructor(
    private readonly capacity: number,
    lastSeq = 0,
  ) {
    assert(Number.isInteger(capacity) && capacity > 0, `EventLog capacity ${capacity}`);
    this.last = lastSeq;
  }

  get lastSeq(): number {
    return this.last;
  }

  /** Number and publish `body`, stamped with the proposer's wall time (ms since the epoch). */
  append(body: EventBody, wallTimeMs: number): ApiEvent {
    const e: ApiEvent = { seq: this.last + 1, time: new Date(wallTimeMs).toISOString(), ...body };
    this.last = e.seq;
    this.ring.push(e);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const s of [...this.subscribers]) s(e);
    return e;
  }

  subscribe(since: number | null, onEvent: (e: ApiEvent) => void): SubscribeResult {
    const from = since ?? this.last;
    const oldest = this.ring[0]?.seq ?? this.last + 1;
    // Resuming needs every event after `from` still in the ring (or none to have happened since).
    if (from < oldest - 1 || from > this.last) return { kind: 'gone', oldest, latest: this.last };
    for (const e of this.ring) if (e.seq > from) onEvent(e);
    this.subscribers.add(onEvent);
    return { kind: 'ok', subscription: { cancel: () => void this.subscribers.delete(onEvent) } };
  }
}
