import { err, ok, type Result } from '../util/result.js';

/**
 * Every knob of the SWIM/Lifeguard layer. Durations are milliseconds. The defaults of the `lan`
 * and `wan` profiles are hashicorp/memberlist's DefaultLANConfig / DefaultWANConfig; `lan-fast`
 * is amfd's default (see PROFILES below and docs/swim.md).
 */
export interface SwimConfig {
  /** Time between two failure-detection probes (stretched by the local health multiplier). */
  readonly probeIntervalMs: number;
  /** How long a direct ping waits for its ack before indirect pings go out (also stretched). */
  readonly probeTimeoutMs: number;
  /** Members asked to ping a silent target on our behalf (SWIM's k). */
  readonly indirectChecks: number;
  /** Suspicion min timeout = suspicionMult · max(1, log10 N) · probeInterval. */
  readonly suspicionMult: number;
  /** Suspicion max timeout = suspicionMaxTimeoutMult · min (Lifeguard); confirmations shrink it to min. */
  readonly suspicionMaxTimeoutMult: number;
  /** Local health multiplier bound: the score lives in 0..awarenessMaxMultiplier-1. */
  readonly awarenessMaxMultiplier: number;
  /** Each update is piggybacked retransmitMult · ceil(log10(N+1)) times. */
  readonly retransmitMult: number;
  /** Time between two gossip rounds (queued updates pushed to gossipNodes random members). */
  readonly gossipIntervalMs: number;
  /** Members gossiped to per round. */
  readonly gossipNodes: number;
  /** Dead/left members keep receiving gossip (so a wrongly-killed node can refute) and stay listed this long. */
  readonly gossipToTheDeadMs: number;
  /** Full-state push-pull over the stream transport; scaled up beyond 32 members; 0 disables. */
  readonly pushPullIntervalMs: number;
  /** Connect and reply timeout of a push-pull exchange (join included). */
  readonly streamTimeoutMs: number;
  /** Size budget of one UDP packet, envelope and encryption included (piggybacking fills it). */
  readonly maxPacketSize: number;
  /** Largest node metadata accepted from the application or the wire. */
  readonly metaMaxSize: number;
  /** Largest user-message payload; user messages travel as their own datagrams (see docs/swim.md). */
  readonly maxUserMessageSize: number;
  /**
   * Lifeguard on (local health multiplier, nacks, dynamic suspicion with confirmations, buddy
   * system) or off (plain SWIM with a fixed suspicion timeout = min). Off exists for comparison.
   */
  readonly lifeguard: boolean;
  /** Cluster label: packets and streams whose label differs are dropped (not secret; keys are). */
  readonly label: string;
}

export const SWIM_PROFILES = ['lan', 'lan-fast', 'wan'] as const;
export type SwimProfile = (typeof SWIM_PROFILES)[number];
/** amfd's profile unless configured otherwise (see PROFILES['lan-fast']). */
export const DEFAULT_SWIM_PROFILE: SwimProfile = 'lan-fast';

const LAN: SwimConfig = {
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  awarenessMaxMultiplier: 8,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  pushPullIntervalMs: 30_000,
  streamTimeoutMs: 10_000,
  maxPacketSize: 1400,
  metaMaxSize: 512,
  maxUserMessageSize: 8192,
  lifeguard: true,
  label: '',
};

export const PROFILES: Readonly<Record<SwimProfile, SwimConfig>> = {
  lan: LAN,
  /**
   * amfd default. On a small cluster (N ≤ 10) a crashed node is first probed within about one
   * interval (every survivor probes), the probe fails after 300 ms, the first suspicion is
   * confirmed by a second prober and the suspicion then ends at its min of 3 · 300 ms = 900 ms:
   * dead everywhere ~1.2–2 s after the crash. A 150 ms direct-ack timeout is three orders of
   * magnitude above LAN RTTs, and Lifeguard stretches everything on a node that is itself slow.
   */
  'lan-fast': {
    ...LAN,
    probeIntervalMs: 300,
    probeTimeoutMs: 150,
    suspicionMult: 3,
    suspicionMaxTimeoutMult: 4,
    gossipIntervalMs: 100,
    gossipToTheDeadMs: 15_000,
    pushPullIntervalMs: 15_000,
    streamTimeoutMs: 2000,
  },
  wan: {
    ...LAN,
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    suspicionMult: 6,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    gossipToTheDeadMs: 60_000,
    pushPullIntervalMs: 60_000,
    streamTimeoutMs: 30_000,
  },
};

/** Envelope + AES-GCM overhead is at most 3 + 255 + 28 bytes; leave room for at least one message. */
const MIN_PACKET_SIZE = 512;

/** A profile with overrides, validated: each bad field is named. */
export function swimConfig(profile: SwimProfile, overrides: Partial<SwimConfig> = {}): Result<SwimConfig, string> {
  const c: SwimConfig = { ...PROFILES[profile], ...overrides };
  const problems: string[] = [];
  const int = (field: keyof SwimConfig, min: number): void => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) problems.push(`${field} must be an integer >= ${min}, got ${String(v)}`);
  };
  int('probeIntervalMs', 1);
  int('probeTimeoutMs', 1);
  int('indirectChecks', 0);
  int('suspicionMult', 1);
  int('suspicionMaxTimeoutMult', 1);
  int('awarenessMaxMultiplier', 1);
  int('retransmitMult', 1);
  int('gossipIntervalMs', 1);
  int('gossipNodes', 0);
  int('gossipToTheDeadMs', 0);
  int('pushPullIntervalMs', 0);
  int('streamTimeoutMs', 1);
  int('maxPacketSize', MIN_PACKET_SIZE);
  int('metaMaxSize', 0);
  int('maxUserMessageSize', 1);
  if (c.probeTimeoutMs >= c.probeIntervalMs) problems.push(`probeTimeoutMs (${c.probeTimeoutMs}) must be below probeIntervalMs (${c.probeIntervalMs})`);
  if (typeof c.lifeguard !== 'boolean') problems.push('lifeguard must be a boolean');
  if (typeof c.label !== 'string' || Buffer.byteLength(c.label) > 255) problems.push('label must be a string of at most 255 bytes');
  return problems.length === 0 ? ok(c) : err(`swim config (${profile}): ${problems.join('; ')}`);
}
