/**
 * The in-guest application API (docs/guest-heartbeat.md §Applications): applications inside the VM
 * register with the guest client over a unix socket (default /var/run/.guest_heartbeat_api) for
 * heartbeating, voting and notifications. One JSON object per length-prefixed frame, like amfd's
 * component API; the messages are StarlingX's guest_heartbeat_api ones (init, init_ack, challenge,
 * challenge_response, action_notify, action_response, final). Shared by the guest client and the
 * client library so that they cannot drift apart.
 */
import { z } from 'zod';
import { EVENT_TYPES, NOTIFICATION_TYPES } from './wire.js';

export const APP_PROTOCOL_VERSION = 1;
export const DEFAULT_APP_SOCKET = '/var/run/.guest_heartbeat_api';
export const MAX_APP_FRAME_BYTES = 4096;
/** StarlingX's limits: application_name[40], log_msg[192], 16 applications. */
export const MAX_APP_NAME = 39;
export const MAX_APP_LOG = 191;
export const MAX_APPS = 16;

const v = z.literal(APP_PROTOCOL_VERSION);
const secs = z.number().int().min(0).max(86_400);
const id = z.number().int().min(0).max(0xffff_ffff);
const logMsg = z.string().max(4 * MAX_APP_LOG).default('');
export const APP_ACTIONS = ['none', 'reboot', 'stop', 'log'] as const;
export type AppAction = (typeof APP_ACTIONS)[number];
const eventType = z.enum(EVENT_TYPES);
const notificationType = z.enum(NOTIFICATION_TYPES);

/** From an application to the guest client. */
export const AppFrameSchema = z.discriminatedUnion('type', [
  z.object({
    v,
    type: z.literal('init'),
    name: z.string().min(1).max(MAX_APP_NAME),
    heartbeatIntervalMs: z.number().int().min(1).max(3_600_000),
    voteSecs: secs,
    shutdownNoticeSecs: secs,
    suspendNoticeSecs: secs,
    resumeNoticeSecs: secs,
    correctiveAction: z.enum(APP_ACTIONS),
  }),
  z.object({ v, type: z.literal('challenge_response'), heartbeatChallenge: id, healthy: z.boolean(), correctiveAction: z.enum(APP_ACTIONS), logMsg }),
  z.object({ v, type: z.literal('action_response'), invocationId: id, eventType, notificationType, voteResult: z.enum(['accept', 'reject', 'complete']), logMsg }),
  z.object({ v, type: z.literal('final'), logMsg }),
]);
export type AppFrame = z.infer<typeof AppFrameSchema>;

/** From the guest client to an application. */
export type ClientToAppFrame =
  | { readonly v: 1; readonly type: 'init_ack'; readonly accepted: boolean; readonly logMsg: string }
  | { readonly v: 1; readonly type: 'challenge'; readonly heartbeatChallenge: number }
  | { readonly v: 1; readonly type: 'action_notify'; readonly invocationId: number; readonly eventType: (typeof EVENT_TYPES)[number]; readonly notificationType: (typeof NOTIFICATION_TYPES)[number]; readonly timeoutMs: number }
  | { readonly v: 1; readonly type: 'error'; readonly message: string };

export const ClientToAppFrameSchema = z.discriminatedUnion('type', [
  z.object({ v, type: z.literal('init_ack'), accepted: z.boolean(), logMsg: z.string() }),
  z.object({ v, type: z.literal('challenge'), heartbeatChallenge: id }),
  z.object({ v, type: z.literal('action_notify'), invocationId: id, eventType, notificationType, timeoutMs: z.number().int().min(0) }),
  z.object({ v, type: z.literal('error'), message: z.string() }),
]);

const encoder = new TextEncoder();

export function encodeAppFrame(frame: AppFrame | ClientToAppFrame): Uint8Array {
  return encoder.encode(JSON.stringify(frame));
}
