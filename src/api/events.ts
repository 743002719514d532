/**
 * The event stream's model (vminfod's /events, RFD 0039): every change is one event naming the
 * entity, the field, and the value before and after. The events are the cluster's numbered change
 * log (`src/cluster/changelog.ts`: the FSM appends one record per observable change, so every
 * node numbers the same history alike); this module turns records into API events and fans them
 * out to readers with resume by `since`.
 */
import type { ConfigView, SubscribeResult } from './backend.js';
import type { ChangeKind, ChangeRecord } from '../cluster/changelog.js';
import { assert } from '../util/assert.js';

export type ApiEventKind = ChangeKind;

export interface ApiEvent {
  /** 1, 2, 3, … without gaps. */
  readonly seq: number;
  /** ISO-8601 time the change was stamped by its proposer. */
  readonly time: string;
  /** `node/n1`, `sg/web`, `su/SU_1`, `comp/SU_1/httpd`, `si/SI_1`, `config`, `config/unit/web/SU_1`. */
  readonly entity: string;
  readonly kind: ApiEventKind;
  readonly field: string;
  readonly old: string | null;
  readonly new: string | null;
}

export function toApiEvent(r: ChangeRecord): ApiEvent {
  return { seq: r.seq, time: new Date(r.time).toISOString(), entity: r.entity, kind: r.kind, field: r.field, old: r.old, new: r.new };
}

/**
 * The last config change still in the change log: its `config` epoch record and the semantic diff
 * records the same entry appended right after it (src/cluster/fsm.ts; only a config change makes
 * `config/...` records), or null when no longer kept.
 */
export function lastConfigChange(records: readonly ChangeRecord[]): ConfigView['lastChange'] {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i]!;
    if (r.entity !== 'config' || r.field !== 'epoch') continue;
    const changes: ApiEvent[] = [];
    for (let j = i + 1; j < records.length && records[j]!.entity.startsWith('config/'); j++) changes.push(toApiEvent(records[j]!));
    return { epoch: Number(r.new), seq: r.seq, time: new Date(r.time).toISOString(), changes };
  }
  return null;
}

/** How people read an entity: `SU_1`, `SU_1/httpd`, `n1`; config entities keep their path. */
function entityLabel(entity: string): string {
  return entity.startsWith('config') ? entity : entity.slice(entity.indexOf('/') + 1);
}

/**
 * One line the way vminfod prints it:
 * `[2026-11-22T10:00:00.000Z] SU_1 modify: readiness changed :: "in-service" -> "out-of-service"`.
 */
export function formatEvent(e: ApiEvent): string {
  const verb = e.old === null && e.new !== null ? 'added' : e.new === null && e.old !== null ? 'removed' : 'changed';
  return `[${e.time}] ${entityLabel(e.entity)} ${e.kind}: ${e.field} ${verb} :: ${JSON.stringify(e.old)} -> ${JSON.stringify(e.new)}`;
}

/** Where the feed reads the change log (the cluster node's FSM ring). */
export interface ChangeSource {
  /** Records after `afterSeq` still kept, oldest first. */
  changes(afterSeq: number): readonly ChangeRecord[];
  /** The seq of the last record appended (0: none yet). */
  lastSeq(): number;
}

/**
 * Fans the change log out to API readers. Call `notify()` after every applied log entry (the
 * cluster node's onApplied); readers get each record once, in seq order, and may resume from a
 * seq still kept in the ring.
 */
export class ChangeFeed {
  private readonly subscribers = new Set<(e: ApiEvent) => void>();
  /** The last seq published to subscribers. */
  private published: number;

  constructor(private readonly source: ChangeSource) {
    this.published = source.lastSeq();
  }

  notify(): void {
    const fresh = this.source.changes(this.published);
    for (const r of fresh) {
      assert(r.seq > this.published, `change log went backwards: ${r.seq} after ${this.published}`);
      this.published = r.seq;
      const e = toApiEvent(r);
      for (const s of [...this.subscribers]) s(e);
    }
  }

  subscribe(since: number | null, onEvent: (e: ApiEvent) => void): SubscribeResult {
    const from = since ?? this.published;
    const kept = this.source.changes(from);
    const oldest = kept[0]?.seq ?? this.source.lastSeq() + 1;
    // Resuming needs the record right after `from` still in the ring, or nothing to have happened.
    if (from > this.source.lastSeq() || (kept.length > 0 && oldest !== from + 1)) return { kind: 'gone', oldest, latest: this.source.lastSeq() };
    // Records not yet published arrive through notify(), so replay stops where it left off.
    for (const r of kept) if (r.seq <= this.published) onEvent(toApiEvent(r));
    this.subscribers.add(onEvent);
    return { kind: 'ok', subscription: { cancel: () => void this.subscribers.delete(onEvent) } };
  }
}
