import { promiseHooks } from 'node:v8';

/**
 * Letting promise continuations run between simulated events. A full drain (one setImmediate
 * turn, which comes after the microtask queue is empty) costs microseconds, and most events of
 * pure protocol cores (a timer, a datagram) touch no promise at all. So while a simulation runs,
 * V8 promise hooks count promise creations and settlements; an event that caused none needs no
 * drain. Not seen: queueMicrotask/process.nextTick, and resolving an old promise with another
 * promise; simulated code signals asynchrony with ordinary promises.
 */
const activity = { count: 0, users: 0, stop: (): void => undefined };

/** Start counting promise activity (reference-counted); returns the function that stops it. */
export function watchPromises(): () => void {
  if (activity.users++ === 0) {
    const bump = (): void => void activity.count++;
    const stopInit = promiseHooks.onInit(bump);
    const stopSettled = promiseHooks.onSettled(bump);
    activity.stop = () => {
      stopInit();
      stopSettled();
    };
  }
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    if (--activity.users === 0) activity.stop();
  };
}

/** A mark to compare with promisesTouchedSince() after running an event. */
export function promiseMark(): number {
  return activity.count;
}

export function promisesTouchedSince(mark: number): boolean {
  return activity.count !== mark;
}

/** Let every pending promise continuation run (setImmediate fires after the microtask queue empties). */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Nothing scheduled: give the callers a moment (only wall time passes, never virtual time). */
export function idle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}
