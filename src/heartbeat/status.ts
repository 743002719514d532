/**
 * The heartbeat state of one guest as amfd shows it (replicated state, /v1 views, events, metrics,
 * amfctl status): defined once in the model's vocabulary, shared with the cluster and the API.
 */
import { GUEST_HEARTBEAT_STATES, type GuestHeartbeatState } from '../model/vocabulary.js';

export const HB_STATUSES = GUEST_HEARTBEAT_STATES;
export type HbStatus = GuestHeartbeatState;

/** Whether the guest answers challenges now (an action may be voted on and notified). */
export function isHeartbeating(status: HbStatus): boolean {
  return status === 'enabled' || status === 'missed' || status === 'unhealthy';
}
