import type { Clock, TimerHandle } from './ports/clock.js';

/**
 * One-shot timers by name on a Clock, as pure cores ask for them ("set X in N ms", "cancel X"):
 * setting a name again replaces its timer, and a timer is forgotten once it fired.
 */
export class KeyedTimers<K> {
  private readonly timers = new Map<K, TimerHandle>();

  constructor(private readonly clock: Clock) {}

  set(key: K, delayMs: number, fn: () => void): void {
    this.timers.get(key)?.cancel();
    this.timers.set(key, this.clock.setTimer(delayMs, () => {
      this.timers.delete(key);
      fn();
    }));
  }

  cancel(key: K): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  cancelAll(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  has(key: K): boolean {
    return this.timers.has(key);
  }
}
