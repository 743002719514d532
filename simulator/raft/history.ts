import { assert } from '../../src/util/assert.js';
import type { Operation } from './linearizability.js';

/**
 * A Jepsen-style history: every client operation is recorded when invoked and when it completes,
 * as ok (happened, with its result), fail (surely did not happen) or info (indeterminate: it may
 * have taken effect, now or later). Times come from the caller's clock, so in the simulator the
 * history is in virtual time and replays exactly.
 */
export type HistoryEvent<I, O> =
  | { readonly type: 'invoke'; readonly id: number; readonly client: number; readonly input: I; readonly time: number }
  | { readonly type: 'ok'; readonly id: number; readonly output: O; readonly time: number }
  | { readonly type: 'fail'; readonly id: number; readonly time: number }
  | { readonly type: 'info'; readonly id: number; readonly time: number };

export class HistoryRecorder<I, O> {
  private readonly events: HistoryEvent<I, O>[] = [];
  private readonly open = new Map<number, { client: number; input: I; call: number }>();
  private nextId = 0;

  constructor(private readonly now: () => number) {}

  invoke(client: number, input: I): number {
    const id = this.nextId++;
    const time = this.now();
    this.open.set(id, { client, input, call: time });
    this.events.push({ type: 'invoke', id, client, input, time });
    return id;
  }

  ok(id: number, output: O): void {
    this.close(id);
    this.events.push({ type: 'ok', id, output, time: this.now() });
  }

  fail(id: number): void {
    this.close(id);
    this.events.push({ type: 'fail', id, time: this.now() });
  }

  info(id: number): void {
    this.close(id);
    this.events.push({ type: 'info', id, time: this.now() });
  }

  get log(): readonly HistoryEvent<I, O>[] {
    return this.events;
  }

  /**
   * The operations for the checker: ok ops with their interval, info ops (and ops never completed)
   * open-ended, fail ops left out since they surely had no effect.
   */
  operations(): Operation<I, O>[] {
    const calls = new Map<number, { client: number; input: I; call: number }>();
    const done = new Set<number>();
    const ops: Operation<I, O>[] = [];
    for (const e of this.events) {
      if (e.type === 'invoke') {
        calls.set(e.id, { client: e.client, input: e.input, call: e.time });
        continue;
      }
      const c = calls.get(e.id);
      assert(c, `history: completion of unknown op ${e.id}`);
      done.add(e.id);
      if (e.type === 'ok') ops.push({ client: c.client, input: c.input, output: e.output, call: c.call, ret: e.time });
      else if (e.type === 'info') ops.push({ client: c.client, input: c.input, output: undefined, call: c.call, ret: Infinity });
    }
    for (const [id, c] of calls) {
      if (!done.has(id)) ops.push({ client: c.client, input: c.input, output: undefined, call: c.call, ret: Infinity });
    }
    return ops;
  }

  private close(id: number): void {
    assert(this.open.delete(id), `history: op ${id} completed twice or never invoked`);
  }
}
