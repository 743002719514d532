/**
 * ApiBackend on a running cluster node (src/cluster): reads from the node's FSM replica, writes as
 * proposals through Raft, events from the FSM's change log. The daemon builds it with the node,
 * its metrics registry and a probe of the process (pid, uptime, memory).
 *
 * Writes go through the cluster node, which forwards them to the leader. `?consistent` reads are
 * served on any node after a Raft read barrier (ReadIndex: the leader confirms its leadership with
 * a quorum and names its commit index, this node's FSM applies up to it), so they see every write
 * acknowledged before them; without a leader they are refused, never answered from a stale
 * replica. The config compare-and-set makes local reads safe for read-modify-write: a stale epoch
 * is refused at the leader.
 */
import type { ApiBackend, BackendError, ConfigView, EventSubscription, GroupView, NodeView, PutConfigResult, ReadOptions, ServerGroupView, StatusView, SubscribeResult } from './backend.js';
import { ChangeFeed, lastConfigChange, type ApiEvent } from './events.js';
import { type ConfigChangePlan, planAdminOp, planConfigChange } from './plan.js';
import type { Seat } from './schemas.js';
import { serverGroupViews } from './server-groups.js';
import { groupViews, nodeViews } from './views.js';
import type { AdminTarget } from '../amf/commands.js';
import type { AdminOp } from '../model/vocabulary.js';
import { adminProgress, type AdminProgress } from '../amf/progress.js';
import { adminTarget, type AdminEntityKind } from './admin-target.js';
import type { ClientResult } from '../cluster/forward.js';
import type { ClusterNode } from '../cluster/node.js';
import { diffModels, loadConfig, type Recovery } from '../model/index.js';
import type { Registry } from '../runtime/ports/observability.js';
import type { ServerGroupsView } from '../servergroup/service.js';
import { type Result, err, ok } from '../util/result.js';

export interface ProcessInfo {
  readonly pid: number;
  readonly uptimeSeconds: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

export interface ClusterBackendOptions {
  readonly node: ClusterNode;
  readonly metrics: Registry;
  readonly processInfo: () => ProcessInfo;
  /** The server-group service of this node (undefined: it has not started). */
  readonly serverGroups?: () => ServerGroupsView | undefined;
  /** How long a consistent read waits for the leader's confirmation and the local apply. Default 2000. */
  readonly readTimeoutMs?: number;
}

/** The file name config errors are reported against (as the FSM does). */
const CONFIG_FILE = 'groups.conf';

const ROLES: Readonly<Record<string, StatusView['raft']['role']>> = { leader: 'leader', follower: 'follower', candidate: 'candidate', preCandidate: 'pre-candidate' };

export class ClusterApiBackend implements ApiBackend {
  readonly metrics: Registry;
  private readonly node: ClusterNode;
  private readonly feed: ChangeFeed;
  private readonly statusWatchers = new Set<() => void>();

  constructor(private readonly opts: ClusterBackendOptions) {
    this.node = opts.node;
    this.metrics = opts.metrics;
    this.feed = new ChangeFeed({ changes: (after) => this.node.changes(after), lastSeq: () => this.node.fsm.state.changes.last });
    this.node.onApplied(() => this.feed.notify());
    this.node.onStatusChange(() => {
      for (const w of [...this.statusWatchers]) w();
    });
  }

  async status(): Promise<StatusView> {
    const st = this.node.status();
    const raft = this.node.raft;
    const stats = raft?.stats();
    const fsm = this.node.fsm.state;
    const p = this.opts.processInfo();
    return {
      node: st.node,
      pid: p.pid,
      uptimeSeconds: p.uptimeSeconds,
      memory: { rssBytes: p.rssBytes, heapUsedBytes: p.heapUsedBytes },
      raft: {
        role: ROLES[st.raftState] ?? 'starting',
        term: st.term,
        leader: st.leader?.id ?? null,
        commitIndex: typeof stats?.['commitIndex'] === 'number' ? stats['commitIndex'] : st.appliedIndex,
        appliedIndex: st.appliedIndex,
        voters: (raft?.getConfiguration() ?? []).filter((s) => s.suffrage === 'voter').map((s) => s.id),
      },
      members: (this.node.members?.members() ?? []).map((m) => ({ name: m.name, address: m.addr, state: m.state, incarnation: m.incarnation })),
      lease: { phase: st.phase, held: st.holdsLease },
      pending: {
        proposals: typeof stats?.['pendingApplies'] === 'number' ? stats['pendingApplies'] : 0,
        commands: Object.values(fsm.pending).reduce((n, q) => n + q.length, 0),
        timers: Object.keys(fsm.timers).length,
      },
      configEpoch: fsm.epoch,
      lastEventSeq: fsm.changes.last,
    };
  }

