/**
 * The console's view of the cluster, as pure functions: built from one read of the API's views,
 * then moved forward by each event of `/v1/events` (what changed, old → new), the way the engine
 * reported it. Immutable: each event returns a new state sharing what it did not touch, so the
 * page re-renders only what changed. What an event cannot say exactly (escalation counters, a
 * new config, an entity kind this page does not know) is answered by asking to re-read: `reread`.
 * No clock, no I/O: the node tests drive it directly.
 */
import type { ApiEvent } from '../../api/events.js';
import type { CompView, ConfigView, GroupView, NodeView, SiView, StatusView, SuView } from '../../api/backend.js';

/** Events kept for the event log (oldest dropped first): the page's memory stays bounded. */
export const LOG_WINDOW = 1000;
/** Recoveries and escalations kept per SG. */
export const RECOVERY_WINDOW = 5;

export interface Snapshot {
  readonly status: StatusView;
  readonly nodes: readonly NodeView[];
  readonly groups: readonly GroupView[];
  readonly config: ConfigView;
}

export interface ConsoleState extends Snapshot {
  /** The last event seen; the views include every event up to it. */
  readonly seq: number;
  /** The latest events, oldest first, at most LOG_WINDOW. */
  readonly log: readonly ApiEvent[];
  /** Per SG: its latest recoveries and escalations, oldest first. */
  readonly recoveries: Readonly<Record<string, readonly ApiEvent[]>>;
  /** SU, SI and SG name → the index of its group in `groups`. */
  readonly where: ReadonlyMap<string, number>;
}

/** What to read again after an event: nothing, one SG (`/v1/groups/:sg`), or every view. */
export type Reread = null | { readonly sg: string } | 'all';

export interface Applied {
  readonly state: ConsoleState;
  readonly reread: Reread;
}

function indexGroups(groups: readonly GroupView[]): Map<string, number> {
  const where = new Map<string, number>();
  groups.forEach((g, i) => {
    where.set(g.name, i);
    for (const u of g.units) where.set(u.name, i);
    for (const s of g.sis) where.set(s.name, i);
  });
  return where;
}

export function initialState(s: Snapshot): ConsoleState {
  return { ...s, seq: s.status.lastEventSeq, log: [], recoveries: {}, where: indexGroups(s.groups) };
}

/**
 * A fresh read of every view (after a config change, an unknown event). `seq` stays: the stream
 * goes on from there, and events the read already shows apply again without effect.
 */
export function withSnapshot(st: ConsoleState, s: Snapshot): ConsoleState {
  return { ...st, ...s, seq: st.seq, where: indexGroups(s.groups) };
}

/** A fresh read of one SG. */
export function withGroup(st: ConsoleState, g: GroupView): ConsoleState {
  const i = st.where.get(g.name);
  if (i === undefined || st.groups[i]?.name !== g.name) return st;
  const groups = st.groups.slice();
  groups[i] = g;
  return { ...st, groups };
}

export function withStatus(st: ConsoleState, status: StatusView): ConsoleState {
  return { ...st, status };
}

const pushBounded = <T>(list: readonly T[], item: T, max: number): readonly T[] => (list.length >= max ? [...list.slice(list.length - max + 1), item] : [...list, item]);

function isRecovery(e: ApiEvent): boolean {
  return e.kind === 'escalation' || (e.kind === 'membership' && e.field === 'fencing');
}

/**
 * One event. `viewsFrom`: events at or below it are history (they go to the log only: the views
 * were read after them); above it they move the views.
 */
export function applyEvent(st: ConsoleState, e: ApiEvent, viewsFrom: number = st.seq): Applied {
  const log = pushBounded(st.log, e, LOG_WINDOW);
  const sgIndex = groupOf(st, e.entity);
  const sg = sgIndex === undefined ? undefined : st.groups[sgIndex]?.name;
  const recoveries = isRecovery(e) && sg !== undefined ? { ...st.recoveries, [sg]: pushBounded(st.recoveries[sg] ?? [], e, RECOVERY_WINDOW) } : st.recoveries;
  const base: ConsoleState = { ...st, log, recoveries, seq: Math.max(st.seq, e.seq) };
  if (e.seq <= viewsFrom) return { state: base, reread: null };
  return applyToViews(base, e);
}

