/**
 * The pipe protocol between amfd and its lease watchdog (watchdog.ts → watchdog-main.ts), one
 * ASCII line per message:
 *   owner <AMFD_OWNER value>   first, once: whose component processes to kill
 *   arm <ns>                   the lease ends at <ns> on CLOCK_MONOTONIC (process.hrtime.bigint()),
 *                              an absolute time, so pipe latency never stretches it
 *   disarm                     this node holds no lease
 * Shared by both sides so they cannot disagree. Imports nothing heavy: the watchdog loads it.
 */
import { err, ok, type Result } from '../util/result.js';

/** Marks the watchdog's argv (`node … watchdog-main.js --amfd-watchdog <node>`): how to find it. */
export const WATCHDOG_ARG = '--amfd-watchdog';
/** A longer line is malformed (an owner is a node name and a path). */
export const MAX_LINE = 4096;
/**
 * An arm further ahead than this is malformed: a corrupted deadline must not disable the kill.
 * The daemon caps what it sends at this (killing earlier than the lease end is the safe side).
 */
export const MAX_AHEAD_NS = 600_000_000_000n;

export type WatchdogMsg = { readonly t: 'owner'; readonly owner: string } | { readonly t: 'arm'; readonly deadlineNs: bigint } | { readonly t: 'disarm' };

export function encodeMsg(m: WatchdogMsg): string {
  switch (m.t) {
    case 'owner':
      return `owner ${m.owner}\n`;
    case 'arm':
      return `arm ${m.deadlineNs}\n`;
    case 'disarm':
      return 'disarm\n';
  }
}

/** One line (without its newline), validated; `now` bounds how far ahead an arm may be. */
export function parseMsg(line: string, nowNs: bigint): Result<WatchdogMsg, string> {
  if (line.length > MAX_LINE) return err(`line longer than ${MAX_LINE} characters`);
  if (line === 'disarm') return ok({ t: 'disarm' });
  const sp = line.indexOf(' ');
  const verb = sp < 0 ? line : line.slice(0, sp);
  const arg = sp < 0 ? '' : line.slice(sp + 1);
  if (verb === 'owner') {
    // Printable ASCII only, as the daemon builds it (node name @ data dir).
    if (!/^[\x21-\x7e][\x20-\x7e]*$/.test(arg)) return err('owner: empty or not printable ASCII');
    return ok({ t: 'owner', owner: arg });
  }
  if (verb === 'arm') {
    if (!/^\d{1,20}$/.test(arg)) return err(`arm: ${JSON.stringify(arg.slice(0, 40))} is not a non-negative integer of nanoseconds`);
    const deadlineNs = BigInt(arg);
    if (deadlineNs - nowNs > MAX_AHEAD_NS) return err(`arm: deadline ${deadlineNs - nowNs} ns ahead, more than ${MAX_AHEAD_NS}`);
    return ok({ t: 'arm', deadlineNs });
  }
  return err(`unknown message ${JSON.stringify(verb.slice(0, 40))}`);
}
