/**
 * Error recovery and escalation with probation timers, after OpenSAF amfnd err.cc:
 *   L0 component restart, up to component_restart_max within component_restart_probation;
 *   L1 SU restart, up to unit_restart_max within unit_restart_probation;
 *   L2 SU failover (component failover when the SU must not fail over), counted per node within
 *      the node's failover probation, up to its failover max;
 *   L3 node failover.
 * A probation expiry resets its counter (and the level). Every decision is a `recovery` notice;
 * every change of level an `escalation` notice. The blast-radius rules (blast.ts) bound what L2
 * and L3 may take down: a CSI set or instantiation fault that follows a component type across
 * nodes disables its SU for repair instead, and no escalation disables the last node an SG has.
 */
import type { EscalationLevel, RecoveryAction } from './commands.js';
import { type Ctx, cancelTimer, markSuDirty, setTimer, su, peek } from './context.js';
import { convicted, countTypeFault, failingEverywhere, lastHostOf, onlyTypeCounted, recordTypeFault, sameType, takeCounted, typeFaultNodes } from './blast.js';
import { stopComp } from './lifecycle.js';
import { disableSu } from './state.js';
import type { DisabledCause, Recovery } from '../model/vocabulary.js';
import { must } from '../util/assert.js';

export const timerIds = {
  compProbation: (s: string): string => `comp-prob:${s}`,
  suProbation: (s: string): string => `su-prob:${s}`,
  nodeProbation: (n: string): string => `node-prob:${n}`,
  retry: (s: string, c: string): string => `retry:${s}/${c}`,
};

function notice(ctx: Ctx, suName: string, comp: string, action: RecoveryAction, level: EscalationLevel, reason: string): void {
  ctx.notices.push({ kind: 'recovery', su: suName, comp, action, level, reason });
}

function escalated(ctx: Ctx, scope: 'su' | 'node', name: string, from: EscalationLevel, to: EscalationLevel, reason: string): void {
  ctx.notices.push({ kind: 'escalation', scope, name, from, to, reason });
}

function nodeLimits(ctx: Ctx, node: string): { max: number; probation: number } {
  const cfg = ctx.idx.model.nodes.find((n) => n.name === node);
  const c = ctx.idx.model.cluster;
  return { max: cfg?.nodeFailoverMax ?? c.nodeFailoverMax, probation: cfg?.nodeFailoverProbationMs ?? c.nodeFailoverProbationMs };
}

function recovering(ctx: Ctx, suName: string, comp: string): boolean {
  const st = peek(ctx, suName);
  const c = st.comps[comp];
  if (c === undefined || c.presence !== 'instantiated' || st.oper !== 'enabled' || st.node === null) {
    ctx.notices.push({ kind: 'ignored', input: `error ${suName}/${comp}`, reason: 'a recovery is already in progress or the component is not running' });
    return true;
  }
  return false;
}

/**
 * A CSI set failed: a type fault (blast.ts rule 1). Once the component type has failed on two
 * or more nodes within the probation the SU is disabled for repair; before, the usual recovery.
 */
export function csiSetFailed(ctx: Ctx, suName: string, comp: string, reason: string): void {
  if (recovering(ctx, suName, comp)) return;
  const nodes = recordTypeFault(ctx, suName, comp, reason);
  if (nodes.length < 2 && !convicted(ctx, suName, comp)) return recoverFromError(ctx, suName, comp, 'no-recommendation', reason, true);
  componentFault(ctx, suName, comp, nodes, reason, 2);
}

/** Rule 1 holds: disable the SU for repair, saying the fault follows its component. */
function componentFault(ctx: Ctx, suName: string, comp: string, nodes: readonly string[], reason: string, level: EscalationLevel): void {
  const line = typeFaultFound(ctx, suName, comp, nodes, reason);
  notice(ctx, suName, comp, 'disable-for-repair', level, line);
  disableForRepair(ctx, suName, comp, 'component-fault', line);
}

/**
 * The final instantiation failure of SU/comp (the SU is disabled already): a type fault too. Returns
 * the SU's status line, which says so once the type has failed on two or more nodes.
 */
export function instantiationFailed(ctx: Ctx, suName: string, comp: string, reason: string): { cause: DisabledCause; line: string } {
  const nodes = recordTypeFault(ctx, suName, comp, reason);
  if (nodes.length < 2 && !convicted(ctx, suName, comp)) return { cause: 'instantiation-failed', line: reason };
  const line = typeFaultFound(ctx, suName, comp, nodes, reason);
  notice(ctx, suName, comp, 'disable-for-repair', 2, line);
  return { cause: 'component-fault', line };
}

