/** Every SG: its SUs with their states and HA assignments, its SIs, escalation counters, last recoveries. */
import { formatEvent, type ApiEvent } from '../../../api/events.js';
import type { GroupView } from '../../../api/backend.js';
import { MODEL_NAMES, haLabel } from '../format.js';
import type { Act } from './actions.js';
import { Badge, State } from './badge.js';
import { ActButton, ActCell, StateCell, Table } from './table.js';

// What matters most comes first (a phone shows the first columns without scrolling).
const UNIT_COLUMNS = [
  'SU',
  'Node',
  'HA per SI',
  'Readiness',
  'Presence',
  'Admin',
  'Oper',
  <abbr key="r" title="component restarts / SU restarts in the probation window">
    Restarts
  </abbr>,
];

function Units({ g, act }: { readonly g: GroupView; readonly act: Act }) {
  return (
    <Table name="units" caption={`Service units of ${g.name}`} columns={UNIT_COLUMNS} actions>
      {g.units.map((u) => (
        <tr key={u.name} data-su={u.name}>
          <th scope="row">{u.name}</th>
          <td>{u.node ?? '-'}</td>
          <td class="ha">
            {u.assignments.length === 0
              ? '-'
              : u.assignments.map((a) => (
                  <span key={a.si} class="assignment" data-si={a.si} data-ha={a.ha}>
                    {a.si}: <Badge label={haLabel(a.ha)} />
                  </span>
                ))}
          </td>
          <StateCell value={u.readiness} />
          <StateCell value={u.presence} />
          <StateCell value={u.admin} />
          <StateCell value={u.oper} />
          <td>
            {u.escalation.compRestarts} / {u.escalation.suRestarts}
          </td>
          <ActCell target={{ kind: 'su', name: u.name }} act={act} />
        </tr>
      ))}
    </Table>
  );
}

function Sis({ g, act }: { readonly g: GroupView; readonly act: Act }) {
  return (
    <Table name="sis" caption={`Service instances of ${g.name}`} columns={['SI', 'Where', 'Assignment', 'Admin']} actions>
      {g.sis.map((s) => {
        const active = s.assignments.filter((a) => a.ha === 'active').map((a) => a.node ?? '-');
        return (
          <tr key={s.name} data-si={s.name} data-assignment={s.assignment} data-active={active.join(' ')}>
            <th scope="row">{s.name}</th>
            <td class="ha">
              {s.assignments.length === 0
                ? 'unassigned'
                : s.assignments.map((a) => (
                    <span key={a.su} class="assignment" data-su={a.su} data-ha={a.ha}>
                      {a.su}@{a.node ?? '-'} <Badge label={haLabel(a.ha)} />
                    </span>
                  ))}
            </td>
            <StateCell value={s.assignment} />
            <StateCell value={s.admin} />
            <ActCell target={{ kind: 'si', name: s.name }} act={act} />
          </tr>
        );
      })}
    </Table>
  );
}

export function Group({ g, recoveries, act }: { readonly g: GroupView; readonly recoveries: readonly ApiEvent[]; readonly act: Act }) {
  return (
    <section class="group" aria-labelledby={`sg-${g.name}`} data-sg={g.name}>
      <h2 id={`sg-${g.name}`}>
        SG {g.name}{' '}
        <small>
          {MODEL_NAMES[g.model] ?? g.model}, <State value={g.admin} />
        </small>{' '}
        <ActButton target={{ kind: 'sg', name: g.name }} act={act} />
      </h2>
      <Units g={g} act={act} />
      <Sis g={g} act={act} />
      {recoveries.length === 0 ? (
        <p class="quiet">
          <strong>Last recoveries and escalations:</strong> none in the events this page has seen.
        </p>
      ) : (
        <>
          <h3>Last recoveries and escalations</h3>
          <ol class="recoveries" reversed>
            {[...recoveries].reverse().map((e) => (
              <li key={e.seq}>
                <code>{formatEvent(e)}</code>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
