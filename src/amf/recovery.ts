/**
 * Error recovery and escalation with probation timers, after OpenSAF amfnd err.cc:
 *   L0 component restart, up to component_restart_max within component_restart_probation;
 *   L1 SU restart, up to unit_restart_max within unit_restart_probation;
 *   L2 SU failover (component failover when the SU must not fail over), counted per node within
 *      the node's failover probation, up to its failover max;
 *   L3 node failover.
 * A probation expiry resets its counter (and the level). Every decision is a `recovery` notice;
 * every change of level an `escalation` notice.
 */
import type { EscalationLevel, RecoveryAction } from './commands.js';
import { type Ctx, cancelTimer, markSuDirty, setTimer, su, peek } from './context.js';
import { stopComp } from './lifecycle.js';
import type { Recovery } from '../model/vocabulary.js';
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

/** An error on an instantiated component of an enabled SU: decide and start the recovery. */
export function recoverFromError(ctx: Ctx, suName: string, comp: string, recommended: Recovery, reason: string): void {
  const st = su(ctx, suName);
  const c = st.comps[comp];
  if (c === undefined || c.presence !== 'instantiated' || st.oper !== 'enabled' || st.node === null) {
    ctx.notices.push({ kind: 'ignored', input: `error ${suName}/${comp}`, reason: 'a recovery is already in progress or the component is not running' });
    return;
  }
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
      return restartLadder(ctx, suName, comp, reason);
    case 'component-failover':
      return failoverLadder(ctx, suName, comp, reason);
    case 'node-switchover':
      notice(ctx, suName, comp, 'node-switchover', 3, reason);
      return nodeSwitchover(ctx, st.node, suName);
    case 'node-failover':
      notice(ctx, suName, comp, 'node-failover', 3, reason);
      return nodeFailover(ctx, st.node);
    case 'node-failfast':
      notice(ctx, suName, comp, 'node-failfast', 3, reason);
      return nodeFailfast(ctx, st.node, `node failfast: ${reason}`);
    case 'cluster-reset':
    case 'application-restart':
      // Not supported cluster-wide: the strongest local action instead (documented in docs/amf.md).
      notice(ctx, suName, comp, 'node-failover', 3, `${reason} (${rec} not supported)`);
      return nodeFailover(ctx, st.node);
  }
}

function restartLadder(ctx: Ctx, suName: string, comp: string, reason: string): void {
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
  failoverLadder(ctx, suName, comp, reason);
}

/** Restart every running component of the SU (cleanup, then instantiate; assignments kept). */
export function restartSu(ctx: Ctx, suName: string, why: string): void {
  const st = su(ctx, suName);
  for (const [name, c] of Object.entries(st.comps)) {
    if (c.presence === 'instantiated') stopComp(ctx, suName, name, { abrupt: true, restart: true, reason: why });
  }
}

function failoverLadder(ctx: Ctx, suName: string, comp: string, reason: string): void {
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
    const whole = must(ctx.idx.sus.get(suName), 'an SU not in the model').cfg.failover;
    notice(ctx, suName, comp, whole ? 'su-failover' : 'component-failover', 2, `${reason}; failover ${ns.failovers}/${max} on node ${node}`);
    if (whole) suFailover(ctx, suName, 'failover');
    else compFailover(ctx, suName, comp);
    return;
  }
  if (ns.probationEnd !== null) cancelTimer(ctx, timerIds.nodeProbation(node));
  ns.failovers = 0;
  ns.probationEnd = null;
  escalated(ctx, 'node', node, 2, 3, `SU failovers on node ${node} reached its failover max ${max} within the probation`);
  notice(ctx, suName, comp, 'node-failover', 3, reason);
  nodeFailover(ctx, node);
}

/** Stop every component of the SU abruptly and disable it; its SIs go to other SUs. */
export function suFailover(ctx: Ctx, suName: string, why: string): void {
  const st = su(ctx, suName);
  st.oper = 'disabled';
  st.disabledCause ??= 'failover';
  for (const [name, c] of Object.entries(st.comps)) {
    if (c.presence === 'instantiated') stopComp(ctx, suName, name, { abrupt: true, restart: false, reason: why });
    else if (c.presence === 'restarting') c.presence = 'terminating';
  }
  markSuDirty(ctx, suName);
}

/** Stop only the faulty component; the SU is disabled and its other SIs are switched over. */
function compFailover(ctx: Ctx, suName: string, comp: string): void {
  const st = su(ctx, suName);
  st.oper = 'disabled';
  st.disabledCause = 'failover';
  must(st.comps[comp], 'a component of the model has no state').oper = 'disabled';
  stopComp(ctx, suName, comp, { abrupt: true, restart: false, reason: 'failover' });
}

function susOn(ctx: Ctx, node: string): string[] {
  return Object.keys(ctx.s.sus).filter((n) => peek(ctx, n).node === node);
}

/** Fail over every SU of the node abruptly; the node stays disabled until repaired or rebooted. */
export function nodeFailover(ctx: Ctx, node: string): void {
  must(ctx.s.nodes[node], 'a node in use has no state').oper = 'disabled';
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
function nodeSwitchover(ctx: Ctx, node: string, suName: string): void {
  suFailover(ctx, suName, 'node-switchover');
  must(ctx.s.nodes[node], 'a node in use has no state').oper = 'disabled';
  for (const s of susOn(ctx, node)) markSuDirty(ctx, s);
}

/** Fence the node: nothing of it may be trusted to stop. Its SIs move once it is down. */
export function nodeFailfast(ctx: Ctx, node: string, reason: string): void {
  const ns = must(ctx.s.nodes[node], 'a node in use has no state');
  ns.oper = 'disabled';
  ns.fencing = true;
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