  /** Local reads as they are; a consistent read waits for a read barrier, on any node. */
  private async readable(o: ReadOptions): Promise<BackendError | null> {
    if (!o.consistent) return null;
    const raft = this.node.raft;
    if (!raft) return { code: 'unavailable', message: 'this node has not joined the Raft cluster yet; retry in a few seconds or read without ?consistent' };
    const timeoutMs = this.opts.readTimeoutMs ?? 2000;
    const r = await raft.readBarrier(timeoutMs);
    if (r.ok) return null;
    const retry = 'retry in a few seconds, or read without ?consistent to get this node\'s replica as it is (possibly behind)';
    switch (r.error.kind) {
      case 'notLeader':
      case 'leadershipLost':
        return { code: 'no-leader', message: `no leader confirmed the read (election in progress or no quorum); ${retry}` };
      case 'timeout':
        return { code: 'unavailable', message: `the leader did not confirm the read within ${timeoutMs} ms (partition, no quorum or an election); ${retry}` };
      case 'shutdown':
        return { code: 'unavailable', message: 'this node is stopping; read on another node' };
      case 'rejected':
        return { code: 'unavailable', message: `the read was refused (${r.error.reason}); ${retry}` };
    }
  }

  async nodes(o: ReadOptions): Promise<Result<readonly NodeView[], BackendError>> {
    const e = await this.readable(o);
    if (e) return err(e);
    const s = this.node.fsm.state;
    const suffrage = new Map((this.node.raft?.getConfiguration() ?? []).map((x) => [x.id, x.suffrage ?? 'voter']));
    return ok(nodeViews(s.amf, { leader: this.node.raft?.leader()?.id ?? null, members: s.nodes, condemned: s.condemned, suffrage }));
  }

  async groups(o: ReadOptions): Promise<Result<readonly GroupView[], BackendError>> {
    const e = await this.readable(o);
    return e ? err(e) : ok(groupViews(this.node.fsm.model, this.node.fsm.state.amf, this.node.fsm.state));
  }

  async serverGroups(o: ReadOptions): Promise<Result<readonly ServerGroupView[], BackendError>> {
    const e = await this.readable(o);
    if (e) return err(e);
    const v = this.opts.serverGroups?.();
    return v ? ok(serverGroupViews(v)) : err({ code: 'unavailable', message: 'the server-group service does not run on this node (not started yet, or failed: see its log)' });
  }

  async config(o: ReadOptions): Promise<Result<ConfigView, BackendError>> {
    const e = await this.readable(o);
    const s = this.node.fsm.state;
    return e ? err(e) : ok({ text: s.configText, epoch: s.epoch, lastChange: lastConfigChange(s.changes.records) });
  }

  /**
   * The compare-and-set is decided where the epoch is committed: by the FSM, in log order (the
   * entry carries `expectEpoch`). This replica answers `stale` itself only when that is certain: an
   * epoch below the one it applied is stale everywhere (epochs only grow). An epoch above it means
   * this replica is behind, never that the client is (it got that epoch from a reply, after the
   * commit): it first catches up with the leader's commit index (a read barrier), so the check,
   * the dry-run plan and the reported changes all start from the state the client named.
   */
  async putConfig(text: string, ifMatch: number, dryRun: boolean): Promise<Result<PutConfigResult, BackendError>> {
    const loaded = loadConfig(text, CONFIG_FILE);
    if (!loaded.ok) return ok({ kind: 'invalid', errors: loaded.error.map((e) => ({ file: e.file, line: e.line, col: e.col, message: e.message })) });
    const fsm = this.node.fsm;
    if (ifMatch > fsm.state.epoch) {
      const behind = await this.readable({ consistent: true });
      if (behind) return err(behind);
    }
    if (ifMatch !== fsm.state.epoch) return ok({ kind: 'stale', epoch: fsm.state.epoch });
    const changes = diffModels(fsm.model, loaded.value);
    if (dryRun) {
      const plan = planConfigChange(loaded.value, fsm.state.amf, fsm.state.time);
      return plan.ok ? ok({ kind: 'dry-run', epoch: fsm.state.epoch, changes, plan: plan.value }) : err({ code: 'invalid-state', message: plan.error });
    }
    const r = await this.node.setConfig(text, ifMatch);
    const failed = this.failure(r);
    if (failed) {
      // The compare-and-set lost at the apply, to a change committed meanwhile: the error names its epoch.
      if (r.ok && !r.result.ok && r.result.code === 'stale-epoch') {
        const committed = /^config epoch is (\d+)/.exec(r.result.error);
        return ok({ kind: 'stale', epoch: Math.max(Number(committed?.[1] ?? 0), fsm.state.epoch) });
      }
      return err(failed);
    }
    await this.caughtUp();
    // The epoch the leader's FSM committed (this replica may still be behind if caughtUp timed out).
    const epoch = r.ok && r.result.ok && r.result.epoch !== undefined ? r.result.epoch : ifMatch + 1;
    return ok({ kind: 'committed', epoch, changes });
  }

