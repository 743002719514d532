/**
 * The cluster's replicated state machine (a Raft FSM). Every replica applies the same entries in
 * the same order and steps the pure AMF engine inside apply, so every replica holds the same
 * decisions: engine state (placement, assignments, escalation counters, probation ends), armed
 * AMF timers, per-node pending commands, membership and the change log. Apply never reads a
 * clock: time comes in the entry (see docs/cluster.md for why the engine runs inside apply).
 */
import { z } from 'zod';
import { step, initialState, type AmfState } from '../amf/index.js';
import type { AmfCommand, AmfInput, AmfNotice } from '../amf/commands.js';
import { diffModels, loadConfig, type AmfModel } from '../model/index.js';
import type { GuestHeartbeatState } from '../model/vocabulary.js';
import { heartbeatKey, heartbeatedComponents } from '../heartbeat/config.js';
import type { AppliedEntry, FSM, FSMSnapshot } from '../raft/fsm.js';
import { assert } from '../util/assert.js';
import { err, ok, type Result } from '../util/result.js';
import { appendChanges, type ChangeDraft, type ChangeLogState, modelChange, noticeChange } from './changelog.js';
import { decode, encode } from './codec.js';
import { decodeEntry, type ClusterEntry } from './entries.js';

export const CONFIG_FILE = 'groups.conf';
const SNAPSHOT_VERSION = 1;

/** A command the engine addressed to a node, numbered per node and bound to the incarnation it was issued to. */
export interface PendingCommand {
  readonly seq: number;
  readonly inc: string;
  readonly cmd: AmfCommand;
}

/** Membership as the cluster decided it (the engine's own node state says the same in AMF terms). */
export interface ClusterNodeState {
  /** The incarnation last seen up ('' before the first up). */
  inc: string;
  up: boolean;
  /** Last report seq applied for `inc`. */
  reportSeq: number;
  /** Last command seq issued to this node (any incarnation). */
  cmdSeq: number;
  /** Entry time of the last membership change. */
  since: number;
}

export interface ClusterState {
  epoch: number;
  configText: string;
  amf: AmfState;
  /** The latest entry time applied (the engine's `now` never goes back). */
  time: number;
  /** AMF timers armed: id → due time (same time base as entry times). */
  timers: Record<string, number>;
  nodes: Record<string, ClusterNodeState>;
  pending: Record<string, PendingCommand[]>;
  /** Fencing the engine asked for and nobody has confirmed yet: node → reason. */
  fenceRequests: Record<string, string>;
  /** Nodes whose lease the leader stopped renewing: node → incarnation condemned. */
  condemned: Record<string, string>;
  /** Raft seats operators gave nodes the configuration does not name (`admit` entries). */
  admitted: Record<string, 'voter' | 'nonvoter'>;
  /** The last failed CLC-CLI run (instantiate, terminate, cleanup) of each component (`su/comp`): its reason and entry time. */
  compErrors: Record<string, { reason: string; time: number }>;
  /** SU → component → its guest's heartbeat state (components with a guest_heartbeat block). */
  guestHeartbeats: Record<string, Record<string, GuestHeartbeatRecord>>;
  changes: ChangeLogState;
}

export interface GuestHeartbeatRecord {
  readonly status: GuestHeartbeatState;
  readonly reason: string;
  /** The node that reported it (where the component runs). */
  readonly node: string;
  /** Entry time of the change. */
  readonly since: number;
}

/**
 * Why the FSM refused an entry: the code is what callers branch on (the API answers `stale-epoch`
 * with 409 and the current epoch), the error text is for people.
 */
export const ApplyError = z.enum(['invalid-entry', 'stale-epoch', 'invalid-config', 'stale-incarnation', 'stale-timer', 'already-up', 'not-up', 'admin-refused']);
export type ApplyError = z.infer<typeof ApplyError>;

/** An entry's outcome (it travels back to a forwarding node inside a ClientResult). */
export const ApplyResult = z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), epoch: z.number().optional() }), z.object({ ok: z.literal(false), code: ApplyError, error: z.string() })]);
export type ApplyResult = z.infer<typeof ApplyResult>;

const refused = (code: ApplyError, error: string): ApplyResult => ({ ok: false, code, error });

export interface ClusterFsmOptions {
  /** Change-log ring capacity. Default 4096. */
  readonly changeLogCapacity?: number;
  /** Called after each entry is applied, with the engine's notices (logs, metrics, observers). */
  readonly onApplied?: (entry: ClusterEntry | null, index: number, notices: readonly AmfNotice[]) => void;
  /** Called after every engine step with its input and output state (the simulator checks the engine's invariants here). */
  readonly onStep?: AmfStepObserver;
}

