/**
 * guest_heartbeat.conf, read the way StarlingX's guest client reads it: `KEY=value` lines, blank
 * lines and `#` comments skipped, whitespace and quotes (' ") trimmed from key and value. Unlike
 * the C reader, a bad value is an error naming file:line:col (not silently 0), and an unknown key
 * a warning with a suggestion.
 */
import { ConfigError } from '../model/errors.js';
import { closest } from '../model/suggest.js';
import { CORRECTIVE_ACTIONS, type CorrectiveAction } from './wire.js';

export const DEFAULT_CONFIG_PATH = '/etc/guest-client/heartbeat/guest_heartbeat.conf';
/** The smallest interval the guest client accepts (guest_limits.h); the host raises to the same. */
export const MIN_INTERVAL_MS = 400;

export interface GuestHbConfig {
  readonly heartbeatInitRetryMs: number;
  readonly heartbeatMinTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly voteMs: number;
  readonly shutdownNoticeMs: number;
  readonly suspendNoticeMs: number;
  readonly resumeNoticeMs: number;
  readonly restartMs: number;
  readonly correctiveAction: CorrectiveAction;
  /** 0: no periodic health check. */
  readonly healthCheckIntervalMs: number;
  readonly healthCheckScript: string;
  readonly eventNotificationScript: string;
}

/** The C client's code defaults (guest_heartbeat_config.c), used for keys the file leaves out. */
export const GUEST_DEFAULTS: GuestHbConfig = {
  heartbeatInitRetryMs: 5000,
  heartbeatMinTimeoutMs: 5000,
  heartbeatIntervalMs: 1000,
  voteMs: 10_000,
  shutdownNoticeMs: 10_000,
  suspendNoticeMs: 10_000,
  resumeNoticeMs: 10_000,
  restartMs: 120_000,
  correctiveAction: 'reboot',
  healthCheckIntervalMs: 0,
  healthCheckScript: '',
  eventNotificationScript: '',
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Setter = (c: Mutable<GuestHbConfig>, value: string) => string | undefined;

function integer(unit: number, set: (c: Mutable<GuestHbConfig>, n: number) => void, what: string): Setter {
  return (c, value) => {
    if (!/^\d+$/.test(value)) return `${what} must be a whole number, not ${JSON.stringify(value)}`;
    set(c, Number(value) * unit);
    return undefined;
  };
}

const KEYS: Readonly<Record<string, Setter>> = {
  HB_INIT_RETRY: integer(1, (c, n) => (c.heartbeatInitRetryMs = n), 'milliseconds'),
  HB_MIN_TIMEOUT: integer(1, (c, n) => (c.heartbeatMinTimeoutMs = n), 'milliseconds'),
  HB_INTERVAL: integer(1, (c, n) => (c.heartbeatIntervalMs = n), 'milliseconds'),
  VOTE: integer(1000, (c, n) => (c.voteMs = n), 'seconds'),
  SHUTDOWN_NOTICE: integer(1000, (c, n) => (c.shutdownNoticeMs = n), 'seconds'),
  SUSPEND_NOTICE: integer(1000, (c, n) => (c.suspendNoticeMs = n), 'seconds'),
  RESUME_NOTICE: integer(1000, (c, n) => (c.resumeNoticeMs = n), 'seconds'),
  RESTART: integer(1000, (c, n) => (c.restartMs = n), 'seconds'),
  HEALTH_CHECK_INTERVAL: integer(1000, (c, n) => (c.healthCheckIntervalMs = n), 'seconds'),
  CORRECTIVE_ACTION: (c, value) => {
    if (!(CORRECTIVE_ACTIONS as readonly string[]).includes(value)) return `must be one of ${CORRECTIVE_ACTIONS.map((a) => `"${a}"`).join(', ')}, not ${JSON.stringify(value)}`;
    c.correctiveAction = value as CorrectiveAction;
    return undefined;
  },
  HEALTH_CHECK_SCRIPT: (c, value) => {
    c.healthCheckScript = value;
    return undefined;
  },
  EVENT_NOTIFICATION_SCRIPT: (c, value) => {
    c.eventNotificationScript = value;
    return undefined;
  },
};

export interface ParsedGuestConfig {
  readonly config: GuestHbConfig;
  readonly errors: readonly ConfigError[];
  readonly warnings: readonly ConfigError[];
}

/** Trim whitespace, then the quote characters, from both ends (guest_utils_trim with discard "'\""). */
function trim(s: string): string {
  return s.trim().replace(/^['"]+|['"]+$/g, '').trim();
}

export function parseGuestConfig(text: string, file: string): ParsedGuestConfig {
  const config: Mutable<GuestHbConfig> = { ...GUEST_DEFAULTS };
  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = [];
  let intervalAt = { line: 1, col: 1 };
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const s = raw.trim();
    if (s === '' || s.startsWith('#')) return;
    const col = raw.indexOf(s) + 1;
    const eq = s.indexOf('=');
    if (eq < 0) {
      errors.push(new ConfigError(file, line, col, `expected KEY=value, got ${JSON.stringify(s)}`));
      return;
    }
    const key = trim(s.slice(0, eq));
    const rawValue = s.slice(eq + 1);
    const value = trim(rawValue);
    const set = KEYS[key];
    if (set === undefined) {
      const hint = closest(key, Object.keys(KEYS));
      warnings.push(new ConfigError(file, line, col, `unknown key ${key}${hint === undefined ? '' : ` (did you mean ${hint}?)`}; ignored`));
      return;
    }
    if (key === 'HB_INTERVAL') intervalAt = { line, col };
    const problem = set(config, value);
    if (problem !== undefined) errors.push(new ConfigError(file, line, col + eq + 1 + (rawValue.length - rawValue.trimStart().length), `${key}: ${problem}`));
  });
  if (errors.length === 0 && config.heartbeatIntervalMs < MIN_INTERVAL_MS) {
    errors.push(new ConfigError(file, intervalAt.line, intervalAt.col, `HB_INTERVAL ${config.heartbeatIntervalMs} ms is below the minimum heartbeat interval of ${MIN_INTERVAL_MS} ms`));
  }
  return { config, errors, warnings };
}
