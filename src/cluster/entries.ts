/**
 * The replicated log's entry types (what the cluster FSM applies), versioned and validated on
 * decode: a replica never trusts bytes it did not check, even from its own log. Every entry carries
 * `time`, the proposer's wall clock (ms since the epoch): apply never reads a clock.
 */
import type { AdminTarget, AmfInput } from '../amf/commands.js';
import { ADMIN_OPS, type AdminOp, ERROR_SOURCES, GUEST_HEARTBEAT_STATES, type GuestHeartbeatState, HA_STATES, RECOVERIES } from '../model/vocabulary.js';
import { err, ok, type Result } from '../util/result.js';
import { decode, encode } from './codec.js';

export const ENTRY_VERSION = 1;

/** Answers and faults an agent reports for its own node's components. */
export type AgentReport = Exclude<AmfInput, { kind: 'timer-expired' | 'node-up' | 'node-down' | 'admin' | 'config-changed' }>;

export interface ReportItem {
  /** Per node incarnation, from 1, gap-free: the FSM applies each seq once. */
  readonly seq: number;
  readonly input: AgentReport;
}

export type ClusterEntry =
  /** Replace the configuration if the current epoch is `expectEpoch` (compare-and-set). */
  | { readonly type: 'config-set'; readonly time: number; readonly text: string; readonly expectEpoch: number }
  /** Reports of one node incarnation; `executedThrough` trims its pending commands. */
  | {
      readonly type: 'reports';
      readonly time: number;
      readonly node: string;
      readonly inc: string;
      readonly items: readonly ReportItem[];
      readonly executedThrough: number;
    }
  /**
   * A node incarnation joins (`up`) or is gone (`down`, decided by the leader once its lease has
   * surely expired or it was fenced). `up` with a new incarnation of a node that is up means it
   * restarted: the old incarnation goes down first.
   */
  | {
      readonly type: 'membership';
      readonly time: number;
      readonly node: string;
      readonly change: 'up' | 'down';
      readonly inc: string;
      readonly reason: string;
    }
  /** An AMF timer armed at `at` fired (stale when it was re-armed or cancelled since). */
  | { readonly type: 'timer'; readonly time: number; readonly id: string; readonly at: number }
  /** `to`: the destination of a migrate. */
  | { readonly type: 'admin'; readonly time: number; readonly op: AdminOp; readonly target: AdminTarget; readonly to?: string }
  /** An operator's error report on a component (`amfctl report-error`), as the component would send it. */
  | { readonly type: 'operator-report'; readonly time: number; readonly input: AgentReport }
  /** A guest's heartbeat state as the node running it sees it (src/heartbeat): replicated for every view. */
  | {
      readonly type: 'guest-heartbeat';
      readonly time: number;
      readonly node: string;
      readonly su: string;
      readonly comp: string;
      readonly status: GuestHeartbeatState;
      readonly reason: string;
    }
  /**
   * Fencing decisions: `condemned` (the leader stopped renewing the node's lease: it self-fences
   * when the lease runs out), `confirmed` (the fencing command reported the node off: it goes down
   * at once), `failed` (the fencing command failed; the lease path still applies).
   */
  | {
      readonly type: 'fencing';
      readonly time: number;
      readonly node: string;
      readonly action: 'condemned' | 'confirmed' | 'failed';
      readonly reason: string;
    }
  /**
   * An operator gives `node` a Raft seat the configuration does not (`amfctl members admit`), or
   * takes it back (`none`): the leader adds voters and non-voters only from the committed state.
   */
  | { readonly type: 'admit'; readonly time: number; readonly node: string; readonly seat: 'voter' | 'nonvoter' | 'none' };

export type EntryType = ClusterEntry['type'];