export type AmfStepObserver = (model: AmfModel, before: AmfState, after: AmfState) => void;

function emptyState(model: AmfModel, text: string): ClusterState {
  return { epoch: 0, configText: text, amf: initialState(model), time: 0, timers: {}, nodes: {}, pending: {}, fenceRequests: {}, condemned: {}, admitted: {}, compErrors: {}, guestHeartbeats: {}, changes: { last: 0, records: [] } };
}

function mustLoad(text: string): AmfModel {
  const r = loadConfig(text, CONFIG_FILE);
  assert(r.ok, `cluster fsm: a committed configuration no longer loads: ${r.ok ? '' : r.error.map(String).join('; ')}`);
  return r.value;
}

export class ClusterFsm implements FSM {
  state: ClusterState;
  model: AmfModel;
  /** Entries that failed validation (a bug or a corrupted log); they are skipped, never applied. */
  rejected = 0;
  private readonly capacity: number;

  constructor(private readonly options: ClusterFsmOptions = {}) {
    this.capacity = options.changeLogCapacity ?? 4096;
    this.model = mustLoad('');
    this.state = emptyState(this.model, '');
  }

  apply(entry: AppliedEntry): ApplyResult {
    const decoded = decodeEntry(entry.data);
    if (!decoded.ok) {
      this.rejected++;
      this.options.onApplied?.(null, entry.index, []);
      return refused('invalid-entry', decoded.error);
    }
    const notices: AmfNotice[] = [];
    const r = this.applyEntry(decoded.value, notices);
    this.options.onApplied?.(decoded.value, entry.index, notices);
    return r;
  }

  /** Apply a validated entry (also the unit tests' entry point). */
  applyEntry(e: ClusterEntry, notices: AmfNotice[] = []): ApplyResult {
    const s = this.state;
    s.time = Math.max(s.time, e.time);
    const changes: ChangeDraft[] = [];
    const stepIn = (input: AmfInput): string | undefined => {
      const r = step(this.model, s.amf, input, s.time);
      if (r.error !== undefined) return r.error;
      this.options.onStep?.(this.model, s.amf, r.state);
      s.amf = r.state;
      this.route(r.commands);
      notices.push(...r.notices);
      for (const n of r.notices) {
        const c = noticeChange(n);
        if (c) changes.push(c);
      }
      return undefined;
    };
    const result = this.dispatch(e, stepIn, changes);
    appendChanges(s.changes, this.capacity, s.time, changes);
    return result;
  }

