/**
 * One action_notify inside the guest: every registered application and the event script are asked
 * in parallel, and their answers merged into the one action_response the host gets. Any reject
 * wins (its reason is the log_msg); otherwise an error, then a timeout, is reported; otherwise
 * accept (a vote) or complete (a notification). Pure: the driver feeds answers and the deadline.
 */
import type { EventType, NotificationType, VoteResult } from './wire.js';

/** The guest answers this much before the host's timeout, for the message to get there. */
export const PROPAGATION_MARGIN_MS = 1000;

/** The guest's own deadline for a host timeout_ms (guest_heartbeat_msg.c subtracts the margin). */
export function guestDeadlineMs(timeoutMs: number): number {
  return timeoutMs > PROPAGATION_MARGIN_MS ? timeoutMs - PROPAGATION_MARGIN_MS : timeoutMs;
}

export interface ActionAnswer {
  readonly result: VoteResult;
  readonly logMsg: string;
}

const RANK: Readonly<Record<VoteResult, number>> = { reject: 4, error: 3, timeout: 2, unknown: 1, accept: 0, complete: 0 };

export class ActionRound {
  private readonly waiting: Set<string>;
  private answers: Array<{ readonly who: string } & ActionAnswer> = [];

  constructor(
    readonly invocationId: number,
    readonly eventType: EventType,
    readonly notificationType: NotificationType,
    participants: readonly string[],
  ) {
    this.waiting = new Set(participants);
  }

  get done(): boolean {
    return this.waiting.size === 0;
  }

  get pending(): readonly string[] {
    return [...this.waiting];
  }

  /** One participant's answer; returns true when it was the last one awaited. A late or repeated answer is ignored. */
  answer(who: string, result: VoteResult, logMsg: string): boolean {
    if (!this.waiting.delete(who)) return false;
    this.answers.push({ who, result, logMsg });
    return this.done;
  }

  /** The deadline passed: whoever has not answered timed out. */
  expire(): void {
    for (const who of this.waiting) this.answers.push({ who, result: 'timeout', logMsg: `${who} did not answer in time` });
    this.waiting.clear();
  }

  /** The merged answer (call once done or expired). With no participants at all: complete. */
  outcome(): ActionAnswer {
    let worst: ActionAnswer | undefined;
    for (const a of this.answers) if (worst === undefined || RANK[a.result] >= RANK[worst.result]) worst = a;
    if (worst === undefined) return { result: 'complete', logMsg: '' };
    if (RANK[worst.result] > 0) {
      if (worst.result === 'timeout') return { result: 'timeout', logMsg: 'Timeout on application and/or script action responses.' };
      return { result: worst.result, logMsg: worst.logMsg };
    }
    return { result: this.notificationType === 'revocable' ? 'accept' : 'complete', logMsg: '' };
  }
}
