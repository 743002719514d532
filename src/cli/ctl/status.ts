/**
 * `amfctl status` (one screen of truth, like crm_mon; `--watch` repaints on every event; `--json`
 * for scripts), and the smaller views `members`, `raft` and `ping`.
 */
import { Command } from 'commander';
import { type ApiClient, type ClientError, type ConnectionOptions, fail, withClient, withConnection } from './client.js';
import { EXIT } from './exit.js';
import { asCtlIo, type CtlIo } from './io.js';
import type { GroupView, NodeView, ServerGroupView, StatusView } from '../../api/backend.js';
import { type ApiEvent, formatEvent } from '../../api/events.js';
import { FAILED_PRESENCE_STATES } from '../../model/vocabulary.js';
import type { CliIo } from '../config/io.js';
import { type Result, err, ok } from '../../util/result.js';

/** Everything `status` shows; `--json` prints exactly this. */
export interface StatusSnapshot {
  readonly status: StatusView;
  readonly nodes: readonly NodeView[];
  readonly groups: readonly GroupView[];
  /** Server groups, their members and the channels the answering node holds (empty when its service does not run). */
  readonly serverGroups: readonly ServerGroupView[];
  /** The latest failures, recoveries and escalations still kept by the node (oldest first). */
  readonly recent: readonly ApiEvent[];
}

const RECENT = 10;
/** Disabled causes that last until an operator repairs the SU (the others clear themselves). */
const REPAIR_CAUSES: ReadonlySet<string> = new Set(['component-fault', 'node-failover-withheld', 'instantiation-failed']);
/** How far back in the event ring to look for recent failures. */
const LOOKBACK = 2000;

function isFailure(e: ApiEvent): boolean {
  return e.kind === 'escalation' || (e.field === 'guest-heartbeat' && /^(lost|unhealthy)/.test(e.new ?? '')) || (e.field === 'oper' && e.new === 'disabled') || (e.field === 'presence' && FAILED_PRESENCE_STATES.some((p) => p === e.new)) || (e.kind === 'membership' && /^down/.test(e.new ?? ''));
}

export async function loadStatus(client: ApiClient): Promise<Result<StatusSnapshot, ClientError>> {
  const [status, nodes, groups, sgs] = await Promise.all([
    client.get<StatusView>('/status'),
    client.get<{ nodes: NodeView[] }>('/v1/nodes'),
    client.get<{ groups: GroupView[] }>('/v1/groups'),
    client.get<{ serverGroups: ServerGroupView[] }>('/v1/server-groups'),
  ]);
  if (!status.ok) return status;
  if (!nodes.ok) return nodes;
  if (!groups.ok) return groups;
  // A node whose server-group service does not run still shows the rest.
  const serverGroups = sgs.ok ? sgs.value.body.serverGroups : [];
  const recent: ApiEvent[] = [];
  const collect = (line: Record<string, unknown>): void => {
    if (typeof line['seq'] === 'number' && isFailure(line as unknown as ApiEvent)) recent.push(line as unknown as ApiEvent);
  };
  let r = await client.stream(`/v1/events?since=${Math.max(0, status.value.body.lastEventSeq - LOOKBACK)}&follow=0`, collect);
  // The node keeps fewer events than the lookback: read from the oldest it has.
  if (!r.ok && r.error.kind === 'http' && r.error.code === 'events-gone') {
    const oldest = (r.error.details as { oldest?: number } | null)?.oldest ?? 1;
    r = await client.stream(`/v1/events?since=${Math.max(0, oldest - 1)}&follow=0`, collect);
  }
  if (!r.ok) return err(r.error);
  return ok({ status: status.value.body, nodes: nodes.value.body.nodes, groups: groups.value.body.groups, serverGroups, recent: recent.slice(-RECENT) });
}

/** Left-aligned columns. */
function table(rows: readonly (readonly string[])[], indent: string): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => (indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).trimEnd());
}