export function encodeEntry(e: ClusterEntry): Uint8Array {
  return encode({ v: ENTRY_VERSION, ...e });
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isIndex = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

const RECOVERY_NAMES: ReadonlySet<string> = new Set(RECOVERIES);
const SOURCES: ReadonlySet<string> = new Set(ERROR_SOURCES);
const HA: ReadonlySet<string> = new Set(HA_STATES);
const OPS: ReadonlySet<string> = new Set(ADMIN_OPS);
const HB: ReadonlySet<string> = new Set(GUEST_HEARTBEAT_STATES);

type FieldCheck = 'str' | 'str?' | 'bool?' | 'ha' | 'recovery' | 'recovery?' | 'source';

/** Required fields per report kind (every report names su and comp). */
const REPORT_FIELDS: Readonly<Record<AgentReport['kind'], Readonly<Record<string, FieldCheck>>>> = {
  'comp-instantiated': {},
  'comp-instantiate-failed': { reason: 'str', noRetry: 'bool?' },
  'comp-terminated': {},
  'comp-terminate-failed': { reason: 'str' },
  'comp-migrated': { uuid: 'str' },
  'comp-migrate-failed': { reason: 'str', lost: 'bool?' },
  'error-report': { recovery: 'recovery', source: 'source', reason: 'str?' },
  'healthcheck-failed': { key: 'str', recovery: 'recovery?' },
  'csi-set-done': { si: 'str', csi: 'str', haState: 'ha' },
  'csi-set-failed': { si: 'str', csi: 'str', haState: 'ha', reason: 'str' },
  'csi-remove-done': { si: 'str', csi: 'str' },
  'quiescing-complete': { si: 'str', csi: 'str' },
};

function checkField(v: unknown, check: FieldCheck): boolean {
  switch (check) {
    case 'str':
      return isStr(v);
    case 'str?':
      return v === undefined || isStr(v);
    case 'bool?':
      return v === undefined || typeof v === 'boolean';
    case 'ha':
      return isStr(v) && HA.has(v);
    case 'recovery':
      return isStr(v) && RECOVERY_NAMES.has(v);
    case 'recovery?':
      return v === undefined || (isStr(v) && RECOVERY_NAMES.has(v));
    case 'source':
      return isStr(v) && SOURCES.has(v);
  }
}

/** An agent report from the wire or the log: the exact known shape, or why not. */
export function validateReport(x: unknown): Result<AgentReport, string> {
  if (!isObj(x) || !isStr(x.kind)) return err('report: not an object with a kind');
  const fields = REPORT_FIELDS[x.kind as AgentReport['kind']] as Readonly<Record<string, FieldCheck>> | undefined;
  if (!fields) return err(`report: unknown kind '${x.kind}'`);
  if (!isStr(x.su) || !isStr(x.comp)) return err(`report ${x.kind}: su and comp must be strings`);
  const out: Obj = { kind: x.kind, su: x.su, comp: x.comp };
  for (const [name, check] of Object.entries(fields)) {
    if (!checkField(x[name], check)) return err(`report ${x.kind}: bad field '${name}'`);
    if (x[name] !== undefined) out[name] = x[name];
  }
  return ok(out as unknown as AgentReport);
}

function validateTarget(x: unknown): Result<AdminTarget, string> {
  if (!isObj(x) || !isStr(x.type)) return err('admin target: not an object with a type');
  if (x.type === 'comp') return isStr(x.su) && isStr(x.comp) ? ok({ type: 'comp', su: x.su, comp: x.comp }) : err('admin target comp: su and comp must be strings');
  if (x.type === 'node' || x.type === 'sg' || x.type === 'su' || x.type === 'si') {
    return isStr(x.name) ? ok({ type: x.type, name: x.name }) : err(`admin target ${x.type}: name must be a string`);
  }
  return err(`admin target: unknown type '${x.type}'`);
}

function validateItems(x: unknown): Result<ReportItem[], string> {
  if (!Array.isArray(x)) return err('reports: items must be an array');
  const items: ReportItem[] = [];
  for (const [i, it] of x.entries()) {
    if (!isObj(it) || !isIndex(it.seq) || it.seq === 0) return err(`reports: item ${i} needs a positive integer seq`);
    const r = validateReport(it.input);
    if (!r.ok) return err(`reports: item ${i}: ${r.error}`);
    items.push({ seq: it.seq, input: r.value });
  }
  return ok(items);
}

/** Validate a decoded entry object (version, type, every field). */
export function validateEntry(x: unknown): Result<ClusterEntry, string> {
  if (!isObj(x)) return err('entry: not an object');
  if (x.v !== ENTRY_VERSION) return err(`entry: unsupported version ${String(x.v)}`);
  if (!isNum(x.time)) return err('entry: time must be a number');
  const time = x.time;
  switch (x.type) {
    case 'config-set':
      if (!isStr(x.text) || !isIndex(x.expectEpoch)) return err('config-set: needs text and an integer expectEpoch');
      return ok({ type: 'config-set', time, text: x.text, expectEpoch: x.expectEpoch });
    case 'reports': {
      if (!isStr(x.node) || !isStr(x.inc) || !isIndex(x.executedThrough)) return err('reports: needs node, inc, executedThrough');
      const items = validateItems(x.items);
      if (!items.ok) return items;
      return ok({ type: 'reports', time, node: x.node, inc: x.inc, items: items.value, executedThrough: x.executedThrough });
    }
    case 'membership':
      if (!isStr(x.node) || !isStr(x.inc) || !isStr(x.reason) || (x.change !== 'up' && x.change !== 'down')) return err('membership: needs node, inc, reason and change up|down');
      return ok({ type: 'membership', time, node: x.node, change: x.change, inc: x.inc, reason: x.reason });
    case 'timer':
      if (!isStr(x.id) || !isNum(x.at)) return err('timer: needs id and at');
      return ok({ type: 'timer', time, id: x.id, at: x.at });
    case 'admin': {
      if (!isStr(x.op) || !OPS.has(x.op)) return err(`admin: unknown op '${String(x.op)}'`);
      const target = validateTarget(x.target);
      if (!target.ok) return target;
      if (x.to !== undefined && !isStr(x.to)) return err('admin: to must be a node name');
      return ok({ type: 'admin', time, op: x.op as AdminOp, target: target.value, ...(x.to === undefined ? {} : { to: x.to }) });
    }
    case 'operator-report': {
      const r = validateReport(x.input);
      if (!r.ok) return err(`operator-report: ${r.error}`);
      if (r.value.kind !== 'error-report') return err(`operator-report: only error-report, not ${r.value.kind}`);
      return ok({ type: 'operator-report', time, input: r.value });
    }
    case 'guest-heartbeat':
      if (!isStr(x.node) || !isStr(x.su) || !isStr(x.comp) || !isStr(x.reason) || !isStr(x.status) || !HB.has(x.status)) return err('guest-heartbeat: needs node, su, comp, reason and a heartbeat status');
      return ok({ type: 'guest-heartbeat', time, node: x.node, su: x.su, comp: x.comp, status: x.status as GuestHeartbeatState, reason: x.reason });
    case 'fencing':
      if (!isStr(x.node) || !isStr(x.reason) || (x.action !== 'condemned' && x.action !== 'confirmed' && x.action !== 'failed')) return err('fencing: needs node, reason and action');
      return ok({ type: 'fencing', time, node: x.node, action: x.action, reason: x.reason });
    case 'admit':
      if (!isStr(x.node) || x.node === '' || (x.seat !== 'voter' && x.seat !== 'nonvoter' && x.seat !== 'none')) return err('admit: needs a node and seat voter|nonvoter|none');
      return ok({ type: 'admit', time, node: x.node, seat: x.seat });
    default:
      return err(`entry: unknown type '${String(x.type)}'`);
  }
}

export function decodeEntry(data: Uint8Array): Result<ClusterEntry, string> {
  const raw = decode(data, 'entry');
  return raw.ok ? validateEntry(raw.value) : raw;
}
