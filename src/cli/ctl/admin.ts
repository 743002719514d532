/** `amfctl admin <op> <entity>`, `amfctl admit <node>` and `amfctl report-error <su/comp>`. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { type ApiClient, type ConnectionOptions, fail, withClient, withConnection } from './client.js';
import { EXIT } from './exit.js';
import { asCtlIo, type CtlIo } from './io.js';
import type { GroupView, NodeView } from '../../api/backend.js';
import type { AdminEntityKind } from '../../api/admin-target.js';
import { waitForAdmin } from './wait.js';
import { ADMIN_KINDS, ADMIN_OPS, AdminKind, AdminOp, RECOVERIES } from '../../model/vocabulary.js';
import type { Recovery } from '../../model/index.js';
import type { CliIo } from '../config/io.js';
import type { Seat } from '../../api/schemas.js';

/**
 * `kind/name` as given, or the kind found by looking the bare name up in the cluster (node, SG,
 * SU or SI names are usually distinct; when they are not, the operator must say which).
 */
export async function resolveEntity(client: ApiClient, entity: string, io: CtlIo): Promise<{ kind: AdminEntityKind; name: string } | number> {
  const parts = entity.split('/');
  if (parts.length === 3 && parts[0] === 'comp') return { kind: 'comp', name: `${parts[1]}/${parts[2]}` };
  if (parts.length === 2 && parts.every((p) => p !== '')) {
    const kind = AdminKind.safeParse(parts[0]);
    if (kind.success) return { kind: kind.data, name: parts[1]! };
    // Not a kind: SU/component, the names report-error takes, when there is such an SU.
    const groups = await client.get<{ groups: GroupView[] }>('/v1/groups');
    if (!groups.ok) return fail(groups.error, io);
    if (groups.value.body.groups.some((g) => g.units.some((u) => u.name === parts[0]))) return { kind: 'comp', name: entity };
    io.stderr(`amfctl: ${JSON.stringify(parts[0])} is neither an entity kind (${ADMIN_KINDS.join(', ')}; e.g. su/SU_1) nor an SU (for SU/component)\n`);
    return EXIT.usage;
  }
  if (parts.length > 1) {
    io.stderr(`amfctl: ${JSON.stringify(entity)} names nothing: give a name, kind/name (${ADMIN_KINDS.join(', ')}; e.g. su/SU_1) or SU/component\n`);
    return EXIT.usage;
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

export interface AdminOptions {
  /** Wait until the operation has taken effect (the default), up to timeoutMs. */
  readonly wait: boolean;
  readonly json: boolean;
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** The destination node, which `migrate` needs and no other operation takes. */
  readonly to?: string;
}

export const ADMIN_DEFAULTS: AdminOptions = { wait: true, json: false, timeoutMs: 120_000, pollMs: 250 };

function adminPath(kind: AdminEntityKind, name: string, op: AdminOp): string {
  const n = kind === 'comp' ? name.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(name);
  return `/v1/admin/${kind}/${n}/${op}`;
}

export async function runAdmin(client: ApiClient, op: AdminOp, entity: string, io: CtlIo, options: Partial<AdminOptions> = {}): Promise<number> {
  const o = { ...ADMIN_DEFAULTS, ...options };
  const to = o.to;
  if ((op === 'migrate') !== (to !== undefined)) {
    io.stderr(op === 'migrate' ? 'amfctl: migrate needs the destination: amfctl admin migrate SU --to NODE\n' : `amfctl: --to is for migrate only, not ${op}\n`);
    return EXIT.usage;
  }
  const target = await resolveEntity(client, entity, io);
  if (typeof target === 'number') return target;
  const { kind, name } = target;
  const label = `${op} ${kind} ${name}${to === undefined ? '' : ` to ${to}`}`;
  const path = adminPath(kind, name, op);
  // The events from here on are this operation's progress.
  const status = o.wait ? await client.get<{ lastEventSeq: number }>('/status') : null;
  if (status && !status.ok) return fail(status.error, io);
  const r = await client.send('POST', path, to === undefined ? {} : { to });
  if (!r.ok) {
    if (o.json) io.stdout(`${JSON.stringify({ op, kind, name, state: 'refused', reason: r.error.message })}\n`);
    return fail(r.error, io);
  }
  if (!status) {
    io.stdout(o.json ? `${JSON.stringify({ op, kind, name, state: 'committed' })}\n` : `${label}: committed (not waiting)\n`);
    return EXIT.ok;
  }
  if (!o.json) io.stdout(`${label}: committed; waiting until it has taken effect\n`);
  const w = await waitForAdmin(client, path, status.value.body.lastEventSeq, { timeoutMs: o.timeoutMs, pollMs: o.pollMs, printEvents: !o.json }, io);
  if (!w.ok) return fail(w.error, io);
  const res = w.value;
  if (o.json) io.stdout(`${JSON.stringify({ op, kind, name, ...res })}\n`);
  if (res.state === 'done') {
    if (!o.json) io.stdout(`${label}: done\n`);
    return EXIT.ok;
  }
  if (res.state === 'failed') io.stderr(`amfctl: ${label} failed: ${res.reason ?? 'unknown reason'}\n`);
  else io.stderr(`amfctl: ${label} has not taken effect after ${Math.round(o.timeoutMs / 1000)} s; still waiting for: ${(res.waiting ?? []).join('; ')} (amfctl status shows where it stands)\n`);
  return EXIT.failed;
}

export async function reportError(client: ApiClient, component: string, recovery: Recovery, reason: string, io: CtlIo, json = false): Promise<number> {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(component);
  if (!m) {
    io.stderr(`amfctl: name the component as SU/component, e.g. SU_1/httpd (got ${JSON.stringify(component)})\n`);
    return EXIT.usage;
  }
  const r = await client.send('POST', `/v1/components/${encodeURIComponent(m[1]!)}/${encodeURIComponent(m[2]!)}/error`, { recovery, reason });
  if (!r.ok) {
    if (json) io.stdout(`${JSON.stringify({ component, recovery, reported: false, reason: r.error.message })}\n`);
    return fail(r.error, io);
  }
  io.stdout(json ? `${JSON.stringify({ component, recovery, reported: true })}\n` : `error reported on ${component} (recommended recovery: ${recovery})\n`);
  return EXIT.ok;
}

/** `amfctl admit NODE [--nonvoter] [--revoke]`: a Raft seat for a node the configuration does not name. */
export async function admitNode(client: ApiClient, node: string, seat: Seat, io: CtlIo): Promise<number> {
  const r = await client.send('PUT', `/v1/members/${encodeURIComponent(node)}/seat`, { seat });
  if (!r.ok) return fail(r.error, io);
  io.stdout(seat === 'none' ? `${node}: admission revoked (a seat only if the configuration names it)\n` : `${node}: admitted as a ${seat}; the leader adds it once it is an alive member\n`);
  return EXIT.ok;
}

/** The entity kinds each operation takes (the engine's admin.ts refuses the others). */
const ADMIN_HELP = [
  '  lock, unlock, shutdown                       node, sg, su, si',
  '  lock-instantiation, unlock-instantiation     node, sg, su',
  '  restart                                      su, component (SU/component)',
  '  si-swap                                      si (2N, N+M, N-Way)',
  '  repair                                       node, su',
  '  switchover                                   node',
  '  migrate (--to NODE)                          su (of one vm component)',
].join('\n');

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number of seconds');
  return n;
}

function opArg(v: string): AdminOp {
  const op = AdminOp.safeParse(v);
  if (!op.success) throw new InvalidArgumentError(`one of ${ADMIN_OPS.join(', ')}`);
  return op.data;
}

export function adminCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('admin'))
    .description(`run an administrative operation on a node, group, SU, SI or component and wait until it has taken effect (or failed)`)
    .argument('<op>', `the operation: ${ADMIN_OPS.join(', ')}`, opArg)
    .argument('<entity>', 'its name, kind/name when names clash (node/n1, sg/web, su/SU_1, si/SI_1), or SU/component')
    .option('--no-wait', 'return once the operation is committed, without waiting for it to take effect')
    .option('--timeout <seconds>', 'how long to wait for it to take effect', seconds, ADMIN_DEFAULTS.timeoutMs / 1000)
    .option('--to <node>', 'migrate: the destination node (a VM SU moves there live)')
    .option('--json', 'print one JSON object: state (done, failed, timeout, refused, committed), reason, waiting, events')
    .addHelpText('after', `\nWhich entity kinds each operation takes:\n${ADMIN_HELP}\nExit status: 0 done, 1 refused, 7 failed or not done within --timeout (the reason on stderr).\n`)
    .action(async (op: AdminOp, entity: string, o: ConnectionOptions & { wait: boolean; timeout: number; json?: boolean; to?: string }) =>
      done(await withClient(o, io, (c) => runAdmin(c, op, entity, io, { wait: o.wait, json: o.json === true, timeoutMs: o.timeout * 1000, ...(o.to === undefined ? {} : { to: o.to }) }))),
    );
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
    .option('--json', 'print the outcome as one JSON object')
    .action(async (component: string, o: ConnectionOptions & { recovery: Recovery; reason: string; json?: boolean }) =>
      done(await withClient(o, io, (c) => reportError(c, component, o.recovery, o.reason, io, o.json === true))),
    );
}
