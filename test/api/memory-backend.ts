/**
 * An in-memory ApiBackend for the API and CLI tests: the real AMF engine driven by the scripted
 * agent of src/amf/harness.ts, the real config loader/diff/plan, and the cluster's change-log ring
 * fed from the engine's notices the way the FSM feeds it, on a virtual wall clock. No Raft: the
 * "leader" is this node.
 */
import { Registry } from 'prom-client';
import type { ApiBackend, BackendError, EventSubscription, PutConfigResult, StatusView } from '../../src/api/backend.js';
import { ChangeFeed, lastConfigChange } from '../../src/api/events.js';
import { planAdminOp, planConfigChange } from '../../src/api/plan.js';
import { adminTarget, type AdminEntityKind } from '../../src/api/admin-target.js';
import { adminProgress } from '../../src/amf/progress.js';
import { serverGroupViews } from '../../src/api/server-groups.js';
import { groupViews, nodeViews } from '../../src/api/views.js';
import { resolveServerGroups } from '../../src/servergroup/group.js';
import { groupStatuses } from '../../src/servergroup/status.js';
import { Harness } from '../../src/amf/harness.js';
import { appendChanges, changesSince, modelChange, noticeChange, type ChangeDraft, type ChangeLogState } from '../../src/cluster/changelog.js';
import { diffModels, loadConfig, type AmfModel } from '../../src/model/index.js';
import { type Result, err, ok } from '../../src/util/result.js';

export const SAMPLE = `node {
\tname = n1
}
node {
\tname = n2
}
node {
\tname = n3
}
group {
\tname = web
\tmodel = 2n
\tunit {
\t\tname = SU_1
\t\tnode = n1
\t\trank = 1
\t\tcomponent {
\t\t\tname = httpd
\t\t\tinstantiate = /bin/true
\t\t\tcleanup = /bin/true
\t\t\tcsi_type_name {
\t\t\t\tname = http
\t\t\t}
\t\t}
\t}
\tunit {
\t\tname = SU_2
\t\tnode = n2
\t\trank = 2
\t\tcomponent {
\t\t\tname = httpd
\t\t\tinstantiate = /bin/true
\t\t\tcleanup = /bin/true
\t\t\tcsi_type_name {
\t\t\t\tname = http
\t\t\t}
\t\t}
\t}
\tserviceinstance {
\t\tname = SI_web
\t\tcsi_descriptor {
\t\t\tcsi_name = vip
\t\t\ttype_name = http
\t\t}
\t}
}
`;

const notFound = (message: string): Result<never, BackendError> => err({ code: 'not-found', message });

export class MemoryBackend implements ApiBackend {
  readonly metrics = new Registry();
  readonly changes: ChangeLogState = { last: 0, records: [] };
  readonly feed: ChangeFeed;
  readonly h: Harness;
  text: string;
  epoch = 1;
  /** Virtual wall time (ms since the epoch); every engine step moves it 1 ms. */
  wall = Date.parse('2026-11-22T10:00:00.000Z');
  /** Calls that changed something, so tests can check that refused requests changed nothing. */
  mutations = 0;
  /** Read options seen, to check that ?consistent reaches the backend. */
  readonly consistentReads: boolean[] = [];
  /** Membership as the cluster decided it (the FSM's `nodes`). */
  readonly members: Record<string, { inc: string; up: boolean; since: number }> = {};
  /** This node's Raft view, as `status` reports it; `setRaft` changes it and tells the watchers. */
  raft: StatusView['raft'] = { role: 'leader', term: 3, leader: 'n1', commitIndex: 40, appliedIndex: 40, voters: ['n1', 'n2', 'n3'] };
  private readonly statusWatchers = new Set<() => void>();

