/**
 * The scenario language (events.txt) and the transcript format (expected.txt), like Pacemaker's
 * cts-scheduler. One event per line:
 *
 *   start [NODE...]                    node-up for every node (or those listed) at once
 *   node-up N | node-down N
 *   error SU/COMP [RECOVERY]           error report (recommended recovery, default none)
 *   healthcheck SU/COMP KEY [RECOVERY] healthcheck failed
 *   csi-set-failed SU/COMP SI/CSI HA   the component refused a CSI set to HA state HA
 *   admin OP TYPE NAME                 OP: lock unlock lock-instantiation unlock-instantiation
 *                                      shutdown restart si-swap repair switchover;
 *                                      TYPE: node sg su si comp (comp NAME is SU/COMP)
 *   time +MS                           advance the clock (suffix s or m allowed), firing timers
 *   fail-instantiate SU/COMP N|always  the agent fails the next N instantiation attempts
 *   fail-terminate SU/COMP [N]         the agent fails the next N terminate/cleanup
 *   hang SU/COMP | release SU/COMP     the agent stops answering for a component / resumes
 *   show                               print the state summary here
 *
 * The transcript prints each event, then every engine step it caused that did something: the
 * input (agent answers are indented one level), recovery/escalation/ignored notices, and the
 * commands; then the final state summary.
 */
import type { AmfCommand, AmfInput, AdminTarget, AmfNotice } from '../../src/amf/commands.js';
import type { AdminOp, HaState, Recovery } from '../../src/model/vocabulary.js';
import { Harness, nodesOf, type StepRecord } from '../../src/amf/harness.js';
import { describeGroups } from '../../src/amf/plan.js';
import { type Ctx, suPresence, suReadiness } from '../../src/amf/context.js';
import { indexModel } from '../../src/amf/model-index.js';
import type { AmfState } from '../../src/amf/state.js';
import type { AmfModel } from '../../src/model/types.js';

export function fmtCommand(c: AmfCommand): string {
  switch (c.kind) {
    case 'comp-instantiate':
      return `instantiate ${c.su}/${c.comp}@${c.node} #${c.attempt}${c.adopt === undefined ? '' : ` adopt ${c.adopt}`}`;
    case 'comp-migrate':
      return `migrate ${c.su}/${c.comp}@${c.node} to ${c.to}`;
    case 'comp-terminate':
      return `terminate ${c.su}/${c.comp}@${c.node}`;
    case 'comp-cleanup':
      return `cleanup ${c.su}/${c.comp}@${c.node} (${c.reason})`;
    case 'csi-set':
      return `csi-set ${c.su}/${c.comp} ${c.si}/${c.csi} ${c.haState}`;
    case 'csi-remove':
      return `csi-remove ${c.su}/${c.comp} ${c.si}/${c.csi}`;
    case 'healthcheck-start':
      return `hc-start ${c.su}/${c.comp} ${c.key}`;
    case 'healthcheck-stop':
      return `hc-stop ${c.su}/${c.comp} ${c.key}`;
    case 'timer-set':
      return `timer-set ${c.id} @${c.at}`;
    case 'timer-cancel':
      return `timer-cancel ${c.id}`;
    case 'node-fence':
      return `fence ${c.node} (${c.reason})`;
  }
}

export function fmtInput(i: AmfInput): string {
  switch (i.kind) {
    case 'comp-instantiated':
    case 'comp-terminated':
      return `${i.kind} ${i.su}/${i.comp}`;
    case 'comp-instantiate-failed':
    case 'comp-terminate-failed':
      return `${i.kind} ${i.su}/${i.comp} (${i.reason})`;
    case 'comp-migrated':
      return `${i.kind} ${i.su}/${i.comp} ${i.uuid}`;
    case 'comp-migrate-failed':
      return `${i.kind} ${i.su}/${i.comp}${i.lost ? ' lost' : ''} (${i.reason})`;
    case 'error-report':
      return `error ${i.su}/${i.comp} ${i.recovery}`;
    case 'healthcheck-failed':
      return `healthcheck-failed ${i.su}/${i.comp} ${i.key}`;
    case 'csi-set-done':
    case 'csi-set-failed':
      return `${i.kind} ${i.su}/${i.comp} ${i.si}/${i.csi} ${i.haState}`;
    case 'csi-remove-done':
    case 'quiescing-complete':
      return `${i.kind} ${i.su}/${i.comp} ${i.si}/${i.csi}`;
    case 'timer-expired':
      return `timer-expired ${i.id}`;
    case 'node-up':
    case 'node-down':
      return `${i.kind} ${i.node}`;
    case 'admin':
      return `admin ${i.op} ${i.target.type} ${i.target.type === 'comp' ? `${i.target.su}/${i.target.comp}` : i.target.name}${i.to === undefined ? '' : ` --to ${i.to}`}`;
    case 'config-changed':
      return 'config-changed';
  }
}

function fmtNotice(n: AmfNotice): string | null {
  switch (n.kind) {
    case 'recovery':
      return `! recovery ${n.su}/${n.comp}: ${n.action} (L${n.level}) - ${n.reason}`;
    case 'escalation':
      return `! escalation ${n.scope} ${n.name}: L${n.from} -> L${n.to} - ${n.reason}`;
    case 'ignored':
      return `! ignored ${n.input}: ${n.reason}`;
    default:
      return null;
  }
}

function ctxOf(model: AmfModel, s: AmfState): Ctx {
  return { idx: indexModel(model), s, now: 0, commands: [], notices: [], dirty: new Set(), rev: 0 };
}

