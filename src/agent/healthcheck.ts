import type { Clock, TimerHandle } from '../runtime/ports/clock.js';

/** One health probe: an AMF-invoked callback answer, or a command's exit status. */
export type ProbeResult = { readonly healthy: true } | { readonly healthy: false; readonly reason: string };
export type Probe = () => Promise<ProbeResult>;

/** A running healthcheck; stop() is idempotent. A healthcheck reports at most one failure, then stops. */
export interface Healthcheck {
  stop(): void;
  /** A component-invoked confirmation; ignored by the other kinds. Returns false if not expected. */
  confirm(healthy: boolean): boolean;
}

/**
 * AMF-invoked and command healthchecks: every `periodMs` run the probe; no answer within
 * `maxDurationMs`, or an unhealthy answer, is a failure. The next period starts when the answer
 * arrives (openais 1.1.4), so probes never overlap.
 */
export function periodicHealthcheck(clock: Clock, periodMs: number, maxDurationMs: number, probe: Probe, onFailure: (reason: string) => void): Healthcheck {
  let stopped = false;
  let timer: TimerHandle | undefined;
  const fail = (reason: string): void => {
    if (stopped) return;
    stopped = true;
    timer?.cancel();
    onFailure(reason);
  };
  const round = (): void => {
    if (stopped) return;
    let answered = false;
    timer = clock.setTimer(maxDurationMs, () => {
      if (!answered) fail(`no answer within maximum_duration ${maxDurationMs} ms`);
    });
    const settle = (r: ProbeResult): void => {
      if (stopped || answered) return;
      answered = true;
      timer?.cancel();
      if (!r.healthy) fail(r.reason);
      else timer = clock.setTimer(periodMs, round);
    };
    // A probe that throws is a bug; it fails this healthcheck instead of escaping as an unhandled rejection.
    void probe().then(settle, (e: unknown) => settle({ healthy: false, reason: `the probe failed to run: ${e instanceof Error ? e.message : String(e)}` }));
  };
  timer = clock.setTimer(periodMs, round);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
    confirm: () => false,
  };
}

/**
 * Component-invoked healthchecks: the component must confirm within each period. A healthy
 * confirmation re-arms the supervision timer; an unhealthy one, or the timer expiring, is a failure.
 */
export function componentHealthcheck(clock: Clock, periodMs: number, onFailure: (reason: string) => void): Healthcheck {
  let stopped = false;
  const expire = (): void => {
    if (stopped) return;
    stopped = true;
    onFailure(`no confirmation within period ${periodMs} ms`);
  };
  let timer = clock.setTimer(periodMs, expire);
  return {
    stop() {
      stopped = true;
      timer.cancel();
    },
    confirm(healthy) {
      if (stopped) return false;
      timer.cancel();
      if (healthy) {
        timer = clock.setTimer(periodMs, expire);
      } else {
        stopped = true;
        onFailure('the component confirmed FAILED');
      }
      return true;
    },
  };
}
