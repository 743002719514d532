/**
 * The seed's table of lifecycle actions, their events, and whether each is voted on, notified
 * before and notified after (guest-heartbeat-guest-client.txt, "Configuring Guest Notifications
 * and Voting"). One definition for the host, the guest client and the AMF wiring.
 */
import type { EventType } from './wire.js';

/** Which of the guest's timeouts bounds an irrevocable notification of an event. */
export type NoticeClass = 'shutdown' | 'suspend' | 'resume';

export function noticeClass(event: EventType): NoticeClass {
  switch (event) {
    case 'stop':
    case 'reboot':
      return 'shutdown';
    case 'pause':
    case 'suspend':
    case 'resize_begin':
    case 'live_migrate_begin':
    case 'cold_migrate_begin':
      return 'suspend';
    case 'unpause':
    case 'resume':
    case 'resize_end':
    case 'live_migrate_end':
    case 'cold_migrate_end':
      return 'resume';
  }
}

export interface NoticeSecs {
  readonly shutdownNoticeSecs: number;
  readonly suspendNoticeSecs: number;
  readonly resumeNoticeSecs: number;
}

/** The seconds that bound an irrevocable notification of an event. */
export function noticeSecs(secs: NoticeSecs, event: EventType): number {
  const c = noticeClass(event);
  return c === 'shutdown' ? secs.shutdownNoticeSecs : c === 'suspend' ? secs.suspendNoticeSecs : secs.resumeNoticeSecs;
}

export const LIFECYCLE_ACTIONS = ['stop', 'reboot', 'pause', 'unpause', 'suspend', 'resume', 'resize', 'live-migrate', 'cold-migrate'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

export interface LifecyclePlan {
  /** Voted on (revocable) and then notified (irrevocable) before the action. */
  readonly before?: EventType;
  /** Notified after the action, once the guest heartbeats again. */
  readonly after?: EventType;
  /** The post-notification waits out a reboot of the guest, bounded by its `restart` timeout. */
  readonly afterReboot?: boolean;
}

export const LIFECYCLE: Readonly<Record<LifecycleAction, LifecyclePlan>> = {
  stop: { before: 'stop' },
  reboot: { before: 'reboot' },
  pause: { before: 'pause' },
  unpause: { after: 'unpause' },
  suspend: { before: 'suspend' },
  resume: { after: 'resume' },
  resize: { before: 'resize_begin', after: 'resize_end' },
  'live-migrate': { before: 'live_migrate_begin', after: 'live_migrate_end' },
  'cold-migrate': { before: 'cold_migrate_begin', after: 'cold_migrate_end', afterReboot: true },
};
