import { assert } from '../src/util/assert.js';

/**
 * Who an event belongs to. A crashed node's domain is marked dead, so its pending events are
 * skipped in O(1) when they surface (lazy deletion); a paused domain has its events pushed back to
 * the end of the pause, so they run late, as after SIGSTOP or an event-loop stall.
 */
export class Domain {
  alive = true;
  pausedUntil = 0;
  constructor(readonly name: string) {}
}

/** The system domain: network plumbing and fault injection, never paused or crashed. */
export const SYSTEM = new Domain('system');

export interface ScheduledEvent {
  time: number;
  seq: number;
  readonly domain: Domain;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * The virtual-time event queue: a binary min-heap on (time, seq). seq is a global counter, so
 * events due at the same time run in the order they were scheduled: a total, reproducible order.
 */
export class Scheduler {
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  private _now = 0;
  /** Events whose callbacks ran (skipped and deferred ones excluded). */
  executed = 0;
  /** The domain of the event running now, or of the last one run. */
  lastDomain: Domain | undefined;

  get now(): number {
    return this._now;
  }

  get pending(): number {
    return this.heap.length;
  }

  schedule(delayMs: number, domain: Domain, fn: () => void): ScheduledEvent {
    assert(Number.isFinite(delayMs) && delayMs >= 0, `scheduler: bad delay ${delayMs}`);
    return this.at(this._now + delayMs, domain, fn);
  }

  at(time: number, domain: Domain, fn: () => void): ScheduledEvent {
    assert(time >= this._now, `scheduler: event in the past (${time} < ${this._now})`);
    const ev: ScheduledEvent = { time, seq: this.seq++, domain, fn, cancelled: false };
    this.push(ev);
    return ev;
  }

  /** Time of the next live event, or undefined when the queue is empty. */
  peekTime(): number | undefined {
    this.dropDead();
    return this.heap[0]?.time;
  }

  /**
   * Pop and run the next event due at or before `until`. Returns false when there is none (time
   * then stays where it was). Events of dead domains are dropped, of paused ones deferred.
   */
  step(until: number): boolean {
    for (;;) {
      this.dropDead();
      const top = this.heap[0];
      if (top === undefined || top.time > until) return false;
      this.pop();
      this._now = top.time;
      if (top.domain.pausedUntil > top.time) {
        top.time = top.domain.pausedUntil;
        top.seq = this.seq++;
        this.push(top);
        continue;
      }
      this.executed++;
      this.lastDomain = top.domain;
      top.fn();
      return true;
    }
  }

  /** Move time forward without running anything (to the end of a runFor window). */
  advanceTo(time: number): void {
    assert(time >= this._now, 'scheduler: time goes backwards');
    this._now = time;
  }

  private dropDead(): void {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || (!top.cancelled && top.domain.alive)) return;
      this.pop();
    }
  }

  private push(ev: ScheduledEvent): void {
    const h = this.heap;
    let i = h.length;
    h.push(ev);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent] as ScheduledEvent;
      if (!before(ev, p)) break;
      h[i] = p;
      i = parent;
    }
    h[i] = ev;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop() as ScheduledEvent;
    const n = h.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(h[r] as ScheduledEvent, h[l] as ScheduledEvent)) c = r;
      const child = h[c] as ScheduledEvent;
      if (!before(child, last)) break;
      h[i] = child;
      i = c;
    }
    h[i] = last;
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