export function renderStatus(s: StatusSnapshot): string {
  const { status: st } = s;
  const out: string[] = [];
  const leader = st.raft.leader ?? 'none (election in progress)';
  out.push(`amfd on ${st.node}: raft ${st.raft.role}, term ${st.raft.term}, leader ${leader}, config epoch ${st.configEpoch}`);
  out.push(`pending: ${st.pending.proposals} proposals, ${st.pending.commands} agent commands, ${st.pending.timers} timers`);
  const up = s.nodes.filter((n) => n.up).length;
  out.push('', `Nodes: ${up} of ${s.nodes.length} up`);
  out.push(...table(s.nodes.map((n) => [`${n.name}${n.leader ? '*' : ''}`, n.up ? 'up' : 'DOWN', n.admin, n.oper, n.sus.join(' ') || '-']), '  '));
  for (const n of s.nodes) if (n.disabledReason) out.push(`  ${n.name} disabled: ${n.disabledReason} (amfctl admin repair node/${n.name})`);
  for (const g of s.groups) {
    out.push('', `Group ${g.name} (${g.model}, ${g.admin})`);
    const rows: string[][] = [];
    for (const u of g.units) {
      const ha = u.assignments.map((a) => `${a.si}:${a.ha}`).join(' ') || '-';
      rows.push([u.name, `on ${u.node ?? '-'}`, u.readiness, u.presence, u.admin, u.oper, ha]);
      for (const c of u.components) rows.push([`  ${c.name}`, '', '', c.presence, '', c.oper, c.guestHeartbeat === undefined ? '' : `guest ${c.guestHeartbeat.status}`]);
    }
    out.push(...table(rows, '  '));
    for (const u of g.units) {
      for (const c of u.components) if (c.lastError) out.push(`  ${u.name}/${c.name}`, `    last error ${c.lastError.at}: ${c.lastError.reason}`);
    }
    for (const u of g.units) if (u.oper === 'disabled' && u.disabledCause) out.push(`  ${u.name} disabled (${u.disabledCause}): ${u.disabledReason ?? 'no reason recorded'}${REPAIR_CAUSES.has(u.disabledCause) ? ` (amfctl admin repair su/${u.name})` : ''}`);
    out.push(...table(g.sis.map((si) => [si.name, si.assignment, si.admin, si.assignments.map((a) => `${a.su}@${a.node ?? '-'} ${a.ha}`).join(', ') || '-']), '  '));
  }
  for (const g of s.serverGroups) {
    out.push('', `Server group ${g.name} (${g.policy})`);
    const channel = (m: ServerGroupView['members'][number]): string => {
      if (m.channelPath === null) return 'no channel (see the log)';
      if (m.channel) return `channel ${m.channel.state}, ${m.channel.connects} connect${m.channel.connects === 1 ? '' : 's'}`;
      return m.host === null || m.host === st.node ? 'channel -' : `channel on ${m.host}`;
    };
    out.push(...table(g.members.map((m) => [m.instance, `${m.unit}/${m.component}`, `on ${m.host ?? '-'}`, m.state, m.ha ?? '-', channel(m)]), '  '));
  }
  out.push('', s.recent.length === 0 ? 'No recent failures.' : 'Recent failures and escalations:');
  for (const e of s.recent) out.push(`  ${formatEvent(e)}`);
  return `${out.join('\n')}\n`;
}

export async function showStatus(client: ApiClient, json: boolean, io: CtlIo): Promise<number> {
  const s = await loadStatus(client);
  if (!s.ok) return fail(s.error, io);
  io.stdout(json ? `${JSON.stringify(s.value, null, 2)}\n` : renderStatus(s.value));
  return EXIT.ok;
}

const CLEAR = '\x1b[H\x1b[2J';

/**
 * Repaints the status after every burst of events until `signal` aborts. A dropped or broken
 * stream is followed again after a pause, from the last event seen.
 */
