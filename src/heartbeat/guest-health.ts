/**
 * What the guest client answers a challenge with: the health-check script's last verdict merged
 * with the registered applications' health, as StarlingX's guest client merges them (an unhealthy
 * application's action wins by severity stop > reboot > log; a healthy guest sends its configured
 * corrective action), and the same ill health is not re-reported with an action for 60 s. Pure.
 */
import type { CorrectiveAction, Health, ResponseAction } from './wire.js';

/** The same unhealthy state and action are sent with action `none` this long after being reported. */
export const REPORT_SUPPRESS_MS = 60_000;

export interface HealthVerdict {
  readonly health: Health;
  readonly correctiveAction: ResponseAction;
  readonly logMsg: string;
}

export interface AppHealth {
  readonly healthy: boolean;
  readonly correctiveAction: ResponseAction;
  readonly logMsg: string;
}

const SEVERITY: Readonly<Record<ResponseAction, number>> = { stop: 3, reboot: 2, log: 1, none: 0, unknown: 0 };

/** guest_heartbeat_merge_action: the more severe of two actions; `next` wins a tie only if it is stop, reboot or log. */
export function mergeAction(current: ResponseAction, next: ResponseAction): ResponseAction {
  if (SEVERITY[next] === 0) return current;
  return SEVERITY[next] >= SEVERITY[current] ? next : current;
}

export class GuestHealth {
  private scriptHealthy = true;
  private scriptLog = '';
  private reportedHealthy = true;
  private reportedAction: ResponseAction = 'none';
  private reportedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly configuredAction: CorrectiveAction,
    private readonly suppressMs = REPORT_SUPPRESS_MS,
  ) {}

  get scriptIsHealthy(): boolean {
    return this.scriptHealthy;
  }

  /** Heartbeating (re)starts healthy. */
  reset(): void {
    this.scriptHealthy = true;
    this.scriptLog = '';
    this.reportedHealthy = true;
    this.reportedAction = 'none';
    this.reportedAt = Number.NEGATIVE_INFINITY;
  }

  /** The health-check script's verdict; returns whether the health changed. */
  scriptResult(healthy: boolean, logMsg: string): boolean {
    const changed = healthy !== this.scriptHealthy;
    this.scriptHealthy = healthy;
    this.scriptLog = logMsg;
    return changed;
  }

  /** The answer to a challenge at `now`, given the applications' health. Call once per response sent. */
  respond(now: number, apps: readonly AppHealth[]): HealthVerdict {
    let healthy = true;
    let action: ResponseAction = 'none';
    let logMsg = '';
    for (const app of apps) {
      if (app.healthy) continue;
      const merged = mergeAction(action, app.correctiveAction);
      if (merged === app.correctiveAction) {
        healthy = false;
        action = merged;
        logMsg = app.logMsg;
      }
    }
    if (healthy) {
      // Applications are fine: the script's verdict, with the configured action.
      healthy = this.scriptHealthy;
      action = this.configuredAction;
      logMsg = this.scriptLog;
    } else if (!this.scriptHealthy) {
      action = mergeAction(action, this.configuredAction);
      if (action === this.configuredAction) logMsg = this.scriptLog;
    }
    if (!healthy) {
      if (!this.reportedHealthy && action === this.reportedAction && now - this.reportedAt < this.suppressMs) action = 'none';
      else {
        this.reportedHealthy = false;
        this.reportedAction = action;
        this.reportedAt = Number.NEGATIVE_INFINITY;
      }
    } else {
      this.reportedHealthy = true;
      this.reportedAction = 'none';
      this.reportedAt = Number.NEGATIVE_INFINITY;
    }
    if (action !== 'none') this.reportedAt = now;
    return { health: healthy ? 'healthy' : 'unhealthy', correctiveAction: action, logMsg };
  }
}
