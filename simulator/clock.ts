import type { Clock, TimerHandle } from '../src/runtime/ports/clock.js';
import { assert } from '../src/util/assert.js';
import type { Domain, ScheduledEvent, Scheduler } from './scheduler.js';

/** 2026-01-01T00:00:00Z: wallTime() is this epoch plus virtual time, the same in every run. */
export const SIM_EPOCH_MS = 1_767_225_600_000;

const NOOP_HANDLE: TimerHandle = { cancel: () => undefined };

/**
 * A node's Clock on virtual time. Timers belong to the node's domain: a crash drops them all, a
 * pause delays them. A dead incarnation's clock (a discarded app still finishing microtasks)
 * sets no timers.
 */
export class SimClock implements Clock {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly domain: Domain,
    /** Called before each timer callback (tracing). */
    private readonly onFire?: (kind: 'timer' | 'interval') => void,
  ) {}

  now(): number {
    return this.scheduler.now;
  }

  wallTime(): number {
    return SIM_EPOCH_MS + Math.floor(this.scheduler.now);
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    assert(Number.isFinite(delayMs), `setTimer: bad delay ${delayMs}`);
    if (!this.domain.alive) return NOOP_HANDLE;
    const ev = this.scheduler.schedule(Math.max(0, delayMs), this.domain, () => {
      this.onFire?.('timer');
      fn();
    });
    return { cancel: () => void (ev.cancelled = true) };
  }

  setInterval(periodMs: number, fn: () => void): TimerHandle {
    assert(Number.isFinite(periodMs) && periodMs > 0, `setInterval: bad period ${periodMs}`);
    if (!this.domain.alive) return NOOP_HANDLE;
    let current: ScheduledEvent;
    let cancelled = false;
    const tick = (): void => {
      // Re-arm first, so fn may cancel the interval from inside its own callback.
      current = this.scheduler.schedule(periodMs, this.domain, tick);
      this.onFire?.('interval');
      fn();
    };
    current = this.scheduler.schedule(periodMs, this.domain, tick);
    return {
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        current.cancelled = true;
      },
    };
  }
}
