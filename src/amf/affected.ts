/**
 * Which running components an input would stop, restart or take out of service, and where they
 * run: the engine run on the input from the current state to settlement against a healthy scripted
 * agent (the same run as the dry-run plans), reading the commands it gives. Used to ask the guests
 * of heartbeated VMs before an admin operation is committed (a committed one cannot be refused).
 */
import type { AmfCommand, AmfInput } from './commands.js';
import { Harness } from './harness.js';
import type { AmfState } from './state.js';
import type { AmfModel } from '../model/types.js';

/** terminate: stopped and not started again; restart: stopped and started again; out-of-service: keeps running but loses what it serves. */
export type ComponentEffect = 'terminate' | 'restart' | 'out-of-service';

export interface AffectedComponent {
  readonly su: string;
  readonly comp: string;
  /** Where it runs now. */
  readonly node: string;
  readonly effect: ComponentEffect;
}

/** The components `input` affects; empty when the engine refuses the input (it would change nothing). */
export function affectedComponents(model: AmfModel, state: AmfState, now: number, input: AmfInput): AffectedComponent[] {
  const commands: AmfCommand[] = [];
  const h = new Harness(model, (r) => commands.push(...r.commands), state);
  h.now = now;
  if (h.send(input) !== undefined) return [];
  type Place = { readonly su: string; readonly comp: string; readonly node: string };
  const stopped = new Map<string, Place>();
  const restarted = new Set<string>();
  const unserved = new Map<string, Place>();
  for (const c of commands) {
    if (c.kind !== 'comp-terminate' && c.kind !== 'comp-cleanup' && c.kind !== 'comp-instantiate' && c.kind !== 'csi-remove' && c.kind !== 'csi-set') continue;
    const key = JSON.stringify([c.su, c.comp]);
    const place = { su: c.su, comp: c.comp, node: c.node };
    // Only what runs now: a component started by the input is nobody's to ask.
    if (state.sus[c.su]?.comps[c.comp]?.presence !== 'instantiated') continue;
    if (c.kind === 'comp-terminate' || c.kind === 'comp-cleanup') stopped.set(key, place);
    else if (c.kind === 'comp-instantiate' && stopped.has(key)) restarted.add(key);
    else if (c.kind === 'csi-remove' || (c.kind === 'csi-set' && (c.haState === 'quiesced' || c.haState === 'quiescing'))) unserved.set(key, place);
  }
  const out: AffectedComponent[] = [];
  for (const [key, p] of stopped) out.push({ ...p, effect: restarted.has(key) ? 'restart' : 'terminate' });
  for (const [key, p] of unserved) if (!stopped.has(key)) out.push({ ...p, effect: 'out-of-service' });
  return out.sort((a, b) => a.su.localeCompare(b.su) || a.comp.localeCompare(b.comp));
}