/** The index in `groups` of the SG an entity (`su/x`, `comp/x/c`, `si/x`, `sg/x`) belongs to. */
function groupOf(st: ConsoleState, entity: string): number | undefined {
  const [type, name = ''] = entity.split('/');
  return type === 'comp' || type === 'su' || type === 'si' || type === 'sg' ? st.where.get(name) : undefined;
}

/** An event's effect on the views alone (again after a re-read that may predate it). */
export function applyToViews(st: ConsoleState, e: ApiEvent): Applied {
  const [type, name = '', comp] = e.entity.split('/');
  const sgIndex = groupOf(st, e.entity);
  const base = st;
  switch (type) {
    case 'node':
      return nodeEvent(base, name, e);
    case 'sg':
      return sgIndex === undefined ? { state: base, reread: 'all' } : groupEvent(base, sgIndex, e, (g) => (e.field === 'admin' ? { ...g, admin: e.new as GroupView['admin'] } : null));
    case 'su':
      return sgIndex === undefined ? { state: base, reread: 'all' } : suEvent(base, sgIndex, name, e);
    case 'comp':
      return sgIndex === undefined ? { state: base, reread: 'all' } : compEvent(base, sgIndex, name, comp ?? '', e);
    case 'si':
      return sgIndex === undefined ? { state: base, reread: 'all' } : siEvent(base, sgIndex, name, e);
    case 'config':
      // A new config: new entities, new ranks. The diff itself is in the log and in lastChange.
      return { state: base, reread: e.entity === 'config' && e.field === 'epoch' ? 'all' : null };
    default:
      // An entity this page does not know yet (a newer node): read the views again.
      return { state: base, reread: 'all' };
  }
}

/** `x (reason)` → `x`. */
const head = (v: string | null): string => (v ?? '').split(' ')[0] ?? '';

function nodeEvent(st: ConsoleState, name: string, e: ApiEvent): Applied {
  const i = st.nodes.findIndex((n) => n.name === name);
  if (i < 0) return { state: st, reread: 'all' };
  const n = st.nodes[i]!;
  let next: NodeView | null = null;
  switch (e.field) {
    case 'membership':
      next = { ...n, up: e.new === 'up' };
      break;
    case 'incarnation':
      next = head(e.new) === 'down' ? { ...n, up: false, lease: 'expired', since: e.time } : { ...n, up: true, lease: 'held', incarnation: head(e.new), since: e.time };
      break;
    case 'fencing':
      next = head(e.new) === 'condemned:' ? { ...n, lease: 'condemned' } : n;
      break;
    case 'admin':
      next = { ...n, admin: e.new as NodeView['admin'] };
      break;
    case 'oper':
      next = { ...n, oper: e.new as NodeView['oper'] };
      break;
    case 'op':
    case 'level':
      next = n;
      break;
  }
  if (next === null) return { state: st, reread: 'all' };
  if (next === n) return { state: st, reread: null };
  const nodes = st.nodes.slice();
  nodes[i] = next;
  return { state: { ...st, nodes }, reread: null };
}

/** Replace group `i` by `f(group)`; null from `f`: the event is not understood, read the SG again. */
function groupEvent(st: ConsoleState, i: number, e: ApiEvent, f: (g: GroupView) => GroupView | null): Applied {
  const g = st.groups[i]!;
  const next = f(g);
  if (next === null) return { state: st, reread: { sg: g.name } };
  if (next === g) return { state: st, reread: e.kind === 'escalation' ? { sg: g.name } : null };
  const groups = st.groups.slice();
  groups[i] = next;
  // Escalation counters have no event of their own: they change with a recovery.
  return { state: { ...st, groups }, reread: e.kind === 'escalation' ? { sg: g.name } : null };
}

