/**
 * A linearizability checker of our own, after Wing & Gong with Lowe's memoisation, as porcupine
 * (anishathalye/porcupine, checker.go) does it: a depth-first search over the order in which
 * pending operations take effect, undoing on dead ends, with a cache of (set of linearized ops,
 * model state) so that no configuration is explored twice. Histories are first split into
 * independent partitions (P-compositionality: per key for a KV store) and each is checked alone.
 */

/** One completed or indeterminate operation. `ret` is Infinity when the outcome is unknown. */
export interface Operation<I, O> {
  readonly client: number;
  readonly input: I;
  /** undefined when the outcome is unknown (indeterminate, `ret === Infinity`). */
  readonly output: O | undefined;
  readonly call: number;
  readonly ret: number;
}

export interface Model<S, I, O> {
  /** Split a history into independently checkable parts (e.g. per key); default: one part. */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
  init(): S;
  /**
   * Whether `input` with result `output` is legal in `state`, and the state after it. `output`
   * undefined means the outcome is unknown: any result is acceptable.
   */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /** A string identifying the state, for the memo cache (states equal iff keys equal). */
  key(state: S): string;
}

export type CheckVerdict = 'ok' | 'illegal' | 'unknown';

export interface PartitionResult {
  readonly verdict: CheckVerdict;
  readonly ops: number;
  /** For an illegal partition: the most operations any explored order managed to linearize. */
  readonly longestPrefix: number;
}

export interface CheckResult {
  readonly verdict: CheckVerdict;
  readonly partitions: readonly PartitionResult[];
}

import { assert } from '../../src/util/assert.js';

interface Entry {
  readonly isCall: boolean;
  readonly id: number;
  readonly time: number;
  prev: Entry | null;
  next: Entry | null;
  match: Entry | null;
}

/**
 * Check a history. `maxSteps` bounds the search per partition (deterministic, unlike a time
 * limit); a partition that exceeds it gives 'unknown' rather than a wrong answer.
 */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  maxSteps = 5_000_000,
): CheckResult {
  const parts = model.partition ? model.partition(history) : [history.slice()];
  const partitions = parts.map((p) => checkPartition(model, p, maxSteps));
  const verdict: CheckVerdict = partitions.some((p) => p.verdict === 'illegal')
    ? 'illegal'
    : partitions.some((p) => p.verdict === 'unknown')
      ? 'unknown'
      : 'ok';
  return { verdict, partitions };
}

/** A doubly linked list of call and return events in time order (calls first on ties). */
function buildList<I, O>(ops: readonly Operation<I, O>[]): Entry {
  const events: Entry[] = [];
  ops.forEach((op, id) => {
    const call: Entry = { isCall: true, id, time: op.call, prev: null, next: null, match: null };
    const ret: Entry = { isCall: false, id, time: op.ret, prev: null, next: null, match: null };
    call.match = ret;
    events.push(call, ret);
  });
  // Calls before returns at equal times: touching intervals count as concurrent.
  events.sort((a, b) => a.time - b.time || Number(b.isCall) - Number(a.isCall) || a.id - b.id);
  const head: Entry = { isCall: false, id: -1, time: -Infinity, prev: null, next: null, match: null };
  let last = head;
  for (const e of events) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Take a call and its return out of the list (the op is now linearized). */
function lift(call: Entry): void {
  const ret = call.match!;
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Undo lift, in reverse order. */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

class Bitset {
  constructor(private readonly words: Uint32Array) {}
  static empty(n: number): Bitset {
    return new Bitset(new Uint32Array(Math.ceil(n / 32) || 1));
  }
  set(i: number): void {
    this.words[i >>> 5]! |= 1 << (i & 31);
  }
  clear(i: number): void {
    this.words[i >>> 5]! &= ~(1 << (i & 31));
  }
  key(): string {
    return Array.from(this.words, (w) => w.toString(36)).join(',');
  }
}

function checkPartition<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], maxSteps: number): PartitionResult {
  const head = buildList(ops);
  const linearized = Bitset.empty(ops.length);
  const seen = new Set<string>();
  const stack: Array<{ call: Entry; state: S }> = [];
  let state = model.init();
  let entry = head.next;
  let longest = 0;
  let steps = 0;
  while (head.next !== null) {
    if (++steps > maxSteps) return { verdict: 'unknown', ops: ops.length, longestPrefix: longest };
    // A list with calls left always ends in a return, so the walk never falls off the end.
    assert(entry !== null, 'linearizability: walked past the last event');
    if (entry.isCall) {
      const op = ops[entry.id]!;
      const r = model.step(state, op.input, op.output);
      if (r.ok) {
        linearized.set(entry.id);
        const k = `${linearized.key()}|${model.key(r.state)}`;
        if (!seen.has(k)) {
          seen.add(k);
          stack.push({ call: entry, state });
          state = r.state;
          lift(entry);
          longest = Math.max(longest, stack.length);
          entry = head.next;
          continue;
        }
        linearized.clear(entry.id);
      }
      entry = entry.next;
    } else {
      // A return whose call is still pending: the ops so far admit no order. Backtrack.
      const top = stack.pop();
      if (!top) return { verdict: 'illegal', ops: ops.length, longestPrefix: longest };
      state = top.state;
      linearized.clear(top.call.id);
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return { verdict: 'ok', ops: ops.length, longestPrefix: ops.length };
}
