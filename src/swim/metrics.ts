import { Counter, Gauge } from 'prom-client';
import type { Registry } from '../runtime/ports/observability.js';
import type { CoreStats } from './core.js';
import type { MemberState } from './messages.js';

/** Why an incoming packet or frame was thrown away (the `reason` label). */
/** `oversize`: a push-pull request above MAX_PUSH_PULL_FRAME, refused at its header (nothing buffered). */
export type DropReason = 'version' | 'label' | 'plaintext' | 'encrypted' | 'decrypt' | 'truncated' | 'decode' | 'stopped' | 'oversize';

export interface SwimMetrics {
  readonly packetsReceived: Counter;
  readonly packetsSent: Counter;
  readonly bytesSent: Counter;
  /** `peer`: the sender, bounded (runtime/peer-labels.ts). */
  readonly dropped: Counter<'reason' | 'peer'>;
  readonly sendErrors: Counter<'kind'>;
  readonly pushPull: Counter<'result'>;
}

export interface SwimGaugeSource {
  stats(): CoreStats;
  memberCounts(): Record<MemberState, number>;
  healthScore(): number;
  queuedBroadcasts(): number;
}

/**
 * Register the swim metrics on the node's own registry. A Memberlist started again on the same
 * registry (restart within one process) replaces the previous one's metrics.
 */
export function createSwimMetrics(registry: Registry, source: SwimGaugeSource): SwimMetrics {
  for (const m of registry.getMetricsAsArray()) if (m.name.startsWith('swim_')) registry.removeSingleMetric(m.name);
  const registers = [registry];
  const statNames: Array<[keyof CoreStats, string]> = [
    ['probes', 'Failure-detection probes started'],
    ['probeFailures', 'Probes that got no ack, direct or indirect'],
    ['indirectProbes', 'Probes that needed indirect pings'],
    ['nacksReceived', 'Lifeguard nacks received from indirect-probe helpers'],
    ['refutes', 'Suspicions or deaths of this node refuted with a new incarnation'],
    ['suspicionsStarted', 'Members this node started to suspect'],
    ['deadDeclared', 'Members this node declared dead when their suspicion timed out'],
    ['ignored', 'Valid messages ignored: pings for another identity, unknown acks, clashing addresses'],
    ['implausible', 'Alive, suspect and dead messages ignored for an incarnation no member could have reached'],
  ];
  for (const [stat, help] of statNames) {
    const snake = stat.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    new Counter({
      name: `swim_${snake}_total`,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(source.stats()[stat]);
      },
    });
  }
  new Gauge({
    name: 'swim_members',
    help: 'Known members by state (this node included)',
    labelNames: ['state'],
    registers,
    collect() {
      for (const [state, n] of Object.entries(source.memberCounts())) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'swim_health_score',
    help: 'Lifeguard local health multiplier (0 = healthy); probe timing is scaled by score + 1',
    registers,
    collect() {
      this.set(source.healthScore());
    },
  });
  new Gauge({
    name: 'swim_broadcast_queue',
    help: 'Membership updates waiting to be piggybacked',
    registers,
    collect() {
      this.set(source.queuedBroadcasts());
    },
  });
  return {
    packetsReceived: new Counter({ name: 'swim_packets_received_total', help: 'Datagrams received', registers }),
    packetsSent: new Counter({ name: 'swim_packets_sent_total', help: 'Datagrams sent', registers }),
    bytesSent: new Counter({ name: 'swim_bytes_sent_total', help: 'Datagram bytes sent (envelope included)', registers }),
    dropped: new Counter({
      name: 'swim_packets_dropped_total',
      help: 'Incoming datagrams and push-pull frames dropped: bad version, label, key, encoding or content, by sender',
      labelNames: ['reason', 'peer'],
      registers,
    }),
    sendErrors: new Counter({ name: 'swim_send_errors_total', help: 'Datagram sends refused locally', labelNames: ['kind'], registers }),
    pushPull: new Counter({ name: 'swim_push_pull_total', help: 'Push-pull exchanges (join included) by result', labelNames: ['result'], registers }),
  };
}