const SU_FIELDS = new Set(['presence', 'oper', 'readiness', 'admin']);

function withUnit(g: GroupView, name: string, f: (u: SuView) => SuView): GroupView {
  return { ...g, units: g.units.map((u) => (u.name === name ? f(u) : u)) };
}

function suEvent(st: ConsoleState, i: number, name: string, e: ApiEvent): Applied {
  let moved: { from: string | null; to: string | null } | null = null;
  const applied = groupEvent(st, i, e, (g) => {
    if (SU_FIELDS.has(e.field)) return withUnit(g, name, (u) => ({ ...u, [e.field]: e.new }));
    if (e.field === 'node') {
      const to = e.new === '-' ? null : e.new;
      moved = { from: e.old === '-' ? null : e.old, to };
      return { ...withUnit(g, name, (u) => ({ ...u, node: to })), sis: g.sis.map((s) => ({ ...s, assignments: s.assignments.map((a) => (a.su === name ? { ...a, node: to } : a)) })) };
    }
    if (e.field === 'op' || e.field === 'level') return g;
    return null;
  });
  const m = moved as { from: string | null; to: string | null } | null;
  if (!m) return applied;
  // The nodes' SU lists follow the placement.
  const nodes = applied.state.nodes.map((n) => (n.name === m.from ? { ...n, sus: n.sus.filter((s) => s !== name) } : n.name === m.to && !n.sus.includes(name) ? { ...n, sus: [...n.sus, name] } : n));
  return { state: { ...applied.state, nodes }, reread: applied.reread };
}

function compEvent(st: ConsoleState, i: number, su: string, comp: string, e: ApiEvent): Applied {
  return groupEvent(st, i, e, (g) => {
    if (e.field === 'presence' || e.field === 'oper') {
      return withUnit(g, su, (u) => ({ ...u, components: u.components.map((c): CompView => (c.name === comp ? { ...c, [e.field]: e.new } : c)) }));
    }
    if (e.field === 'recovery' || e.field === 'error-report' || e.field === 'op') return g;
    return null;
  });
}

/** Insert or replace `item` in a list kept in `order` (SU or SI rank), keyed by `key`. */
function placeInOrder<T>(list: readonly T[], item: T, key: (x: T) => string, order: readonly string[]): T[] {
  const k = key(item);
  const rest = list.filter((x) => key(x) !== k);
  const rank = order.indexOf(k);
  const at = rest.findIndex((x) => order.indexOf(key(x)) > rank);
  return at < 0 ? [...rest, item] : [...rest.slice(0, at), item, ...rest.slice(at)];
}

function siEvent(st: ConsoleState, i: number, si: string, e: ApiEvent): Applied {
  return groupEvent(st, i, e, (g) => {
    if (e.field === 'admin' || e.field === 'assignment') return { ...g, sis: g.sis.map((s) => (s.name === si ? { ...s, [e.field]: e.new } : s)) };
    if (e.field === 'op') return g;
    if (!e.field.startsWith('su/')) return null;
    // An SU–SI assignment created, changed HA state, or removed.
    const su = e.field.slice('su/'.length);
    const unit = g.units.find((u) => u.name === su);
    if (!unit) return null;
    const ha = e.new as SiView['assignments'][number]['ha'] | null;
    const suOrder = g.units.map((u) => u.name);
    const siOrder = g.sis.map((s) => s.name);
    return {
      ...g,
      units: g.units.map((u) => (u.name !== su ? u : { ...u, assignments: ha === null ? u.assignments.filter((a) => a.si !== si) : placeInOrder(u.assignments, { si, ha }, (a) => a.si, siOrder) })),
      sis: g.sis.map((s) => (s.name !== si ? s : { ...s, assignments: ha === null ? s.assignments.filter((a) => a.su !== su) : placeInOrder(s.assignments, { su, node: unit.node, ha }, (a) => a.su, suOrder) })),
    };
  });
}
