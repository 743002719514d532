import type { Random } from '../src/runtime/ports/random.js';
import { assert } from '../src/util/assert.js';

/** How one directed link behaves. Probabilities are per datagram (streams turn loss into delay). */
export interface LinkFaults {
  /** Fixed part of the one-way delay. */
  readonly latencyMs: number;
  /** Mean of the exponential part added to every one-way delay. */
  readonly jitterMs: number;
  /** Probability a datagram is lost. */
  readonly loss: number;
  /** Probability a datagram is delivered twice (the copy with its own delay). */
  readonly dup: number;
  /** Probability a datagram is held back by up to reorderDelayMs, so later ones overtake it. */
  readonly reorder: number;
  readonly reorderDelayMs: number;
}

export const DEFAULT_LINK: LinkFaults = {
  latencyMs: 1,
  jitterMs: 0.5,
  loss: 0,
  dup: 0,
  reorder: 0,
  reorderDelayMs: 20,
};

/** One-way delay of a node talking to itself (loopback): no faults, no partition. */
const LOOPBACK_MS = 0.01;

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** Parse "<host>:<port>" (port 0..65535); undefined when malformed. */
export function parseAddress(address: string): HostPort | undefined {
  const i = address.lastIndexOf(':');
  if (i <= 0) return undefined;
  const host = address.slice(0, i);
  const portText = address.slice(i + 1);
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  return port <= 65535 ? { host, port } : undefined;
}

/**
 * The fault model shared by the datagram and stream networks: per-link delay distributions and
 * fault rates, directed link cuts (partitions, one-way or not) and clogged nodes. All draws come
 * from the network's own Random stream, so faults elsewhere do not shift them.
 */
export class LinkModel {
  private defaults: LinkFaults = DEFAULT_LINK;
  private readonly overrides = new Map<string, LinkFaults>();
  private readonly cuts = new Set<string>();
  private readonly clogs = new Map<string, number>();

  constructor(
    private readonly random: Random,
    private readonly now: () => number,
  ) {}

  /** Change the faults of every link without an override. */
  setDefaults(faults: Partial<LinkFaults>): void {
    this.defaults = checked({ ...this.defaults, ...faults });
  }

  get defaultFaults(): LinkFaults {
    return this.defaults;
  }

  /** Override one directed link (from → to); both directions when `bothWays`. */
  setLink(from: string, to: string, faults: Partial<LinkFaults>, bothWays = true): void {
    this.overrides.set(key(from, to), checked({ ...this.faults(from, to), ...faults }));
    if (bothWays) this.overrides.set(key(to, from), checked({ ...this.faults(to, from), ...faults }));
  }

  faults(from: string, to: string): LinkFaults {
    return this.overrides.get(key(from, to)) ?? this.defaults;
  }

  /** Cut from → to only (a one-way partition). */
  cut(from: string, to: string): void {
    if (from !== to) this.cuts.add(key(from, to));
  }

  /**
   * Split `all` nodes into groups that cannot reach each other (both directions). Nodes of `all`
   * named in no group form one more group together.
   */
  partition(groups: ReadonlyArray<readonly string[]>, all: readonly string[]): void {
    const groupOf = new Map<string, number>();
    groups.forEach((g, i) => g.forEach((n) => groupOf.set(n, i)));
    for (const a of all) {
      for (const b of all) {
        if (a !== b && (groupOf.get(a) ?? -1) !== (groupOf.get(b) ?? -1)) this.cuts.add(key(a, b));
      }
    }
  }

  /** Remove every cut and clog (link overrides stay). */
  heal(): void {
    this.cuts.clear();
    this.clogs.clear();
  }

  /** Hold every message from or to `node` until `durationMs` from now. */
  clog(node: string, durationMs: number): void {
    assert(durationMs >= 0, 'clog: negative duration');
    this.clogs.set(node, Math.max(this.clogs.get(node) ?? 0, this.now() + durationMs));
  }

  canReach(from: string, to: string): boolean {
    return !this.cuts.has(key(from, to));
  }

  get partitioned(): boolean {
    return this.cuts.size > 0;
  }

  /** One-way delay of one message, including clogging; `datagram` adds the reorder hold-back. */
  delay(from: string, to: string, datagram: boolean): number {
    if (from === to) return LOOPBACK_MS;
    const f = this.faults(from, to);
    let d = f.latencyMs;
    if (f.jitterMs > 0) d += -Math.log(1 - this.random.float()) * f.jitterMs;
    if (datagram && this.random.chance(f.reorder)) d += this.random.float() * f.reorderDelayMs;
    const clogged = Math.max(this.clogs.get(from) ?? 0, this.clogs.get(to) ?? 0) - this.now();
    return clogged > 0 ? d + clogged : d;
  }

  /** One-way delay of a stream segment: TCP hides each loss as one more retransmission timeout. */
  streamDelay(from: string, to: string, rtoMs: number): number {
    let d = this.delay(from, to, false);
    if (from === to) return d;
    const loss = this.faults(from, to).loss;
    for (let i = 0; i < 8 && this.random.chance(loss); i++) d += rtoMs;
    return d;
  }

  /**
   * The fate of one datagram: the delays of the copies that arrive (none: lost). Cut links
   * deliver nothing; `dropped` tells the trace why.
   */
  datagramFate(from: string, to: string): { readonly delays: number[]; readonly dropped?: 'cut' | 'loss' } {
    if (from === to) return { delays: [LOOPBACK_MS] };
    if (!this.canReach(from, to)) return { delays: [], dropped: 'cut' };
    const f = this.faults(from, to);
    if (this.random.chance(f.loss)) return { delays: [], dropped: 'loss' };
    const delays = [this.delay(from, to, true)];
    if (this.random.chance(f.dup)) delays.push(this.delay(from, to, true));
    return { delays };
  }
}

function key(from: string, to: string): string {
  return `${from}>${to}`;
}

function checked(f: LinkFaults): LinkFaults {
  for (const p of ['loss', 'dup', 'reorder'] as const) {
    assert(f[p] >= 0 && f[p] <= 1, `link faults: ${p} must be in [0, 1], got ${f[p]}`);
  }
  assert(f.latencyMs >= 0 && f.jitterMs >= 0 && f.reorderDelayMs >= 0, 'link faults: negative delay');
  return f;
}
