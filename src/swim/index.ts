/** SWIM membership with the Lifeguard extensions (see docs/swim.md). */
export { DEFAULT_SWIM_PROFILE, PROFILES, SWIM_PROFILES, swimConfig, type SwimConfig, type SwimProfile } from './config.js';
export { SwimCore, type CoreOutput, type MemberView, type SwimEvent, type SwimEventKind } from './core.js';
export { Keyring, KEY_SIZE } from './keyring.js';
export { Memberlist, type MemberlistOptions, type SwimPorts, type UserMessage } from './memberlist.js';
export type { MemberState } from './messages.js';
