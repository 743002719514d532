/**
 * Every component: kind, process state, healthchecks, and whatever else the API reports for it
 * (a VM's domain state, a guest heartbeat) shown by name, so new component facts appear here
 * without a change to this page.
 */
import type { CompView, GroupView } from '../../../api/backend.js';
import type { ApiEvent } from '../../../api/events.js';
import { clock } from '../format.js';
import { StateCell, Table } from './table.js';

const KNOWN = new Set(['name', 'kind', 'category', 'healthchecks', 'presence', 'oper', 'attempt']);

/** Facts beyond the ones this page knows, as `name: value` text. */
function extras(c: CompView): string[] {
  return Object.entries(c as unknown as Record<string, unknown>)
    .filter(([k]) => !KNOWN.has(k))
    .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? Object.entries(v as Record<string, unknown>).map(([a, b]) => `${a}=${String(b)}`).join(', ') : String(v)}`);
}

const seconds = (ms: number): string => `${ms / 1000} s`;

export function Components({ groups, log }: { readonly groups: readonly GroupView[]; readonly log: readonly ApiEvent[] }) {
  // The last failure or recovery the page has seen, per component.
  const last = new Map<string, ApiEvent>();
  for (const e of log) if (e.entity.startsWith('comp/') && (e.kind === 'escalation' || e.kind === 'admin' || (e.field === 'oper' && e.new === 'disabled'))) last.set(e.entity, e);
  const rows = groups.flatMap((g) => g.units.flatMap((u) => u.components.map((c) => ({ g, u, c }))));
  return (
    <section aria-labelledby="comps-h">
      <h2 id="comps-h">
        Components <small>{rows.length}</small>
      </h2>
      <Table name="components" columns={['Component', 'SG', 'Node', 'Kind', 'Presence', 'Oper', 'Attempt', 'Healthchecks', 'More', 'Last failure']}>
        {rows.map(({ g, u, c }) => {
          const e = last.get(`comp/${u.name}/${c.name}`);
          const more = extras(c);
          return (
            <tr key={`${u.name}/${c.name}`} data-comp={`${u.name}/${c.name}`}>
              <th scope="row">
                {u.name}/{c.name}
              </th>
              <td>{g.name}</td>
              <td>{u.node ?? '-'}</td>
              <td>
                {c.kind} <small>{c.category.replaceAll('_', '-')}</small>
              </td>
              <StateCell value={c.presence} />
              <StateCell value={c.oper} />
              <td>{c.attempt}</td>
              <td>{c.healthchecks.length === 0 ? 'none' : c.healthchecks.map((h) => `${h.key} every ${seconds(h.periodMs)} (${h.invocation})`).join('; ')}</td>
              <td>{more.length === 0 ? '-' : more.join('; ')}</td>
              <td class="wrap">{e ? `${clock(e.time)} ${e.field}: ${e.new ?? ''}` : '-'}</td>
            </tr>
          );
        })}
      </Table>
    </section>
  );
}
