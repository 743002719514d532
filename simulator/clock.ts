import type { Clock, TimerHandle } from '../src/runtime/ports/clock.js';
import { assert } from '../src/util/assert.js';
import type { Domain, ScheduledEvent, Scheduler } from './scheduler.js';

/** 2026-01-01T00:00:00Z: wallTime() is this epoch plus virtual time, the same in every run. */
export const SIM_EPOCH_MS = 1_767_225_600_000;

const NOOP_HANDLE: TimerHandle = { cancel: () => undefined };

/**
 * How a machine's clocks relate to virtual (true) time: they run at `rate` (1.001 = 1000 ppm
 * fast), and the wall clock may be stepped (NTP) while the monotonic one never is. Piecewise
 * linear, so a rate change keeps local time continuous and monotonic. Identity by default.
 */
export class MachineTime {
  private rate = 1;
  private base = 0;
  private localAtBase = 0;
  private wallOffset = 0;

  /** Local monotonic time at virtual time t (t not before the last change). */
  local(t: number): number {
    return this.localAtBase + (t - this.base) * this.rate;
  }

  /** Virtual ms until `localMs` have passed on this machine's clock. */
  toVirtual(localMs: number): number {
    return localMs / this.rate;
  }

  wall(t: number): number {
    return SIM_EPOCH_MS + Math.floor(this.local(t) + this.wallOffset);
  }

  setRate(rate: number, now: number): void {
    assert(rate >= 0.5 && rate <= 2, `clock rate ${rate} outside [0.5, 2]`);
    this.localAtBase = this.local(now);
    this.base = now;
    this.rate = rate;
  }

  /** Step the wall clock (only wallTime() moves; now() stays monotonic). */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }
}

/**
 * A node's Clock on virtual time, through its machine's MachineTime. Timers belong to the node's
 * domain: a crash drops them all, a pause delays them. A dead incarnation's clock (a discarded app
 * still finishing microtasks) sets no timers.
 */
export class SimClock implements Clock {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly domain: Domain,
    /** Called before each timer callback (tracing). */
    private readonly onFire?: (kind: 'timer' | 'interval') => void,
    private readonly time: MachineTime = new MachineTime(),
  ) {}

  now(): number {
    return this.time.local(this.scheduler.now);
  }

  wallTime(): number {
    return this.time.wall(this.scheduler.now);
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    assert(Number.isFinite(delayMs), `setTimer: bad delay ${delayMs}`);
    if (!this.domain.alive) return NOOP_HANDLE;
    const ev = this.scheduler.schedule(this.time.toVirtual(Math.max(0, delayMs)), this.domain, () => {
      this.onFire?.('timer');
      fn();
    });
    return { cancel: () => void (ev.cancelled = true) };
  }

  setPeriodic(periodMs: number, fn: () => void): TimerHandle {
    assert(Number.isFinite(periodMs) && periodMs > 0, `setPeriodic: bad period ${periodMs}`);
    if (!this.domain.alive) return NOOP_HANDLE;
    let current: ScheduledEvent;
    let cancelled = false;
    const tick = (): void => {
      // Re-arm first, so fn may cancel the interval from inside its own callback.
      current = this.scheduler.schedule(this.time.toVirtual(periodMs), this.domain, tick);
      this.onFire?.('interval');
      fn();
    };
    current = this.scheduler.schedule(this.time.toVirtual(periodMs), this.domain, tick);
    return {
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        current.cancelled = true;
      },
    };
  }
}