  private dispatch(e: ClusterEntry, stepIn: (input: AmfInput) => string | undefined, changes: ChangeDraft[]): ApplyResult {
    const s = this.state;
    switch (e.type) {
      case 'config-set': {
        if (e.expectEpoch !== s.epoch) return refused('stale-epoch', `config epoch is ${s.epoch}, not ${e.expectEpoch}`);
        const loaded = loadConfig(e.text, CONFIG_FILE);
        if (!loaded.ok) return refused('invalid-config', loaded.error.map(String).join('\n'));
        const before = this.model;
        this.model = loaded.value;
        s.configText = e.text;
        s.epoch++;
        const comps = new Set(this.model.groups.flatMap((g) => g.units.flatMap((u) => u.components.map((c) => `${u.name}/${c.name}`))));
        for (const ref of Object.keys(s.compErrors)) if (!comps.has(ref)) delete s.compErrors[ref];
        changes.push({ entity: 'config', kind: 'modify', field: 'epoch', old: String(s.epoch - 1), new: String(s.epoch) }, ...diffModels(before, this.model).map(modelChange));
        this.forgetGuests();
        stepIn({ kind: 'config-changed' });
        return { ok: true, epoch: s.epoch };
      }
      case 'reports': {
        const n = s.nodes[e.node];
        if (!n || !n.up || n.inc !== e.inc) return refused('stale-incarnation', `reports from ${e.node}/${e.inc}: not the incarnation that is up`);
        for (const it of e.items) {
          if (it.seq !== n.reportSeq + 1) continue; // duplicate (resent) or out of order: the node resends in order
          n.reportSeq = it.seq;
          const i = it.input;
          if (i.kind === 'comp-instantiate-failed' || i.kind === 'comp-terminate-failed') s.compErrors[`${i.su}/${i.comp}`] = { reason: i.reason, time: s.time };
          stepIn(it.input);
        }
        const q = s.pending[e.node];
        if (q) s.pending[e.node] = q.filter((p) => p.seq > e.executedThrough);
        return { ok: true };
      }
      case 'membership':
        return e.change === 'up' ? this.nodeUp(e.node, e.inc, e.time, e.reason, stepIn, changes) : this.nodeDown(e.node, e.inc, e.time, e.reason, stepIn, changes);
      case 'timer': {
        if (s.timers[e.id] !== e.at) return refused('stale-timer', `timer ${e.id}: stale`);
        delete s.timers[e.id];
        stepIn({ kind: 'timer-expired', id: e.id });
        return { ok: true };
      }
      case 'admin': {
        const error = stepIn({ kind: 'admin', op: e.op, target: e.target, ...(e.to === undefined ? {} : { to: e.to }) });
        const entity = e.target.type === 'comp' ? `comp/${e.target.su}/${e.target.comp}` : `${e.target.type}/${e.target.name}`;
        if (error !== undefined) return refused('admin-refused', error);
        changes.unshift({ entity, kind: 'admin', field: 'op', old: null, new: e.to === undefined ? e.op : `${e.op} --to ${e.to}` });
        return { ok: true };
      }
      case 'operator-report':
        stepIn(e.input);
        changes.unshift({ entity: `comp/${e.input.su}/${e.input.comp}`, kind: 'admin', field: 'error-report', old: null, new: e.input.kind === 'error-report' ? (e.input.reason ?? e.input.recovery) : e.input.kind });
        return { ok: true };
      case 'guest-heartbeat':
        return this.guestHeartbeat(e, changes);
      case 'fencing': {
        const n = s.nodes[e.node];
        changes.push({ entity: `node/${e.node}`, kind: 'membership', field: 'fencing', old: null, new: `${e.action}: ${e.reason}` });
        if (e.action === 'condemned' && n) s.condemned[e.node] = n.inc;
        if (e.action === 'confirmed') {
          delete s.fenceRequests[e.node];
          if (n?.up) this.nodeDown(e.node, n.inc, e.time, `fenced: ${e.reason}`, stepIn, changes);
        }
        return { ok: true };
      }
      case 'admit': {
        const old = s.admitted[e.node] ?? 'none';
        if (e.seat === 'none') delete s.admitted[e.node];
        else s.admitted[e.node] = e.seat;
        changes.push({ entity: `node/${e.node}`, kind: 'membership', field: 'admitted', old, new: e.seat });
        return { ok: true };
      }
    }
  }

  /** A heartbeat state of a component of the model; the same state again (same reason) changes nothing. */
  private guestHeartbeat(e: Extract<ClusterEntry, { type: 'guest-heartbeat' }>, changes: ChangeDraft[]): ApplyResult {
    const s = this.state;
    // A report racing a config change that removed the component (or its block) is refused.
    if (!heartbeatedComponents(this.model).has(heartbeatKey(e.su, e.comp))) return refused('invalid-entry', `guest-heartbeat: ${e.su}/${e.comp} has no guest_heartbeat block in the configuration`);
    const byComp = (s.guestHeartbeats[e.su] ??= {});
    const was = byComp[e.comp];
    if (was?.status === e.status && was.reason === e.reason && was.node === e.node) return { ok: true };
    byComp[e.comp] = { status: e.status, reason: e.reason, node: e.node, since: was?.status === e.status ? was.since : e.time };
    changes.push({ entity: `comp/${e.su}/${e.comp}`, kind: 'modify', field: 'guest-heartbeat', old: was?.status ?? null, new: e.reason === '' ? e.status : `${e.status}: ${e.reason}` });
    return { ok: true };
  }

  /** Components that left the model (or lost their guest_heartbeat block) have no heartbeat state. */
  private forgetGuests(): void {
    const s = this.state;
    const keep = heartbeatedComponents(this.model);
    for (const [su, comps] of Object.entries(s.guestHeartbeats)) {
      for (const comp of Object.keys(comps)) if (!keep.has(heartbeatKey(su, comp))) delete comps[comp];
      if (Object.keys(comps).length === 0) delete s.guestHeartbeats[su];
    }
  }