/**
 * The fault follows the type across nodes: the node failovers it counted are given back, and the
 * SUs of the type already disabled by a failed instantiation say what it is. Returns the status line.
 */
function typeFaultFound(ctx: Ctx, suName: string, comp: string, nodes: readonly string[], reason: string): string {
  const line = failingEverywhere(nodes, reason);
  for (const { node, count } of takeCounted(ctx, suName, comp)) {
    const ns = must(ctx.s.nodes[node], 'a node in use has no state');
    const before = ns.failovers;
    ns.failovers -= count;
    if (ns.failovers === 0) {
      cancelTimer(ctx, timerIds.nodeProbation(node));
      ns.probationEnd = null;
    }
    escalated(ctx, 'node', node, 2, ns.failovers === 0 ? 0 : 2, `failovers ${before} -> ${ns.failovers}: the fault follows component ${comp} of SG ${must(ctx.idx.sus.get(suName), 'an SU not in the model').sg.name}, not node ${node}`);
  }
  for (const other of sameType(ctx, suName, comp)) {
    if (other !== suName && peek(ctx, other).disabledCause === 'instantiation-failed') disableSu(su(ctx, other), 'component-fault', line);
  }
  return line;
}

/** An error on an instantiated component of an enabled SU: decide and start the recovery. */
export function recoverFromError(ctx: Ctx, suName: string, comp: string, recommended: Recovery, reason: string, typeFault = false): void {
  if (!typeFault && recovering(ctx, suName, comp)) return;
  const st = su(ctx, suName);
  const node = must(st.node, 'an SU in recovery is placed on a node');
  const cfg = must(must(ctx.idx.sus.get(suName), 'an SU not in the model').cfg.components.find((x) => x.name === comp), 'a component not in its SU');
  let rec = recommended === 'no-recommendation' ? cfg.recoveryOnError : recommended;
  if (rec === 'no-recommendation') rec = 'component-restart';
  if (rec === 'component-restart') {
    const quiescing = Object.values(st.assignments).some((a) => a.ha === 'quiescing' || a.ha === 'quiesced');
    if (cfg.disableRestart || quiescing) {
      rec = 'component-failover';
      reason += cfg.disableRestart ? ' (restart disabled)' : ' (component is quiescing)';
    }
  }
  switch (rec) {
    case 'component-restart':
      return restartLadder(ctx, suName, comp, reason, typeFault);
    case 'component-failover':
      return failoverLadder(ctx, suName, comp, reason, typeFault);
    case 'node-switchover':
      return nodeLevel(ctx, suName, comp, node, 'node-switchover', reason);
    case 'node-failover':
      return nodeLevel(ctx, suName, comp, node, 'node-failover', reason);
    case 'node-failfast': {
      const note = fenceNote(ctx, node);
      notice(ctx, suName, comp, 'node-failfast', 3, `${reason}${note}`);
      return nodeFailfast(ctx, node, `node failfast: ${reason}${note}`);
    }
    case 'cluster-reset':
    case 'application-restart':
      // Not supported cluster-wide: the strongest local action instead (documented in docs/amf.md).
      return nodeLevel(ctx, suName, comp, node, 'node-failover', `${reason} (${rec} not supported)`);
  }
}

/**
 * Node failover or switchover for SU/comp's fault, unless the node is the last in service that
 * can host some SG (blast.ts rule 2): then only the faulty SU is disabled, for repair.
 */
function nodeLevel(ctx: Ctx, suName: string, comp: string, node: string, action: 'node-failover' | 'node-switchover', reason: string): void {
  const sg = lastHostOf(ctx, node);
  if (sg !== null) {
    const line = `${action} of ${node} withheld: it is the last in-service node that can host SG ${sg}; ${reason}`;
    notice(ctx, suName, comp, 'disable-for-repair', 3, line);
    disableForRepair(ctx, suName, comp, 'node-failover-withheld', line);
    return;
  }
  notice(ctx, suName, comp, action, 3, reason);
  if (action === 'node-failover') nodeFailover(ctx, node, `${action} for ${suName}/${comp}: ${reason}`);
  else nodeSwitchover(ctx, node, suName, `${action} for ${suName}/${comp}: ${reason}`);
}

/** Added to the reason of a fence that takes out the last node that can host an SG (rule 2 allows only that). */
export function fenceNote(ctx: Ctx, node: string): string {
  const sg = lastHostOf(ctx, node);
  return sg === null ? '' : `; ${node} is the last in-service node that can host SG ${sg}: disabled because a fence is to confirm it is broken`;
}

