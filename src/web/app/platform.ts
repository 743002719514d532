/**
 * The browser's clock and timers, behind the small port the console's logic takes: the only
 * module of the console allowed to read time or arm timers (the determinism rule, docs/web.md),
 * so that the session and the state run the same in the node tests with another Platform.
 */
export interface Platform {
  /** Monotonic milliseconds. */
  now(): number;
  /** Run `f` once after `ms`; returns its cancel. */
  after(ms: number, f: () => void): () => void;
}

export const browserPlatform: Platform = {
  now: () => performance.now(),
  after(ms, f) {
    const t = setTimeout(f, ms);
    return () => clearTimeout(t);
  },
};