export function summary(model: AmfModel, h: Harness): string[] {
  const s = h.state;
  const out = [`== state at t=${h.now}`];
  for (const [name, n] of Object.entries(s.nodes)) {
    out.push(`node ${name}: ${n.up ? 'up' : 'down'} ${n.oper} ${n.admin} failovers=${n.failovers}`);
  }
  const groups = describeGroups(model, s);
  for (const sg of model.groups) {
    const g = groups.find((x) => x.name === sg.name)!;
    out.push(`sg ${sg.name} (${sg.model}${g.level ? ` level ${g.level}` : ''}): ${s.sgs[sg.name]!.admin}`);
    for (const u of sg.units) {
      const st = s.sus[u.name]!;
      const e = st.escalation;
      const comps = Object.entries(st.comps)
        .map(([c, cs]) => `${c}=${cs.presence}${cs.oper === 'disabled' ? '/disabled' : ''}`)
        .join(' ');
      out.push(
        `  su ${u.name}@${st.node ?? '-'}: ${suPresence(st)} ${st.oper} ${suReadiness(ctxOf(model, s), u.name)} ${st.admin} L${e.level} restarts=${e.compRestarts}/${e.suRestarts} [${comps}]`,
      );
      // Only the blast-radius causes wait for a repair with a reason worth printing here.
      if (st.disabledCause === 'component-fault' || st.disabledCause === 'node-failover-withheld') out.push(`    disabled for repair (${st.disabledCause}): ${st.disabledReason}`);
    }
    for (const si of sg.sis) {
      const holders = g.assignments.filter((a) => a.si === si.name).map((a) => `${a.su}=${a.ha}`);
      out.push(`  si ${si.name}: ${s.sis[si.name]!.admin} ${holders.length > 0 ? holders.join(' ') : '(unassigned)'}`);
    }
  }
  return out;
}

function parseTime(t: string): number {
  const m = /^\+?(\d+)(ms|s|m)?$/.exec(t);
  if (!m) throw new Error(`bad time ${t}`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n;
}

function splitRef(ref: string | undefined): { su: string; comp: string } {
  const [su, comp] = (ref ?? '').split('/');
  if (!su || !comp) throw new Error(`expected SU/COMP, got ${ref}`);
  return { su, comp };
}

/** Run a scenario; returns the transcript lines. Throws on a malformed events line. */
/** Play `events` on `model` and return the transcript; `done` gets the harness at the end (its final state). */
export function runScenario(model: AmfModel, events: string, done?: (h: Harness) => void): string[] {
  const out: string[] = [];
    const record = (r: StepRecord): void => {
    const notes = r.notices.map(fmtNotice).filter((x): x is string => x !== null);
    const outer = tops.has(r.input) || r.input.kind === 'timer-expired';
    if (!outer && r.commands.length === 0 && notes.length === 0 && r.error === undefined) return;
    out.push(`${outer ? '' : '  '}${fmtInput(r.input)}`);
    if (r.error !== undefined) out.push(`    ! error: ${r.error}`);
    for (const n of notes) out.push(`    ${n}`);
    for (const c of r.commands) out.push(`    ${fmtCommand(c)}`);
  };
  const h = new Harness(model, record, undefined, true);
  const tops = new Set<AmfInput>();
  const send = (...inputs: AmfInput[]): void => {
    for (const i of inputs) tops.add(i);
    h.send(...inputs);
  };
  events.split('\n').forEach((raw, lineNo) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    out.push(`> ${line}`);
    const [cmd, ...a] = line.split(/\s+/);
    const where = `events.txt:${lineNo + 1}`;
    switch (cmd) {
      case 'start':
        return send(...(a.length > 0 ? a : nodesOf(model)).map((node): AmfInput => ({ kind: 'node-up', node })));
      case 'node-up':
      case 'node-down':
        return send({ kind: cmd, node: a[0]! });
      case 'error':
        return send({ kind: 'error-report', ...splitRef(a[0]), recovery: (a[1] ?? 'no-recommendation') as Recovery, source: 'error-report' });
      case 'healthcheck':
        return send({ kind: 'healthcheck-failed', ...splitRef(a[0]), key: a[1]!, ...(a[2] ? { recovery: a[2] as Recovery } : {}) });
      case 'csi-set-failed': {
        const [si, csi] = (a[1] ?? '').split('/');
        return send({ kind: 'csi-set-failed', ...splitRef(a[0]), si: si!, csi: csi!, haState: (a[2] ?? 'active') as HaState, reason: 'scripted' });
      }
      case 'admin': {
        const [op, type, name, to] = a as [AdminOp, AdminTarget['type'], string, string | undefined];
        const target: AdminTarget = type === 'comp' ? { type, ...splitRef(name) } : { type, name };
        return send({ kind: 'admin', op, target, ...(to === undefined ? {} : { to }) });
      }
      case 'time':
        return h.advance(parseTime(a[0]!));
      case 'fail-instantiate':
        h.script.failInstantiate.set(a[0]!, a[1] === 'always' ? Infinity : Number(a[1] ?? 1));
        return;
      case 'fail-terminate':
        h.script.failTerminate.set(a[0]!, Number(a[1] ?? 1));
        return;
      case 'fail-migrate':
        h.script.failMigrate.set(a[0]!, Number(a[1] ?? 1));
        return;
      case 'hang':
        h.script.hang.add(a[0]!);
        return;
      case 'release':
        return h.release(a[0]!);
      case 'show':
        out.push(...summary(model, h));
        return;
      default:
        throw new Error(`${where}: unknown event "${cmd}"`);
    }
  });
  out.push(...summary(model, h));
  done?.(h);
  return out;
}
