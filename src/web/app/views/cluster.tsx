/** The nodes: membership and lease as the cluster decided, gossip as the serving node hears it, Raft. */
import type { NodeView, StatusView } from '../../../api/backend.js';
import { clock, nodeLabel } from '../format.js';
import type { Act } from './actions.js';
import { Badge, State } from './badge.js';
import { ActCell, StateCell, Table } from './table.js';

function raftOf(n: NodeView, status: StatusView): string {
  // The serving node knows its own role exactly; the others by the configuration and the leader.
  if (n.name === status.node) return status.raft.role;
  if (n.name === status.raft.leader) return 'leader';
  // A voter that is down follows no one: say what it is in the configuration.
  if (n.raft === 'voter') return n.up ? 'follower' : 'voter';
  return n.raft === 'nonvoter' ? 'non-voter' : '-';
}

/** n1, n2, … n10 (the API lists them in the order they joined). */
const byName = (a: NodeView, b: NodeView): number => a.name.localeCompare(b.name, 'en', { numeric: true });

export function Nodes({ nodes, status, act }: { readonly nodes: readonly NodeView[]; readonly status: StatusView; readonly act: Act }) {
  const up = nodes.filter((n) => n.up).length;
  return (
    <section aria-labelledby="nodes-h">
      <h2 id="nodes-h">
        Nodes <small>{up} of {nodes.length} up</small>
      </h2>
      <Table name="nodes" columns={['Node', 'State', `Raft (term ${status.raft.term})`, 'Lease', 'Gossip', 'Admin', 'Oper', 'SUs']} actions>
        {[...nodes].sort(byName).map((n) => {
          const member = status.members.find((m) => m.name === n.name);
          return (
            <tr key={n.name} data-node={n.name} data-up={String(n.up)} class={n.up ? '' : 'lost'}>
              <th scope="row">
                {n.name}
                {n.name === status.node ? <small> (this page)</small> : null}
              </th>
              <td class="node-state">
                <Badge label={nodeLabel(n, member)} /> {n.since ? <small>since {clock(n.since)}</small> : null}
              </td>
              <StateCell value={raftOf(n, status)} />
              {n.name === status.node ? (
                <td>
                  <State value={n.lease} /> <small title="this node's own lease: its phase, and whether it holds one now">own: {status.lease.phase}{status.lease.held ? '' : ', not held'}</small>
                </td>
              ) : (
                <StateCell value={n.lease} />
              )}
              {member ? <StateCell value={member.state} /> : <td>-</td>}
              <StateCell value={n.admin} />
              <StateCell value={n.oper} />
              <td>{n.sus.join(' ') || '-'}</td>
              <ActCell target={{ kind: 'node', name: n.name }} act={act} />
            </tr>
          );
        })}
      </Table>
    </section>
  );
}