/** Disable the SU until an operator repairs it: its components stop, its SIs go to other SUs. */
function disableForRepair(ctx: Ctx, suName: string, comp: string, cause: DisabledCause, line: string): void {
  const st = su(ctx, suName);
  disableSu(st, cause, line);
  must(st.comps[comp], 'a component of the model has no state').oper = 'disabled';
  stopSu(ctx, suName, 'disabled-for-repair');
}

function restartLadder(ctx: Ctx, suName: string, comp: string, reason: string, typeFault: boolean): void {
  const st = su(ctx, suName);
  const sg = must(ctx.idx.sus.get(suName), 'an SU not in the model').sg;
  const esc = st.escalation;
  if (esc.level === 0) {
    if (esc.compRestarts < sg.componentRestartMax) {
      if (esc.compRestarts === 0) {
        esc.compProbationEnd = ctx.now + sg.componentRestartProbationMs;
        setTimer(ctx, timerIds.compProbation(suName), esc.compProbationEnd);
      }
      esc.compRestarts++;
      notice(ctx, suName, comp, 'component-restart', 0, `${reason}; restart ${esc.compRestarts}/${sg.componentRestartMax}`);
      stopComp(ctx, suName, comp, { abrupt: true, restart: true, reason: 'restart' });
      return;
    }
    if (esc.compProbationEnd !== null) cancelTimer(ctx, timerIds.compProbation(suName));
    esc.compRestarts = 0;
    esc.compProbationEnd = null;
    esc.level = 1;
    escalated(ctx, 'su', suName, 0, 1, `component restarts reached component_restart_max ${sg.componentRestartMax} within the probation`);
  }
  if (esc.suRestarts < sg.unitRestartMax) {
    if (esc.suRestarts === 0) {
      esc.suProbationEnd = ctx.now + sg.unitRestartProbationMs;
      setTimer(ctx, timerIds.suProbation(suName), esc.suProbationEnd);
    }
    esc.suRestarts++;
    notice(ctx, suName, comp, 'su-restart', 1, `${reason}; SU restart ${esc.suRestarts}/${sg.unitRestartMax}`);
    restartSu(ctx, suName, 'restart');
    return;
  }
  if (esc.suProbationEnd !== null) cancelTimer(ctx, timerIds.suProbation(suName));
  esc.suRestarts = 0;
  esc.suProbationEnd = null;
  esc.level = 0;
  escalated(ctx, 'su', suName, 1, 2, `SU restarts reached unit_restart_max ${sg.unitRestartMax} within the probation`);
  failoverLadder(ctx, suName, comp, reason, typeFault);
}

/** Restart every running component of the SU (cleanup, then instantiate; assignments kept). */
export function restartSu(ctx: Ctx, suName: string, why: string): void {
  const st = su(ctx, suName);
  for (const [name, c] of Object.entries(st.comps)) {
    if (c.presence === 'instantiated') stopComp(ctx, suName, name, { abrupt: true, restart: true, reason: why });
  }
}

function failoverLadder(ctx: Ctx, suName: string, comp: string, reason: string, typeFault: boolean): void {
  const st = su(ctx, suName);
  const node = must(st.node, 'an SU in service is placed on a node');
  const ns = must(ctx.s.nodes[node], 'a node in use has no state');
  const { max, probation } = nodeLimits(ctx, node);
  if (ns.failovers < max) {
    if (ns.failovers === 0) {
      ns.probationEnd = ctx.now + probation;
      setTimer(ctx, timerIds.nodeProbation(node), ns.probationEnd);
    }
    ns.failovers++;
    if (typeFault) countTypeFault(ctx, suName, comp, node, ns.probationEnd);
    const whole = must(ctx.idx.sus.get(suName), 'an SU not in the model').cfg.failover;
    const why = `${reason}; failover ${ns.failovers}/${max} on node ${node}`;
    notice(ctx, suName, comp, whole ? 'su-failover' : 'component-failover', 2, why);
    if (whole) suFailover(ctx, suName, 'failover', why);
    else compFailover(ctx, suName, comp, why);
    return;
  }
  if (typeFault && onlyTypeCounted(ctx, suName, comp, node)) return componentFault(ctx, suName, comp, typeFaultNodes(ctx, suName, comp), reason, 3);
  if (lastHostOf(ctx, node) === null) {
    if (ns.probationEnd !== null) cancelTimer(ctx, timerIds.nodeProbation(node));
    ns.failovers = 0;
    ns.probationEnd = null;
    escalated(ctx, 'node', node, 2, 3, `SU failovers on node ${node} reached its failover max ${max} within the probation`);
  }
  // The counters stay when the node failover is withheld: each further fault within the probation is the SU's.
  nodeLevel(ctx, suName, comp, node, 'node-failover', reason);
}

