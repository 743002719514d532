/**
 * Voting and notification around one lifecycle action on a heartbeating guest, in the seed's order:
 * the revocable vote (any reject aborts, silence at the timeout accepts), the irrevocable
 * pre-notification (bounded by its notice class), the action itself, then the post-notification
 * once the guest heartbeats again, bounded by its `restart` timeout. Recovery after a failure skips
 * the vote. Pure: the driver sends the notifications through the guest's HostGuestFsm and runs
 * the action.
 */
import { LIFECYCLE, type LifecycleAction, type LifecyclePlan } from './events.js';
import type { EventType, NotificationType, VoteResult } from './wire.js';

export type SequencePhase = 'idle' | 'vote' | 'pre-notify' | 'action' | 'await-guest' | 'post-notify' | 'done' | 'aborted';

export type SequenceEffect =
  | { readonly kind: 'notify'; readonly eventType: EventType; readonly notificationType: NotificationType }
  /** Stop counting misses: the action is about to stop, pause or move the guest. */
  | { readonly kind: 'suspend-monitoring'; readonly eventType: EventType }
  /** Go ahead with the action, then call actionDone(). */
  | { readonly kind: 'proceed' }
  /** A guest rejected the vote: the action must not happen. */
  | { readonly kind: 'abort'; readonly reason: string }
  | { readonly kind: 'set-restart-timer'; readonly delayMs: number }
  | { readonly kind: 'cancel-restart-timer' }
  | { readonly kind: 'done'; readonly notified: boolean };

export interface SequenceOptions {
  /** A recovery after a failure: no vote, straight to the notification. */
  readonly skipVote: boolean;
  /** Whether the guest heartbeats now; a guest that does not can be neither asked nor told. */
  readonly heartbeating: boolean;
  /** The guest's restart_secs from its init: how long a post-notification may wait for it. */
  readonly restartSecs: number;
  /**
   * The action stops, pauses or moves the guest (default): misses stop counting once it is
   * notified. False: the guest keeps running (it is only taken out of service).
   */
  readonly interrupts?: boolean;
}

export class ActionSequence {
  private phase: SequencePhase = 'idle';
  private readonly plan: LifecyclePlan;
  private notified = false;

  constructor(
    readonly action: LifecycleAction,
    private readonly opts: SequenceOptions,
  ) {
    this.plan = LIFECYCLE[action];
  }

  get current(): SequencePhase {
    return this.phase;
  }

  start(): SequenceEffect[] {
    const before = this.plan.before;
    if (before === undefined || !this.opts.heartbeating) return this.proceed();
    if (this.opts.skipVote) return this.preNotify(before);
    this.phase = 'vote';
    return [{ kind: 'notify', eventType: before, notificationType: 'revocable' }];
  }

  /** The guest's answer to the current notification (or silence: accept / complete). */
  result(result: VoteResult, logMsg: string): SequenceEffect[] {
    const before = this.plan.before;
    if (this.phase === 'vote' && before !== undefined) {
      if (result === 'reject') {
        this.phase = 'aborted';
        return [{ kind: 'abort', reason: logMsg === '' ? `the guest rejected ${before}` : logMsg }];
      }
      return this.preNotify(before);
    }
    if (this.phase === 'pre-notify' && before !== undefined) {
      this.notified = true;
      return [...(this.opts.interrupts === false ? [] : [{ kind: 'suspend-monitoring' as const, eventType: before }]), ...this.proceed()];
    }
    if (this.phase === 'post-notify') return this.finish();
    return [];
  }

  /** The action finished (ok: it happened). A post-notification then waits for the guest. */
  actionDone(ok: boolean): SequenceEffect[] {
    if (this.phase !== 'action') return [];
    if (!ok || this.plan.after === undefined) return this.finish();
    this.phase = 'await-guest';
    return [{ kind: 'set-restart-timer', delayMs: this.opts.restartSecs * 1000 }];
  }

  /** The guest heartbeats again (after a reboot, a migration, a resume). */
  guestEnabled(): SequenceEffect[] {
    const after = this.plan.after;
    if (this.phase !== 'await-guest' || after === undefined) return [];
    this.phase = 'post-notify';
    return [
      { kind: 'cancel-restart-timer' },
      { kind: 'notify', eventType: after, notificationType: 'irrevocable' },
    ];
  }

  /** The guest did not come back within `restart`: the action is complete without its post-notification. */
  restartTimeout(): SequenceEffect[] {
    if (this.phase !== 'await-guest') return [];
    return this.finish();
  }

  private preNotify(before: EventType): SequenceEffect[] {
    this.phase = 'pre-notify';
    return [{ kind: 'notify', eventType: before, notificationType: 'irrevocable' }];
  }

  private proceed(): SequenceEffect[] {
    this.phase = 'action';
    return [{ kind: 'proceed' }];
  }

  private finish(): SequenceEffect[] {
    if (this.phase === 'post-notify') this.notified = true;
    this.phase = 'done';
    return [{ kind: 'done', notified: this.notified }];
  }
}
