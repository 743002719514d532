/** A scheduled callback; cancel() is idempotent and safe after the timer fired. */
export interface TimerHandle {
  cancel(): void;
}

/**
 * Time for protocol code. `now()` is monotonic (never steps back, unaffected by NTP) and is what
 * every timeout is measured on; `wallTime()` is the Unix-epoch clock, only for timestamps shown to
 * people. In the simulator both are virtual.
 */
export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin (fractional allowed). */
  now(): number;
  /** Wall-clock milliseconds since the Unix epoch. May step; never use it to measure durations. */
  wallTime(): number;
  /** Run `fn` once after `delayMs` (>= 0). Timers due at the same time run in the order set. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  /** Run `fn` every `periodMs` (> 0) until cancelled. */
  setPeriodic(periodMs: number, fn: () => void): TimerHandle;
}

/** `p`'s value, or `fallback` if it has not settled within `ms` of `clock`. */
export function within<T, F>(clock: Clock, p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return new Promise((resolve) => {
    const timer = clock.setTimer(ms, () => resolve(fallback));
    void p.then((v) => {
      timer.cancel();
      resolve(v);
    });
  });
}
