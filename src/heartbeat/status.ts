/**
 * The heartbeat state of one guest as amfd shows it (replicated state, /v1 views, events, metrics,
 * amfctl status). One definition shared by the host side, the cluster and the API.
 */
export const HB_STATUSES = ['disabled', 'enabling', 'enabled', 'missed', 'lost', 'unhealthy'] as const;
export type HbStatus = (typeof HB_STATUSES)[number];

/** Whether the guest answers challenges now (an action may be voted on and notified). */
export function isHeartbeating(status: HbStatus): boolean {
  return status === 'enabled' || status === 'missed' || status === 'unhealthy';
}
