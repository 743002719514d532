import { waitFor } from '../e2e/harness.js';

/** Wait until cond() holds (checked every 100 ms), failing after timeoutMs with what was awaited. */
export function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  return waitFor(what, timeoutMs, async () => (cond() ? true : undefined));
}