  private adminTarget(kind: AdminEntityKind, name: string): Result<AdminTarget, BackendError> {
    return adminTarget(this.node.fsm.state.amf, kind, name);
  }

  async adminProgress(kind: AdminEntityKind, name: string, op: AdminOp): Promise<Result<AdminProgress, BackendError>> {
    const t = this.adminTarget(kind, name);
    if (!t.ok) return t;
    return ok(adminProgress(this.node.fsm.model, this.node.fsm.state.amf, op, t.value));
  }

  async planAdmin(kind: AdminEntityKind, name: string, op: AdminOp, to?: string): Promise<Result<ConfigChangePlan, BackendError>> {
    const target = this.adminTarget(kind, name);
    if (!target.ok) return target;
    const fsm = this.node.fsm;
    const plan = planAdminOp(fsm.model, fsm.state.amf, fsm.state.time, op, target.value, to);
    return plan.ok ? plan : err({ code: 'invalid-state', message: plan.error });
  }

  async admin(kind: AdminEntityKind, name: string, op: AdminOp, to?: string): Promise<Result<void, BackendError>> {
    const t = this.adminTarget(kind, name);
    if (!t.ok) return t;
    const target = t.value;
    const failed = this.failure(await this.node.admin(op, target, to));
    if (failed) return err(failed);
    await this.caughtUp();
    return ok(undefined);
  }

  async admit(node: string, seat: Seat): Promise<Result<void, BackendError>> {
    const failed = this.failure(await this.node.admit(node, seat));
    if (failed) return err(failed);
    await this.caughtUp();
    return ok(undefined);
  }

  async reportError(su: string, comp: string, recovery: Recovery, reason: string): Promise<Result<void, BackendError>> {
    if (this.node.fsm.state.amf.sus[su]?.comps[comp] === undefined) return err({ code: 'not-found', message: `no component ${su}/${comp}; amfctl status lists them` });
    const failed = this.failure(await this.node.reportError(su, comp, recovery, reason));
    if (failed) return err(failed);
    await this.caughtUp();
    return ok(undefined);
  }

  subscribe(since: number | null, onEvent: (e: ApiEvent) => void): SubscribeResult {
    return this.feed.subscribe(since, onEvent);
  }

  watchStatus(onChange: () => void): EventSubscription {
    const w = (): void => onChange();
    this.statusWatchers.add(w);
    return { cancel: () => void this.statusWatchers.delete(w) };
  }

  /**
   * After a write committed through the leader: wait until this replica applied it too, so reads
   * here after the reply see it (read-your-writes on the node that answered). Best effort: the
   * write is committed whatever the barrier says. On the leader the write was applied already.
   */
  private async caughtUp(): Promise<void> {
    const raft = this.node.raft;
    if (raft && raft.state() !== 'leader') await raft.readBarrier(this.opts.readTimeoutMs ?? 2000);
  }

  /** A proposal's outcome as a backend error (null when it was committed and applied). */
  private failure(r: ClientResult): BackendError | null {
    if (r.ok) return r.result.ok ? null : { code: 'invalid-state', message: r.result.error };
    // A vote refused it (a guest of a heartbeated VM): nothing was proposed; the reason is the guest's.
    if (r.code === 'vetoed') return { code: 'invalid-state', message: r.error };
    // Refused before it was proposed: the leader changed under it or none is known.
    if (r.code === 'not-leader' || r.code === 'no-leader') return { code: 'no-leader', message: 'no leader took the write (election in progress or no quorum); nothing was changed; retry in a few seconds' };
    return { code: 'unavailable', message: `the proposal was not committed (${r.error}); check amfctl status and retry` };
  }
}