  constructor(
    text = SAMPLE,
    private readonly ringCapacity = 1000,
  ) {
    const model = MemoryBackend.parse(text);
    this.text = text;
    this.feed = new ChangeFeed({ changes: (after) => changesSince(this.changes, after), lastSeq: () => this.changes.last });
    this.h = new Harness(model, (r) => {
      for (const n of r.notices) {
        const c = noticeChange(n);
        if (c) this.emit(c);
      }
    }, undefined, true);
    for (const node of model.nodes) {
      this.emit({ entity: `node/${node.name}`, kind: 'membership', field: 'incarnation', old: null, new: 'i1 (joined)' });
      this.members[node.name] = { inc: 'i1', up: true, since: this.wall };
      this.h.send({ kind: 'node-up', node: node.name });
    }
    this.h.advance(60_000);
  }

  static parse(text: string): AmfModel {
    const r = loadConfig(text, 'groups.conf');
    if (!r.ok) throw new Error(r.error.join('\n'));
    return r.value;
  }

  /** While set, changes are held here instead of appended (an admin op logs only if valid). */
  private held: ChangeDraft[] | null = null;

  get lastSeq(): number {
    return this.changes.last;
  }

  emit(draft: ChangeDraft): void {
    if (this.held) return void this.held.push(draft);
    this.wall += 1;
    appendChanges(this.changes, this.ringCapacity, this.wall, [draft]);
    this.feed.notify();
  }

  /** A component failure reported by its agent, as the real one would. */
  failComponent(su: string, comp: string): void {
    this.h.send({ kind: 'error-report', su, comp, recovery: 'no-recommendation', source: 'healthcheck', reason: 'healthcheck missed' });
    this.h.advance(1000);
  }

  nodeDown(node: string): void {
    this.emit({ entity: `node/${node}`, kind: 'membership', field: 'incarnation', old: 'i1', new: 'down (lease expired)' });
    this.members[node] = { inc: 'i1', up: false, since: this.wall };
    this.h.send({ kind: 'node-down', node });
    this.h.advance(1000);
  }

  async status(): Promise<StatusView> {
    return {
      node: 'n1',
      pid: process.pid,
      uptimeSeconds: 12,
      memory: { rssBytes: 1, heapUsedBytes: 1 },
      raft: this.raft,
      members: this.h.model.nodes.map((n, i) => ({ name: n.name, address: `127.0.0.1:${7946 + i}`, state: this.h.state.nodes[n.name]?.up ? 'alive' : 'dead', incarnation: 1 })),
      lease: { phase: 'active', held: true },
      pending: { proposals: 0, commands: 0, timers: this.h.timers.size },
      configEpoch: this.epoch,
      lastEventSeq: this.changes.last,
    };
  }

  async nodes(o: { consistent: boolean }) {
    this.consistentReads.push(o.consistent);
    return ok(nodeViews(this.h.state, { leader: this.raft.leader, members: this.members, condemned: {}, suffrage: new Map(this.raft.voters.map((v) => [v, 'voter' as const])) }));
  }

  async groups(o: { consistent: boolean }) {
    this.consistentReads.push(o.consistent);
    return ok(groupViews(this.h.model, this.h.state));
  }

  /** No channels here: the statuses the committed state gives, channels held by nobody. */
  async serverGroups(o: { consistent: boolean }) {
    this.consistentReads.push(o.consistent);
    const { groups, problems } = resolveServerGroups(this.h.model, () => err('no domain XML in memory'));
    return ok(serverGroupViews({ node: 'n1', groups, statuses: groupStatuses(groups, this.h.state, new Map()), channels: [], problems }));
  }

  async config(o: { consistent: boolean }) {
    this.consistentReads.push(o.consistent);
    return ok({ text: this.text, epoch: this.epoch, lastChange: lastConfigChange(this.changes.records) });
  }

