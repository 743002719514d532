/**
 * The web console's clock and timers (docs/web.md): the port its logic takes and the browser's
 * implementation of it. It lives in src/runtime like the server's ports, so the console's own
 * code never reads time or arms timers, and the node tests run the session with another Platform.
 * Only browser-and-node globals are used here (performance, setTimeout), so both programs' type
 * checks accept it.
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