/** Stop every component of the SU abruptly (those restarting stay down). */
function stopSu(ctx: Ctx, suName: string, why: string): void {
  const st = su(ctx, suName);
  for (const [name, c] of Object.entries(st.comps)) {
    if (c.presence === 'instantiated') stopComp(ctx, suName, name, { abrupt: true, restart: false, reason: why });
    else if (c.presence === 'restarting') c.presence = 'terminating';
  }
  markSuDirty(ctx, suName);
}

/** Stop every component of the SU abruptly and disable it; its SIs go to other SUs. */
export function suFailover(ctx: Ctx, suName: string, why: string, reason: string): void {
  const st = su(ctx, suName);
  if (st.disabledCause === null) disableSu(st, 'failover', reason);
  stopSu(ctx, suName, why);
}

/** Stop only the faulty component; the SU is disabled and its other SIs are switched over. */
function compFailover(ctx: Ctx, suName: string, comp: string, reason: string): void {
  const st = su(ctx, suName);
  disableSu(st, 'failover', reason);
  must(st.comps[comp], 'a component of the model has no state').oper = 'disabled';
  stopComp(ctx, suName, comp, { abrupt: true, restart: false, reason: 'failover' });
}

function susOn(ctx: Ctx, node: string): string[] {
  return Object.keys(ctx.s.sus).filter((n) => peek(ctx, n).node === node);
}

function disableNode(ctx: Ctx, node: string, reason: string): void {
  const ns = must(ctx.s.nodes[node], 'a node in use has no state');
  ns.oper = 'disabled';
  ns.disabledReason = reason;
}

/** Fail over every SU of the node abruptly; the node stays disabled until repaired or rebooted. */
export function nodeFailover(ctx: Ctx, node: string, reason: string): void {
  disableNode(ctx, node, reason);
  for (const s of susOn(ctx, node)) {
    const st = su(ctx, s);
    for (const [name, c] of Object.entries(st.comps)) {
      if (c.presence === 'instantiated') stopComp(ctx, s, name, { abrupt: true, restart: false, reason: 'node-failover' });
      else if (c.presence === 'restarting') c.presence = 'terminating';
    }
    markSuDirty(ctx, s);
  }
}

/** Fail the faulty SU over and switch the node's other SUs over gracefully (quiesced first). */
function nodeSwitchover(ctx: Ctx, node: string, suName: string, reason: string): void {
  suFailover(ctx, suName, 'node-switchover', reason);
  disableNode(ctx, node, reason);
  for (const s of susOn(ctx, node)) markSuDirty(ctx, s);
}

/** Fence the node: nothing of it may be trusted to stop. Its SIs move once it is down. */
export function nodeFailfast(ctx: Ctx, node: string, reason: string): void {
  disableNode(ctx, node, reason);
  must(ctx.s.nodes[node], 'a node in use has no state').fencing = true;
  ctx.commands.push({ kind: 'node-fence', node, reason });
  for (const s of susOn(ctx, node)) markSuDirty(ctx, s);
}

/** A probation timer fired: reset its counter and level if it is still the armed one. */
export function probationExpired(ctx: Ctx, id: string): boolean {
  const [kind, name] = [id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1)];
  if (kind === 'comp-prob' || kind === 'su-prob') {
    if (!ctx.s.sus[name]) return false;
    const esc = su(ctx, name).escalation;
    if (kind === 'comp-prob' && esc.compProbationEnd !== null && ctx.now >= esc.compProbationEnd) {
      escalated(ctx, 'su', name, esc.level, 0, `component restart probation expired after ${esc.compRestarts} restart(s)`);
      esc.compRestarts = 0;
      esc.compProbationEnd = null;
      return true;
    }
    if (kind === 'su-prob' && esc.suProbationEnd !== null && ctx.now >= esc.suProbationEnd) {
      escalated(ctx, 'su', name, esc.level, 0, `SU restart probation expired after ${esc.suRestarts} restart(s)`);
      esc.suRestarts = 0;
      esc.suProbationEnd = null;
      esc.level = 0;
      return true;
    }
    return false;
  }
  if (kind === 'node-prob') {
    const ns = ctx.s.nodes[name];
    if (!ns || ns.probationEnd === null || ctx.now < ns.probationEnd) return false;
    escalated(ctx, 'node', name, 2, 0, `node failover probation expired after ${ns.failovers} failover(s)`);
    ns.failovers = 0;
    ns.probationEnd = null;
    return true;
  }
  return false;
}
