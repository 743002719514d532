/**
 * The vminfod-style list and single views (RFD 0039: /vms, /vms/:uuid with filters) over the
 * group views: SUs, components and SIs with their group and node, filtered by `?group=` and
 * `?node=`. Lists answer `{<kind>: [...]}` objects so a cursor can be added beside the array.
 */
import type { CompView, GroupView, NodeView, SiView, StatusView, SuView } from './backend.js';

export interface ViewFilter {
  readonly group?: string;
  readonly node?: string;
}

export type SuListView = SuView & { readonly group: string };
export type CompListView = CompView & { readonly su: string; readonly group: string; readonly node: string | null };

function groupsOf(groups: readonly GroupView[], f: ViewFilter): readonly GroupView[] {
  return f.group === undefined ? groups : groups.filter((g) => g.name === f.group);
}

export function suList(groups: readonly GroupView[], f: ViewFilter): SuListView[] {
  return groupsOf(groups, f).flatMap((g) => g.units.filter((u) => f.node === undefined || u.node === f.node).map((u) => ({ ...u, group: g.name })));
}

export function compList(groups: readonly GroupView[], f: ViewFilter): CompListView[] {
  return suList(groups, f).flatMap((u) => u.components.map((c) => ({ ...c, su: u.name, group: u.group, node: u.node })));
}

/** `node`: the SIs with an assignment on that node. */
export function siList(groups: readonly GroupView[], f: ViewFilter): SiView[] {
  return groupsOf(groups, f).flatMap((g) => g.sis.filter((s) => f.node === undefined || s.assignments.some((a) => a.node === f.node)));
}

/** `group`: the nodes hosting an SU of the group; `node`: that one node. */
export function nodeList(nodes: readonly NodeView[], groups: readonly GroupView[], f: ViewFilter): NodeView[] {
  const hosts = f.group === undefined ? undefined : new Set(suList(groups, { group: f.group }).map((u) => u.node));
  return nodes.filter((n) => (f.node === undefined || n.name === f.node) && (hosts === undefined || hosts.has(n.name)));
}

/**
 * One word for the node's condition, like vminfod's `state`: `running` (holds its lease under a
 * known leader), `joining` (starting or waiting for its lease), `no-leader` (no Raft leader known:
 * writes fail), `frozen` (its lease ran out: components left alone), `stopped`.
 */
export type NodeCondition = 'running' | 'joining' | 'no-leader' | 'frozen' | 'stopped';

export function nodeCondition(s: StatusView): NodeCondition {
  if (s.lease.phase === 'stopped') return 'stopped';
  if (s.lease.phase === 'frozen') return 'frozen';
  if (s.raft.leader === null) return 'no-leader';
  return s.lease.phase === 'active' ? 'running' : 'joining';
}