  async putConfig(text: string, ifMatch: number, dryRun: boolean): Promise<Result<PutConfigResult, BackendError>> {
    const loaded = loadConfig(text, 'groups.conf');
    if (!loaded.ok) return ok({ kind: 'invalid', errors: loaded.error.map((e) => ({ file: e.file, line: e.line, col: e.col, message: e.message })) });
    if (ifMatch !== this.epoch) return ok({ kind: 'stale', epoch: this.epoch });
    const changes = diffModels(this.h.model, loaded.value);
    if (dryRun) {
      const plan = planConfigChange(loaded.value, this.h.state, this.h.now);
      if (!plan.ok) return err({ code: 'invalid-state', message: plan.error });
      return ok({ kind: 'dry-run', epoch: this.epoch, changes, plan: plan.value });
    }
    this.mutations++;
    this.epoch++;
    this.text = text;
    this.h.model = loaded.value;
    for (const c of [{ entity: 'config', kind: 'modify', field: 'epoch', old: String(this.epoch - 1), new: String(this.epoch) } as const, ...changes.map(modelChange)]) this.emit(c);
    this.h.send({ kind: 'config-changed' });
    this.h.advance(60_000);
    return ok({ kind: 'committed', epoch: this.epoch, changes });
  }

  async admin(kind: AdminEntityKind, name: string, op: Parameters<ApiBackend['admin']>[2], to?: string): Promise<Result<void, BackendError>> {
    const target = adminTarget(this.h.state, kind, name);
    if (!target.ok) return target;
    this.held = [];
    const e = this.h.send({ kind: 'admin', op, target: target.value, ...(to === undefined ? {} : { to }) });
    const held = this.held;
    this.held = null;
    if (e !== undefined) return err({ code: 'invalid-state', message: e });
    this.mutations++;
    for (const c of [{ entity: `${kind}/${name}`, kind: 'admin', field: 'op', old: null, new: op } as const, ...held]) this.emit(c);
    this.h.advance(60_000);
    return ok(undefined);
  }

  /** Seats admitted, as the FSM's `admitted` would hold them. */
  readonly admitted = new Map<string, 'voter' | 'nonvoter'>();

  async admit(node: string, seat: Parameters<ApiBackend['admit']>[1]): Promise<Result<void, BackendError>> {
    this.mutations++;
    if (seat === 'none') this.admitted.delete(node);
    else this.admitted.set(node, seat);
    return ok(undefined);
  }

  async reportError(su: string, comp: string, recovery: Parameters<ApiBackend['reportError']>[2], reason: string): Promise<Result<void, BackendError>> {
    if (this.h.state.sus[su]?.comps[comp] === undefined) return notFound(`no component ${su}/${comp}`);
    this.mutations++;
    this.h.send({ kind: 'error-report', su, comp, recovery, source: 'error-report', reason });
    this.h.advance(1000);
    return ok(undefined);
  }

  async planAdmin(kind: AdminEntityKind, name: string, op: Parameters<ApiBackend['admin']>[2], to?: string) {
    const target = adminTarget(this.h.state, kind, name);
    if (!target.ok) return target;
    const plan = planAdminOp(this.h.model, this.h.state, this.h.now, op, target.value, to);
    return plan.ok ? plan : err({ code: 'invalid-state' as const, message: plan.error });
  }

  async adminProgress(kind: AdminEntityKind, name: string, op: Parameters<ApiBackend['admin']>[2]) {
    const target = adminTarget(this.h.state, kind, name);
    return target.ok ? ok(adminProgress(this.h.model, this.h.state, op, target.value)) : target;
  }

  subscribe(since: number | null, onEvent: Parameters<ApiBackend['subscribe']>[1]) {
    return this.feed.subscribe(since, onEvent);
  }

  watchStatus(onChange: () => void): EventSubscription {
    const w = (): void => onChange();
    this.statusWatchers.add(w);
    return { cancel: () => void this.statusWatchers.delete(w) };
  }

  /** A change of this node's Raft view (an election), told to the status watchers. */
  setRaft(raft: Partial<StatusView['raft']>): void {
    this.raft = { ...this.raft, ...raft };
    for (const w of [...this.statusWatchers]) w();
  }
}
