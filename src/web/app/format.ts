/**
 * How states read on the page: every state is a word (never a colour alone), with a symbol that
 * makes the important ones stand out at a glance and the CSS class that styles them.
 */
import type { MemberView, NodeView } from '../../api/backend.js';

export interface Label {
  readonly text: string;
  /** A CSS modifier: good, warn, bad, idle. */
  readonly tone: 'good' | 'warn' | 'bad' | 'idle';
}

const HA: Readonly<Record<string, Label>> = {
  active: { text: '● active', tone: 'good' },
  standby: { text: '○ standby', tone: 'idle' },
  quiescing: { text: '◐ quiescing', tone: 'warn' },
  quiesced: { text: '◑ quiesced', tone: 'warn' },
};

export function haLabel(ha: string): Label {
  return HA[ha] ?? { text: ha, tone: 'warn' };
}

/** States that are fine, worrying or bad, whatever the attribute. */
const GOOD = new Set(['enabled', 'in-service', 'instantiated', 'unlocked', 'fully-assigned', 'held', 'alive', 'up', 'active', 'leader']);
const BAD = new Set(['disabled', 'instantiation-failed', 'termination-failed', 'expired', 'dead', 'unassigned', 'condemned']);

export function stateLabel(v: string): Label {
  if (GOOD.has(v)) return { text: v, tone: 'good' };
  if (BAD.has(v)) return { text: v, tone: 'bad' };
  return { text: v, tone: v === 'out-of-service' || v === 'locked' || v === 'uninstantiated' || v === 'voter' || v === 'nonvoter' || v === 'follower' || v === 'non-voter' || v === 'standby' ? 'idle' : 'warn' };
}

/** A node as the cluster decided (membership, lease) and as this node's gossip hears it. */
export function nodeLabel(n: NodeView, member: MemberView | undefined): Label {
  if (!n.up) return { text: n.lease === 'none' ? '… not joined' : '✖ LOST', tone: 'bad' };
  if (n.lease === 'condemned') return { text: '⚠ condemned', tone: 'bad' };
  if (member && member.state !== 'alive') return { text: `⚠ up, gossip ${member.state}`, tone: 'warn' };
  return { text: '▲ up', tone: 'good' };
}

/** `2026-11-22T10:00:01.123Z` → `10:00:01`. */
export function clock(iso: string | null): string {
  return iso === null ? '-' : iso.slice(11, 19);
}

export const MODEL_NAMES: Readonly<Record<string, string>> = { '2n': '2N', nplusm: 'N+M', nway: 'N-Way', nwayactive: 'N-Way-Active', noredundancy: 'No-Redundancy' };