export async function watchStatus(client: ApiClient, io: CtlIo, signal: AbortSignal, pauseMs = 1000): Promise<number> {
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  let pending: Promise<void> | null = null;
  const repaint = async (): Promise<number | null> => {
    const s = await loadStatus(client);
    if (!s.ok) {
      io.stderr(`amfctl: ${s.error.message} (retrying)\n`);
      return null;
    }
    io.stdout(`${CLEAR}${renderStatus(s.value)}`);
    return s.value.status.lastEventSeq;
  };
  while (!signal.aborted) {
    const since = await repaint();
    if (since === null) {
      await sleep(pauseMs);
      continue;
    }
    await client.stream(
      `/v1/events?since=${since}`,
      (line) => {
        if (typeof line['seq'] !== 'number' || pending) return;
        // Coalesce a burst of events into one repaint.
        pending = sleep(100).then(async () => {
          pending = null;
          if (!signal.aborted) await repaint();
        });
      },
      signal,
    );
    if (!signal.aborted) await sleep(pauseMs);
  }
  return EXIT.ok;
}

type Conn = ConnectionOptions & { json?: boolean; watch?: boolean };

export function statusCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('status'))
    .description('one screen of truth: nodes and leader, every group with its SUs, components and assignments, recent failures')
    .option('--json', 'print the status as JSON (for scripts)')
    .option('-w, --watch', 'repaint on every change until interrupted')
    .action(async (o: Conn) =>
      done(
        await withClient(o, io, (c) => {
          if (!o.watch) return showStatus(c, o.json === true, io);
          const ac = new AbortController();
          process.once('SIGINT', () => ac.abort());
          return watchStatus(c, io, ac.signal);
        }),
      ),
    );
}

export async function showMembers(client: ApiClient, json: boolean, io: CtlIo): Promise<number> {
  const r = await client.get<StatusView>('/status');
  if (!r.ok) return fail(r.error, io);
  const members = r.value.body.members;
  if (json) io.stdout(`${JSON.stringify(members, null, 2)}\n`);
  else io.stdout(`${table([['NAME', 'ADDRESS', 'STATE', 'INCARNATION'], ...members.map((m) => [m.name, m.address, m.state, String(m.incarnation)])], '').join('\n')}\n`);
  return EXIT.ok;
}

export async function showRaft(client: ApiClient, json: boolean, io: CtlIo): Promise<number> {
  const r = await client.get<StatusView>('/status');
  if (!r.ok) return fail(r.error, io);
  const raft = r.value.body.raft;
  if (json) io.stdout(`${JSON.stringify(raft, null, 2)}\n`);
  else {
    const rows = [
      ['node', r.value.body.node],
      ['role', raft.role],
      ['term', String(raft.term)],
      ['leader', raft.leader ?? 'none (election in progress)'],
      ['commit index', String(raft.commitIndex)],
      ['applied index', String(raft.appliedIndex)],
      ['voters', raft.voters.join(' ')],
    ];
    io.stdout(`${table(rows, '').join('\n')}\n`);
  }
  return EXIT.ok;
}

export async function ping(client: ApiClient, io: CtlIo): Promise<number> {
  const r = await client.get<{ ping: string }>('/ping');
  if (!r.ok) return fail(r.error, io);
  io.stdout(`${r.value.body.ping} from ${client.base.host}\n`);
  return EXIT.ok;
}

function simple(name: string, description: string, run: (c: ApiClient, json: boolean, io: CtlIo) => Promise<number>) {
  return (base: CliIo, done: (code: number) => void): Command => {
    const io = asCtlIo(base);
    return withConnection(new Command(name))
      .description(description)
      .option('--json', 'print JSON')
      .action(async (o: Conn) => done(await withClient(o, io, (c) => run(c, o.json === true, io))));
  };
}

export const membersCommand = simple('members', 'gossip members as this node sees them', showMembers);
export const raftCommand = simple('raft', "this node's Raft role, term, leader and indexes", showRaft);
export const pingCommand = simple('ping', 'check that the node answers', (c, _json, io) => ping(c, io));
