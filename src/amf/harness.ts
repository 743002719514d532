/**
 * A deterministic driver for the engine with a scripted node agent: it answers every command the
 * way a healthy agent would (components start and stop, CSI sets succeed, quiescing completes,
 * fences take nodes down), except where a script says a component misbehaves. Timers run on a
 * virtual clock. Used by the scenario suite, the property tests, the bench and `amfctl config plan`.
 */
import type { AmfCommand, AmfInput, AmfNotice } from './commands.js';
import { step } from './engine.js';
import { checkInvariants } from './invariants.js';
import { type AmfState, initialState } from './state.js';
import type { AmfModel } from '../model/types.js';

/** How the scripted agent misbehaves, per component (`su/comp`). */
export interface AgentScript {
  /** Fail the next N instantiation attempts (Infinity: always). */
  readonly failInstantiate: Map<string, number>;
  /** Fail the next N terminate/cleanup operations. */
  readonly failTerminate: Map<string, number>;
  /** su/comp → how many migrations fail (the component stays where it was). */
  readonly failMigrate: Map<string, number>;
  /** Never answer commands for these components (they hang) until released. */
  readonly hang: Set<string>;
}

export interface StepRecord {
  readonly input: AmfInput;
  readonly commands: readonly AmfCommand[];
  readonly notices: readonly AmfNotice[];
  readonly error?: string;
}

export class Harness {
  state: AmfState;
  now = 0;
  readonly script: AgentScript = { failInstantiate: new Map(), failTerminate: new Map(), failMigrate: new Map(), hang: new Set() };
  /** Armed timers: id → time. */
  readonly timers = new Map<string, number>();
  /** Commands withheld from hanging components. */
  readonly held: AmfCommand[] = [];
  private readonly queue: AmfInput[] = [];

  /**
   * `checked` (tests): deep-freeze every state handed to the engine, so a test fails if step ever
   * writes to its input (the copy-on-write draft must copy first), and check the engine's
   * invariants (invariants.ts) after every step.
   */
  constructor(
    public model: AmfModel,
    private readonly onStep: (r: StepRecord) => void = () => {},
    state?: AmfState,
    private readonly checked = false,
  ) {
    this.state = state ?? initialState(model);
  }

  /** Feed inputs (queued together) and everything the scripted agent answers, until quiet. */
  send(...inputs: AmfInput[]): string | undefined {
    this.queue.push(...inputs);
    let firstError: string | undefined;
    let budget = 100_000;
    for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
      if (--budget === 0) throw new Error('harness: the engine does not settle (100000 inputs)');
      if (this.checked) deepFreeze(this.state);
      const r = step(this.model, this.state, next, this.now);
      if (this.checked) checkInvariants(this.model, r.state, this.state);
      this.state = r.state;
      this.onStep({ input: next, commands: r.commands, notices: r.notices, ...(r.error !== undefined ? { error: r.error } : {}) });
      if (r.error !== undefined) firstError ??= r.error;
      for (const c of r.commands) this.agent(c);
    }
    return firstError;
  }

  /** Advance the virtual clock, firing due timers in time order (ties by id). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: [string, number] | undefined;
      for (const [id, at] of this.timers) {
        if (at <= end && (!due || at < due[1] || (at === due[1] && id < due[0]))) due = [id, at];
      }
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = Math.max(this.now, due[1]);
      this.send({ kind: 'timer-expired', id: due[0] });
    }
    this.now = end;
  }

  /** Answer the commands held for a component that stops hanging. */
  release(ref: string): void {
    this.script.hang.delete(ref);
    const mine = this.held.filter((c) => 'comp' in c && `${c.su}/${c.comp}` === ref);
    for (const c of mine) this.held.splice(this.held.indexOf(c), 1);
    for (const c of mine) this.agent(c);
    const next = this.queue.shift();
    if (next !== undefined) this.send(next);
  }

  private take(map: Map<string, number>, ref: string): boolean {
    const n = map.get(ref) ?? 0;
    if (n <= 0) return false;
    map.set(ref, n - 1);
    return true;
  }

  private agent(c: AmfCommand): void {
    if (c.kind === 'timer-set') return void this.timers.set(c.id, c.at);
    if (c.kind === 'timer-cancel') return void this.timers.delete(c.id);
    if (c.kind === 'node-fence') return void this.queue.push({ kind: 'node-down', node: c.node });
    const ref = `${c.su}/${c.comp}`;
    if (this.script.hang.has(ref)) return void this.held.push(c);
    const { su, comp } = c;
    switch (c.kind) {
      case 'comp-instantiate':
        if (this.take(this.script.failInstantiate, ref)) {
          this.queue.push({ kind: 'comp-instantiate-failed', su, comp, reason: 'scripted failure' });
        } else this.queue.push({ kind: 'comp-instantiated', su, comp });
        return;
      case 'comp-terminate':
      case 'comp-cleanup':
        if (this.take(this.script.failTerminate, ref)) {
          this.queue.push({ kind: 'comp-terminate-failed', su, comp, reason: 'scripted failure' });
        } else this.queue.push({ kind: 'comp-terminated', su, comp });
        return;
      case 'comp-migrate':
        if (this.take(this.script.failMigrate, ref)) this.queue.push({ kind: 'comp-migrate-failed', su, comp, reason: 'scripted failure' });
        else this.queue.push({ kind: 'comp-migrated', su, comp, uuid: `${ref}@${c.to}` });
        return;
      case 'csi-set':
        this.queue.push({ kind: 'csi-set-done', su, comp, si: c.si, csi: c.csi, haState: c.haState });
        if (c.haState === 'quiescing') this.queue.push({ kind: 'quiescing-complete', su, comp, si: c.si, csi: c.csi });
        return;
      case 'csi-remove':
      case 'healthcheck-start':
      case 'healthcheck-stop':
        return;
    }
  }
}

function deepFreeze(o: object): void {
  if (Object.isFrozen(o)) return;
  Object.freeze(o);
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v as object);
}

/** The nodes to bring up so every SU can run: the model's nodes, else those SUs name, else one. */
export function nodesOf(model: AmfModel): string[] {
  if (model.nodes.length > 0) return model.nodes.map((n) => n.name);
  const named = [...new Set(model.groups.flatMap((g) => g.units.flatMap((u) => u.nodes)))].sort();
  return named.length > 0 ? named : ['node1'];
}
