/**
 * Argument parsing shared by every amf-sim command (run, raft, swim, ...), so each command parses
 * seeds, durations and fault lists the same way and prints replay commands the same way.
 */
import { InvalidArgumentError } from 'commander';
import { err, ok, type Result } from '../src/util/result.js';

/** Seeds: "7", "1..300" (inclusive), or a list "3,9,12" (items may be ranges). */
export function parseSeeds(text: string): Result<number[], string> {
  const seeds: number[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(part);
    if (!m) return err(`bad seed list '${text}': expected N, A..B or a comma-separated list of them`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) return err(`bad seed range '${part.trim()}'`);
    if (seeds.length + (hi - lo + 1) > 10_000_000) return err(`seed list '${text}' is too long`);
    for (let s = lo; s <= hi; s++) seeds.push(s);
  }
  return ok(seeds);
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Durations: "250ms", "60s", "2m", "1h", "1.5s"; a bare number is milliseconds. */
export function parseDuration(text: string): Result<number, string> {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!m) return err(`bad duration '${text}': expected e.g. 500ms, 60s, 2m`);
  return ok(Number(m[1]) * (UNITS[m[2] ?? 'ms'] as number));
}

/** The shortest exact text parseDuration reads back as ms. */
export function formatDuration(ms: number): string {
  if (ms > 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** One of a fixed set of words (a profile, a policy): e.g. `oneOf('lease policy', LEASE_POLICIES)`. */
export function oneOf<const T extends string>(what: string, values: readonly T[]): (text: string) => Result<T, string> {
  return (text) => ((values as readonly string[]).includes(text) ? ok(text as T) : err(`bad ${what} '${text}' (${values.join(', ')})`));
}

/** Wrap a Result parser as a commander option parser (a bad value is a usage error, exit 2). */
export function optionParser<T>(parse: (text: string) => Result<T, string>): (text: string) => T {
  return (text) => {
    const r = parse(text);
    if (!r.ok) throw new InvalidArgumentError(r.error);
    return r.value;
  };
}

/**
 * The exact command that replays a run, e.g.
 * `node bin/amf-sim.js run --seed 7 --nodes 5 --duration 60s --faults loss=0.1,partition`.
 * Flags with value true print bare; undefined and false are left out.
 */
export function replayCommand(command: string, flags: Record<string, string | number | boolean | undefined>): string {
  const parts = ['node', 'bin/amf-sim.js', command];
  for (const [name, value] of Object.entries(flags)) {
    if (value === undefined || value === false) continue;
    parts.push(`--${name}`);
    if (value !== true) parts.push(shellQuote(String(value)));
  }
  return parts.join(' ');
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.,=:/+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
