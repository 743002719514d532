/** `amfctl admin <op> <entity>`, `amfctl admit <node>` and `amfctl report-error <su/comp>`. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { type ApiClient, type ConnectionOptions, fail, withClient, withConnection } from './client.js';
import { EXIT } from './exit.js';
import { asCtlIo, type CtlIo } from './io.js';
import type { GroupView, NodeView } from '../../api/backend.js';
import { ADMIN_KINDS, ADMIN_OPS, AdminKind, AdminOp, RECOVERIES } from '../../model/vocabulary.js';
import type { Recovery } from '../../model/index.js';
import type { CliIo } from '../config/io.js';
import type { Seat } from '../../api/schemas.js';

/**
 * `kind/name` as given, or the kind found by looking the bare name up in the cluster (node, SG,
 * SU or SI names are usually distinct; when they are not, the operator must say which).
 */
export async function resolveEntity(client: ApiClient, entity: string, io: CtlIo): Promise<{ kind: AdminKind; name: string } | number> {
  const slash = entity.indexOf('/');
  if (slash > 0) {
    const kind = AdminKind.safeParse(entity.slice(0, slash));
    if (!kind.success) {
      io.stderr(`amfctl: unknown entity kind ${JSON.stringify(entity.slice(0, slash))}: use one of ${ADMIN_KINDS.join(', ')} (e.g. su/SU_1)\n`);
      return EXIT.usage;
    }
    return { kind: kind.data, name: entity.slice(slash + 1) };
  }
  const [nodes, groups] = await Promise.all([client.get<{ nodes: NodeView[] }>('/v1/nodes'), client.get<{ groups: GroupView[] }>('/v1/groups')]);
  if (!nodes.ok) return fail(nodes.error, io);
  if (!groups.ok) return fail(groups.error, io);
  const g = groups.value.body.groups;
  const found: AdminKind[] = [];
  if (nodes.value.body.nodes.some((n) => n.name === entity)) found.push('node');
  if (g.some((x) => x.name === entity)) found.push('sg');
  if (g.some((x) => x.units.some((u) => u.name === entity))) found.push('su');
  if (g.some((x) => x.sis.some((s) => s.name === entity))) found.push('si');
  if (found.length === 1) return { kind: found[0]!, name: entity };
  if (found.length === 0) io.stderr(`amfctl: no node, group, SU or SI is named ${entity}; amfctl status lists them\n`);
  else io.stderr(`amfctl: ${entity} names a ${found.join(' and a ')}; say which, e.g. ${found[0]}/${entity}\n`);
  return EXIT.refused;
}

/** `to`: the destination node, which `migrate` needs and no other operation takes. */
export async function runAdmin(client: ApiClient, op: AdminOp, entity: string, io: CtlIo, to?: string): Promise<number> {
  if ((op === 'migrate') !== (to !== undefined)) {
    io.stderr(op === 'migrate' ? 'amfctl: migrate needs the destination: amfctl admin migrate SU --to NODE\n' : `amfctl: --to is for migrate only, not ${op}\n`);
    return EXIT.usage;
  }
  const target = await resolveEntity(client, entity, io);
  if (typeof target === 'number') return target;
  const path = `/v1/admin/${target.kind}/${encodeURIComponent(target.name)}/${op}`;
  const r = await client.send('POST', path, to === undefined ? {} : { to });
  if (!r.ok) return fail(r.error, io);
  // A migration is under way once accepted; the events show it arrive (su … node, migration).
  io.stdout(to === undefined ? `${op} ${target.kind} ${target.name}: done\n` : `migrate ${target.kind} ${target.name} to ${to}: started (amfctl events shows it arrive)\n`);
  return EXIT.ok;
}

export async function reportError(client: ApiClient, component: string, recovery: Recovery, reason: string, io: CtlIo): Promise<number> {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(component);
  if (!m) {
    io.stderr(`amfctl: name the component as SU/component, e.g. SU_1/httpd (got ${JSON.stringify(component)})\n`);
    return EXIT.usage;
  }
  const r = await client.send('POST', `/v1/components/${encodeURIComponent(m[1]!)}/${encodeURIComponent(m[2]!)}/error`, { recovery, reason });
  if (!r.ok) return fail(r.error, io);
  io.stdout(`error reported on ${component} (recommended recovery: ${recovery})\n`);
  return EXIT.ok;
}

/** `amfctl admit NODE [--nonvoter] [--revoke]`: a Raft seat for a node the configuration does not name. */
export async function admitNode(client: ApiClient, node: string, seat: Seat, io: CtlIo): Promise<number> {
  const r = await client.send('PUT', `/v1/members/${encodeURIComponent(node)}/seat`, { seat });
  if (!r.ok) return fail(r.error, io);
  io.stdout(seat === 'none' ? `${node}: admission revoked (a seat only if the configuration names it)\n` : `${node}: admitted as a ${seat}; the leader adds it once it is an alive member\n`);
  return EXIT.ok;
}

function opArg(v: string): AdminOp {
  const op = AdminOp.safeParse(v);
  if (!op.success) throw new InvalidArgumentError(`one of ${ADMIN_OPS.join(', ')}`);
  return op.data;
}

export function adminCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('admin'))
    .description(`run an administrative operation (${ADMIN_OPS.join(', ')}) on a node, group, SU or SI`)
    .argument('<op>', 'the operation', opArg)
    .argument('<entity>', 'the entity: its name, or kind/name when names clash (node/n1, sg/web, su/SU_1, si/SI_1)')
    .option('--to <node>', 'migrate: the destination node (a VM SU moves there live)')
    .action(async (op: AdminOp, entity: string, o: ConnectionOptions & { to?: string }) => done(await withClient(o, io, (c) => runAdmin(c, op, entity, io, o.to))));
}

export function admitCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('admit'))
    .description('give a node the configuration does not name a Raft seat (voter, or --nonvoter), or take it back (--revoke); recorded in the log')
    .argument('<node>', 'the member name, as amfctl members shows it')
    .option('--nonvoter', 'a non-voting seat (replicates the log, never counts for a quorum)')
    .option('--revoke', 'take the admission back')
    .action(async (node: string, o: ConnectionOptions & { nonvoter?: boolean; revoke?: boolean }) =>
      done(await withClient(o, io, (c) => admitNode(c, node, o.revoke ? 'none' : o.nonvoter ? 'nonvoter' : 'voter', io))),
    );
}

export function reportErrorCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('report-error'))
    .description('report an error on a component, as the component itself would (for scripts and monitors)')
    .argument('<component>', 'SU/component, e.g. SU_1/httpd')
    .addOption(new Option('--recovery <recovery>', 'recommended recovery').choices(RECOVERIES).default('no-recommendation'))
    .option('--reason <text>', 'why, for the event stream and logs', 'reported by amfctl')
    .action(async (component: string, o: ConnectionOptions & { recovery: Recovery; reason: string }) =>
      done(await withClient(o, io, (c) => reportError(c, component, o.recovery, o.reason, io))),
    );
}