  private nodeUp(node: string, inc: string, time: number, reason: string, stepIn: (i: AmfInput) => string | undefined, changes: ChangeDraft[]): ApplyResult {
    const s = this.state;
    const n = (s.nodes[node] ??= { inc: '', up: false, reportSeq: 0, cmdSeq: 0, since: time });
    if (n.up && n.inc === inc) return refused('already-up', `${node}/${inc} is already up`);
    // A new incarnation proves the old one is gone (it cleaned up before it spoke).
    if (n.up) this.nodeDown(node, n.inc, time, `restarted as ${inc}`, stepIn, changes);
    n.inc = inc;
    n.up = true;
    n.reportSeq = 0;
    n.since = time;
    delete s.condemned[node];
    changes.push({ entity: `node/${node}`, kind: 'membership', field: 'incarnation', old: null, new: `${inc} (${reason})` });
    stepIn({ kind: 'node-up', node });
    return { ok: true };
  }

  private nodeDown(node: string, inc: string, time: number, reason: string, stepIn: (i: AmfInput) => string | undefined, changes: ChangeDraft[]): ApplyResult {
    const s = this.state;
    const n = s.nodes[node];
    if (!n || !n.up || n.inc !== inc) return refused('not-up', `${node}/${inc} is not up`);
    n.up = false;
    n.since = time;
    s.pending[node] = [];
    delete s.fenceRequests[node];
    delete s.condemned[node];
    changes.push({ entity: `node/${node}`, kind: 'membership', field: 'incarnation', old: inc, new: `down (${reason})` });
    stepIn({ kind: 'node-down', node });
    return { ok: true };
  }

  /** Engine commands: timers and fencing for the director, the rest queued for their node. */
  private route(commands: readonly AmfCommand[]): void {
    const s = this.state;
    for (const c of commands) {
      switch (c.kind) {
        case 'timer-set':
          s.timers[c.id] = c.at;
          break;
        case 'timer-cancel':
          delete s.timers[c.id];
          break;
        case 'node-fence':
          if (s.nodes[c.node]?.up) s.fenceRequests[c.node] = c.reason;
          break;
        default: {
          const n = s.nodes[c.node];
          // A node that is down runs nothing: it cleans up everything before it comes back.
          if (!n?.up) break;
          (s.pending[c.node] ??= []).push({ seq: ++n.cmdSeq, inc: n.inc, cmd: c });
        }
      }
    }
  }

  // Queries ----------------------------------------------------------------------------------

  /** Pending commands for a node incarnation, after `seq`. */
  pendingFor(node: string, inc: string, afterSeq: number): readonly PendingCommand[] {
    return (this.state.pending[node] ?? []).filter((p) => p.inc === inc && p.seq > afterSeq);
  }

  /** SU → hosting node, from the engine state (null: unplaced). */
  placement(): Record<string, string | null> {
    return Object.fromEntries(Object.entries(this.state.amf.sus).map(([su, st]) => [su, st.node]));
  }

  /** SI → SU → HA state. */
  assignments(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [su, st] of Object.entries(this.state.amf.sus)) {
      for (const [si, a] of Object.entries(st.assignments)) (out[si] ??= {})[su] = a.ha;
    }
    return out;
  }

  // Snapshots --------------------------------------------------------------------------------

  snapshot(): FSMSnapshot {
    // Captured now (apply replaces nested objects and arrays, but mutates some in place: encode at once).
    const data = encode({ v: SNAPSHOT_VERSION, state: this.state });
    return { persist: () => data, release: () => undefined };
  }

  restore(data: Uint8Array): void {
    const r = decodeSnapshot(data);
    assert(r.ok, `cluster fsm: ${r.ok ? '' : r.error}`);
    this.state = r.value;
    this.model = mustLoad(r.value.configText);
  }
}

/** A snapshot's bytes to state, checking the version and the top-level shape. */
export function decodeSnapshot(data: Uint8Array): Result<ClusterState, string> {
  const raw = decode(data, 'cluster snapshot');
  if (!raw.ok) return raw;
  const x = raw.value as { v?: unknown; state?: Partial<ClusterState> } | null;
  if (!x || x.v !== SNAPSHOT_VERSION || typeof x.state !== 'object' || x.state === null) return err(`cluster snapshot: unsupported version ${String(x?.v)}`);
  const st = x.state;
  if (typeof st.epoch !== 'number' || typeof st.configText !== 'string' || typeof st.amf !== 'object' || typeof st.changes !== 'object') {
    return err('cluster snapshot: missing fields');
  }
  // Snapshots from before admissions, component errors or the guest heartbeat hold none.
  return ok({ ...st, admitted: st.admitted ?? {}, compErrors: st.compErrors ?? {}, guestHeartbeats: st.guestHeartbeats ?? {} } as ClusterState);
}
