/**
 * Live migration of a domain between two libvirts, checked as the lifecycle notes say: after
 * `virsh migrate --live`, `dominfo` on the source (still there: the attempt failed, try again up
 * to the retry limit) and on the destination (there: it now lives there). Refused before any
 * attempt when the destination already has a domain of that name. Never two copies: should both
 * ends ever report the domain up after an attempt, the destination's copy is destroyed (libvirt
 * keeps it paused until the switch-over, so the source's is the one serving).
 */
import type { Clock } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import { err, ok, type Result } from '../util/result.js';
import { isUp, type DomInfo } from './parse.js';
import type { Virsh, VirshError } from './virsh.js';

export interface MigrateOptions {
  /** Attempts after the first. */
  readonly retries: number;
  /** One `virsh migrate` may take this long (its process group is killed after). */
  readonly timeoutMs: number;
  /** dominfo on the destination: how many times, how far apart, before concluding it is not there. */
  readonly checkTries: number;
  readonly checkDelayMs: number;
}

export type MigrateFailureKind =
  /** Nothing was tried: the domain does not run here, or the destination has one of that name. */
  | 'refused'
  /** Every attempt failed; the domain still runs on the source. */
  | 'failed'
  /** The source no longer has it and the destination does not show it: it is lost. */
  | 'lost';

export interface MigrateFailure {
  readonly kind: MigrateFailureKind;
  readonly message: string;
}

export interface Migrated {
  /** The domain as the destination reports it. */
  readonly info: DomInfo;
  readonly attempts: number;
}

type Presence = { readonly is: 'up' | 'down'; readonly info: DomInfo } | { readonly is: 'absent' } | { readonly is: 'unknown'; readonly error: VirshError };

/** Whether the domain is there and up, there and down, absent, or unknown (dominfo itself failed). */
async function presence(v: Virsh, name: string): Promise<Presence> {
  const r = await v.dominfo(name);
  if (r.ok) return { is: isUp(r.value.state) ? 'up' : 'down', info: r.value };
  return r.error.kind === 'no-domain' ? { is: 'absent' } : { is: 'unknown', error: r.error };
}

export async function migrateDomain(src: Virsh, dst: Virsh, name: string, o: MigrateOptions, clock: Clock, log: Logger): Promise<Result<Migrated, MigrateFailure>> {
  const label = src.ctx.label;
  const fail = (kind: MigrateFailureKind, what: string): Result<never, MigrateFailure> => err({ kind, message: `${label}: migrate '${name}' from ${src.ctx.uri} to ${dst.ctx.uri}: ${what}` });
  const sleep = (ms: number): Promise<void> => new Promise((r) => clock.setTimer(ms, r));

  const here = await presence(src, name);
  if (here.is === 'unknown') return fail('refused', `dominfo on the source: ${here.error.message}`);
  if (here.is !== 'up') return fail('refused', 'it does not run on the source');
  const there = await presence(dst, name);
  if (there.is === 'unknown') return fail('refused', `dominfo on the destination: ${there.error.message}`);
  if (there.is !== 'absent') return fail('refused', 'the destination already has a domain of that name');

  let last = '';
  for (let attempt = 1; attempt <= o.retries + 1; attempt++) {
    const m = await src.migrate(name, dst.ctx.uri, o.timeoutMs);
    if (!m.ok) last = m.error.message;
    const source = await presence(src, name);
    if (source.is === 'absent' || source.is === 'down') {
      // Gone from the source: the destination must show it (it may take a moment to settle).
      for (let i = 0; i < o.checkTries; i++) {
        const d = await presence(dst, name);
        if (d.is === 'up') {
          log.info({ domain: name, to: dst.ctx.uri, attempt }, 'domain migrated (gone from the source, running on the destination)');
          return ok({ info: d.info, attempts: attempt });
        }
        await sleep(o.checkDelayMs);
      }
      return fail('lost', `gone from the source after attempt ${attempt}, not running on the destination after ${o.checkTries} dominfo checks${last ? ` (virsh migrate: ${last})` : ''}`);
    }
    if (source.is === 'unknown') last = `dominfo on the source: ${source.error.message}`;
    // Still on the source: this attempt failed. Never leave a second copy behind at the destination.
    const d = await presence(dst, name);
    if (d.is === 'up' || d.is === 'down') {
      log.warn({ domain: name, attempt }, 'the domain is on both ends after a failed migration: destroying the destination copy');
      await dst.destroy(name);
    }
    log.warn({ domain: name, attempt, of: o.retries + 1, reason: last }, 'migration attempt failed: the domain still runs on the source');
  }
  return fail('failed', `still on the source after ${o.retries + 1} attempts${last ? `; last: ${last}` : ''}`);
}
