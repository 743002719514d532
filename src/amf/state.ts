/**
 * The AMF runtime state: plain JSON-serialisable data (records, arrays, numbers, strings, null),
 * so the cluster can replicate it through Raft and a new leader can resume from it. Configuration
 * lives in the AmfModel; this holds only what changes at run time.
 */
import type { AmfModel } from '../model/types.js';
import type { AdminState, DisabledCause, HaState, OperState, PresenceState } from '../model/vocabulary.js';
import { must } from '../util/assert.js';

export interface CompState {
  presence: PresenceState;
  oper: OperState;
  /** Instantiation attempt in progress or last made (1-based; 0 before the first). */
  attempt: number;
  /** A delayed instantiation retry is armed for this time (timer `retry:<su>/<comp>`). */
  retryAt: number | null;
}

/** An SU–SI assignment. `waiting` lists the CSIs whose component has not yet confirmed `ha`. */
export interface Assignment {
  ha: HaState;
  waiting: string[];
  /**
   * CSI → component at assignment time (never mutated): lets the engine take CSIs away from their
   * components even after a configuration change removed the SI.
   */
  csis?: Readonly<Record<string, string>>;
}


export interface SuEscalation {
  /** 0: component restarts; 1: SU restarts. Levels 2 and 3 are counted per node. */
  level: 0 | 1;
  compRestarts: number;
  compProbationEnd: number | null;
  suRestarts: number;
  suProbationEnd: number | null;
}

export interface SuState {
  /** The node hosting the SU, chosen when it is instantiated; null while unplaced. */
  node: string | null;
  admin: AdminState;
  oper: OperState;
  /** Why the SU is disabled (null while enabled). */
  disabledCause: DisabledCause | null;
  /** What disabled it, for people (`amfctl status`); absent while enabled. */
  disabledReason?: string;
  /** Node switchover in progress: hand over this SU's active roles, keep the SU in service. */
  evacuate: boolean;
  comps: Record<string, CompState>;
  /** Admin migrate in progress (src/amf/migrate.ts); absent otherwise. */
  migration?: SuMigration;
  /** By SI name. */
  assignments: Record<string, Assignment>;
  escalation: SuEscalation;
}

/** A live migration of an SU's one vm component: `moving` on the source, then `adopting` on the destination. */
export interface SuMigration {
  readonly from: string;
  readonly to: string;
  readonly comp: string;
  readonly phase: 'moving' | 'adopting';
}

export interface NodeState {
  up: boolean;
  admin: AdminState;
  oper: OperState;
  /** A fence was requested: nothing on the node is trusted to stop until it is down. */
  fencing: boolean;
  /** Level-2 recoveries (SU / component failovers) counted within the node probation. */
  failovers: number;
  probationEnd: number | null;
  /** What disabled it, for people (`amfctl status`); absent while enabled. */
  disabledReason?: string;
}

/**
 * A CSI set or instantiation failure of a component type on one node (src/amf/blast.ts). A
 * component type is a component name within an SG: the SG's SUs are copies of one SU type.
 */
export interface TypeFault {
  at: number;
  reason: string;
  /** Node failovers counted on the node for this type's failures, under the node probation ending `under`. */
  counted: number;
  under: number | null;
}

export interface SgState {
  admin: AdminState;
  /**
   * False until the SG's first instantiation round has settled: assigning while SUs are still
   * coming up would fix a layout that depends on which SU happened to start first (openais waits
   * for the cluster start-up the same way).
   */
  started: boolean;
  /**
   * Component name → node → its latest CSI set / instantiation failure there within the cluster's
   * node failover probation. Replaced, never mutated, on write (the draft shares it).
   */
  faults?: Record<string, Record<string, TypeFault>>;
}

export interface SiState {
  admin: AdminState;
  /** SI swap in progress: the SU that was active and becomes standby once the other is active. */
  swapFrom: string | null;
}

export interface AmfState {
  nodes: Record<string, NodeState>;
  sgs: Record<string, SgState>;
  sus: Record<string, SuState>;
  sis: Record<string, SiState>;
}

/** Disable the SU for `cause`, saying why for people. */
export function disableSu(st: SuState, cause: DisabledCause, reason: string): void {
  st.oper = 'disabled';
  st.disabledCause = cause;
  st.disabledReason = reason;
}

/** Enable the SU again: no cause, no reason. */
export function enableSu(st: SuState): void {
  st.oper = 'enabled';
  st.disabledCause = null;
  delete st.disabledReason;
}

export function newCompState(): CompState {
  return { presence: 'uninstantiated', oper: 'enabled', attempt: 0, retryAt: null };
}

export function newSuEscalation(): SuEscalation {
  return { level: 0, compRestarts: 0, compProbationEnd: null, suRestarts: 0, suProbationEnd: null };
}

export function newNodeState(admin: AdminState): NodeState {
  return { up: false, admin, oper: 'enabled', fencing: false, failovers: 0, probationEnd: null };
}

/** The state before anything happened: every node down, every component uninstantiated. */
export function initialState(model: AmfModel): AmfState {
  const state: AmfState = { nodes: {}, sgs: {}, sus: {}, sis: {} };
  addMissingEntities(model, state);
  return state;
}

/** Adds state for entities the model has and the state lacks (initial load, config change). */
export function addMissingEntities(model: AmfModel, state: AmfState): void {
  for (const node of model.nodes) state.nodes[node.name] ??= newNodeState(node.adminState);
  for (const sg of model.groups) {
    state.sgs[sg.name] ??= { admin: sg.adminState, started: false };
    for (const su of sg.units) {
      const st = (state.sus[su.name] ??= {
        node: null,
        admin: su.adminState,
        oper: 'enabled',
        disabledCause: null,
        evacuate: false,
        comps: {},
        assignments: {},
        escalation: newSuEscalation(),
      });
      for (const comp of su.components) st.comps[comp.name] ??= newCompState();
    }
    for (const si of sg.sis) state.sis[si.name] ??= { admin: si.adminState, swapFrom: null };
  }
}

export function cloneSu(su: SuState): SuState {
  const comps: Record<string, CompState> = {};
  for (const c in su.comps) comps[c] = { ...must(su.comps[c], 'a component of the model has no state') };
  const assignments: Record<string, Assignment> = {};
  for (const a in su.assignments) {
    const x = must(su.assignments[a], 'an assignment listed is missing');
    assignments[a] = { ...x, waiting: x.waiting.slice() };
  }
  return { ...su, comps, assignments, escalation: { ...su.escalation } };
}

/**
 * The draft of a step: nodes and SGs copied, SUs and SIs shared with the input and copied on
 * first write (see `su()` and `si()` in context.ts), so a step costs what it touches.
 */
export function draftState(s: AmfState): AmfState {
  const nodes: Record<string, NodeState> = {};
  for (const k in s.nodes) nodes[k] = { ...must(s.nodes[k], 'a node in use has no state') };
  const sgs: Record<string, SgState> = {};
  for (const k in s.sgs) sgs[k] = { ...must(s.sgs[k], 'an SG of the model has no state') };
  // The SU and SI records stay shared until the first write to one of their entries: see su()
  // and si() in context.ts.
  return { nodes, sgs, sis: s.sis, sus: s.sus };
}
