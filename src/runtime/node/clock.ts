import { performance } from 'node:perf_hooks';
import { assert } from '../../util/assert.js';
import type { Clock, TimerHandle } from '../ports/clock.js';

/** setTimeout silently turns longer delays into 1 ms, so longer timers are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real clock: now() on performance.now() (monotonic, unaffected by NTP steps), wallTime() on
 * Date.now(). Timers are unref'd: they never keep the process alive on their own (the daemon's
 * sockets do), so tests and CLIs exit when their work is done.
 */
export class NodeClock implements Clock {
  now(): number {
    return performance.now();
  }

  wallTime(): number {
    return Date.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    assert(Number.isFinite(delayMs) && delayMs >= 0, `setTimer: bad delay ${delayMs}`);
    let handle: NodeJS.Timeout | undefined;
    const arm = (remaining: number): void => {
      const step = Math.min(remaining, MAX_TIMER_MS);
      handle = setTimeout(() => {
        if (remaining > step) arm(remaining - step);
        else {
          handle = undefined;
          fn();
        }
      }, step);
      handle.unref();
    };
    arm(delayMs);
    return {
      cancel: () => {
        if (handle !== undefined) clearTimeout(handle);
        handle = undefined;
      },
    };
  }

  setPeriodic(periodMs: number, fn: () => void): TimerHandle {
    assert(Number.isFinite(periodMs) && periodMs > 0 && periodMs <= MAX_TIMER_MS, `setPeriodic: bad period ${periodMs}`);
    const handle = setInterval(fn, periodMs);
    handle.unref();
    return { cancel: () => clearInterval(handle) };
  }
}
