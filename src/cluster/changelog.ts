/**
 * The numbered change log: every observable change the FSM applied, in order, as the HTTP event
 * stream and the audit trail show it. A bounded ring (oldest dropped first); `seq` keeps counting
 * so a reader can tell it missed records.
 */
import type { AmfNotice } from '../amf/commands.js';
import type { ModelChange } from '../model/index.js';

export type ChangeKind = 'create' | 'modify' | 'delete' | 'escalation' | 'admin' | 'membership';

export interface ChangeRecord {
  readonly seq: number;
  /** The proposer's timestamp of the entry that caused it (ms since the epoch). */
  readonly time: number;
  /** `node/n1`, `su/SU1`, `comp/SU1/c`, `si/SI1`, `sg/g`, `config`. */
  readonly entity: string;
  readonly kind: ChangeKind;
  readonly field: string;
  readonly old: string | null;
  readonly new: string | null;
}

export type ChangeDraft = Omit<ChangeRecord, 'seq' | 'time'>;

export interface ChangeLogState {
  /** The seq of the last record appended (0: none yet). */
  last: number;
  records: ChangeRecord[];
}

export function appendChanges(log: ChangeLogState, capacity: number, time: number, drafts: readonly ChangeDraft[]): void {
  for (const d of drafts) log.records.push({ seq: ++log.last, time, ...d });
  if (log.records.length > capacity) log.records.splice(0, log.records.length - capacity);
}

/** Records after `seq` still in the ring (a reader that fell behind further sees a gap). */
export function changesSince(log: ChangeLogState, seq: number): readonly ChangeRecord[] {
  const first = log.records[0];
  if (!first || seq < first.seq) return log.records;
  return log.records.slice(seq - first.seq + 1);
}

export function noticeChange(n: AmfNotice): ChangeDraft | null {
  switch (n.kind) {
    case 'state-change':
      return {
        entity: `${n.entity}/${n.name}`,
        kind: n.entity === 'node' && n.attr === 'membership' ? 'membership' : 'modify',
        field: n.attr,
        old: n.from,
        new: n.to,
      };
    case 'assignment':
      return { entity: `si/${n.si}`, kind: n.from === null ? 'create' : n.to === null ? 'delete' : 'modify', field: `su/${n.su}`, old: n.from, new: n.to };
    case 'recovery':
      return { entity: `comp/${n.su}/${n.comp}`, kind: 'escalation', field: 'recovery', old: null, new: `${n.action} L${n.level}: ${n.reason}` };
    case 'escalation':
      return { entity: `${n.scope}/${n.name}`, kind: 'escalation', field: 'level', old: String(n.from), new: `${n.to}: ${n.reason}` };
    case 'ignored':
      return null;
  }
}

export function modelChange(c: ModelChange): ChangeDraft {
  const entity = `config/${c.entity.type}/${c.entity.path.join('/')}`;
  if (c.op === 'modify') return { entity, kind: 'modify', field: c.attribute, old: c.old ?? null, new: c.new ?? null };
  return { entity, kind: c.op === 'add' ? 'create' : 'delete', field: c.entity.type, old: c.op === 'remove' ? c.entity.label : null, new: c.op === 'add' ? c.entity.label : null };
}
