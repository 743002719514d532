import type { Random } from '../runtime/ports/random.js';
import { assert } from '../util/assert.js';
import { err, ok, type Result } from '../util/result.js';
import { BroadcastQueue } from './broadcast-queue.js';
import { bytesEqual } from './bytes.js';
import type { SwimConfig } from './config.js';
import { Awareness, Suspicion, suspicionMinMs } from './lifeguard.js';
import { nextIncarnation, relate, type Relation } from './incarnation.js';
import { BODY_OVERHEAD, encodeMessage, WIRE_LIMITS, type MemberSnapshot, type MemberState, type SwimMessage } from './messages.js';

/**
 * The SWIM + Lifeguard protocol as a pure state machine: time comes in as numbers, randomness from
 * the injected Random, packets in as decoded messages, and everything it wants done comes out of
 * drain(): packets to send (already-encoded messages, piggybacked updates included), push-pull
 * exchanges to run and membership events. The driver (memberlist.ts) does the I/O and calls tick()
 * at nextDeadline(). Behaviour follows hashicorp/memberlist (state.go, suspicion.go, awareness.go).
 */

export interface MemberView {
  readonly name: string;
  readonly addr: string;
  readonly incarnation: number;
  readonly state: MemberState;
  readonly meta: Uint8Array;
}

export type SwimEventKind = 'join' | 'update' | 'suspect' | 'alive' | 'dead' | 'leave';

export interface SwimEvent {
  readonly kind: SwimEventKind;
  readonly member: MemberView;
  /** Clock.now() when this node saw it. */
  readonly at: number;
}

export type CoreOutput =
  | { readonly kind: 'packet'; readonly to: string; readonly messages: readonly Uint8Array[] }
  | { readonly kind: 'push-pull'; readonly to: string; readonly join: boolean }
  | { readonly kind: 'event'; readonly event: SwimEvent }
  | { readonly kind: 'user'; readonly from: string; readonly payload: Uint8Array };

export interface CoreOptions {
  readonly name: string;
  /** The address other members reach this node's datagram and stream endpoints at. */
  readonly addr: string;
  readonly config: SwimConfig;
  readonly random: Random;
  readonly now: number;
  readonly meta?: Uint8Array;
  /** Bytes the packet envelope adds (label, encryption), charged against maxPacketSize. */
  readonly packetOverhead: number;
}

/** Plain counters the driver exports as metrics. */
export interface CoreStats {
  probes: number;
  probeFailures: number;
  indirectProbes: number;
  nacksReceived: number;
  refutes: number;
  suspicionsStarted: number;
  deadDeclared: number;
  /** Pings addressed to another identity, acks for unknown probes, alive messages with a clashing address. */
  ignored: number;
  /** Alive, suspect and dead messages whose incarnation no member could have reached (incarnation.ts). */
  implausible: number;
}

interface Member {
  name: string;
  addr: string;
  incarnation: number;
  state: MemberState;
  meta: Uint8Array;
  stateChangedAt: number;
}

interface Probe {
  readonly target: string;
  readonly incarnation: number;
  readonly seq: number;
  readonly indirectAt: number;
  readonly deadline: number;
  indirectSent: boolean;
  expectedNacks: number;
  nacks: number;
}

/** An indirect ping we run for another member. */
interface Relay {
  readonly to: string;
  readonly seq: number;
  readonly nackAt: number;
  readonly nack: boolean;
}

export class SwimCore {
  readonly stats: CoreStats = {
    probes: 0,
    probeFailures: 0,
    indirectProbes: 0,
    nacksReceived: 0,
    refutes: 0,
    suspicionsStarted: 0,
    deadDeclared: 0,
    ignored: 0,
    implausible: 0,
  };
  private readonly config: SwimConfig;
  private readonly random: Random;
  private readonly self: Member;
  private readonly members = new Map<string, Member>();
  /** Other members in probe order (shuffled on every wrap-around). */
  private probeOrder: string[] = [];
  private probeIndex = 0;
  private readonly awareness: Awareness;
  private readonly queue = new BroadcastQueue();
  private readonly suspicions = new Map<string, Suspicion>();
  private readonly relays = new Map<number, Relay>();
  private probe: Probe | undefined;
  private seq = 0;
  private nextProbeAt: number;
  private nextGossipAt: number;
  private nextPushPullAt: number;
  private nextReconnectAt: number;
  /** Addresses join() was given: retried while none of their members is live (heals long partitions). */
  private readonly seeds = new Set<string>();
  private leaving = false;
  private out: CoreOutput[] = [];
  private readonly packetOverhead: number;

  constructor(o: CoreOptions) {
    this.config = o.config;
    this.random = o.random;
    this.packetOverhead = o.packetOverhead;
    this.awareness = new Awareness(o.config.awarenessMaxMultiplier);
    const meta = o.meta ?? new Uint8Array(0);
    assert(meta.length <= Math.min(o.config.metaMaxSize, WIRE_LIMITS.maxMeta), 'swim: initial meta too large');
    this.self = { name: o.name, addr: o.addr, incarnation: 1, state: 'alive', meta, stateChangedAt: o.now };
    this.members.set(o.name, this.self);
    // Random phase so the members of a cluster do not probe and gossip in lockstep.
    this.nextProbeAt = o.now + this.random.int(0, o.config.probeIntervalMs);
    this.nextGossipAt = o.now + this.random.int(0, o.config.gossipIntervalMs);
    this.nextPushPullAt = o.config.pushPullIntervalMs > 0 ? o.now + this.random.int(0, this.pushPullInterval()) : Infinity;
    this.nextReconnectAt = o.config.pushPullIntervalMs > 0 ? o.now + this.random.int(0, o.config.pushPullIntervalMs) : Infinity;
    this.enqueueAlive(this.self);
  }

  get name(): string {
    return this.self.name;
  }

  /** This node's advertised address. */
  get addr(): string {
    return this.self.addr;
  }

  get incarnation(): number {
    return this.self.incarnation;
  }

  /** Lifeguard's local health score (0 = healthy). */
  get healthScore(): number {
    return this.awareness.score;
  }

  get queuedBroadcasts(): number {
    return this.queue.size;
  }

  /** Every known member, this node included. */
  allMembers(): MemberView[] {
    return [...this.members.values()].map(view);
  }

  member(name: string): MemberView | undefined {
    const m = this.members.get(name);
    return m && view(m);
  }

  /** Number of members in state alive or suspect, this node included. */
  liveCount(): number {
    const c = this.countByState();
    return c.alive + c.suspect;
  }

  /** Known members by state, this node included. */
  countByState(): Record<MemberState, number> {
    const counts: Record<MemberState, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
    for (const m of this.members.values()) counts[m.state]++;
    return counts;
  }

  /** Everything produced since the last drain, in order. */
  drain(): CoreOutput[] {
    const o = this.out;
    this.out = [];
    return o;
  }

  /** The earliest time tick() has work to do. */
  nextDeadline(): number {
    let t = Math.min(this.nextGossipAt, this.nextPushPullAt, this.nextReconnectAt);
    if (!this.leaving) t = Math.min(t, this.nextProbeAt);
    if (this.probe) t = Math.min(t, this.probe.indirectSent ? this.probe.deadline : this.probe.indirectAt);
    for (const s of this.suspicions.values()) t = Math.min(t, s.deadline);
    for (const r of this.relays.values()) t = Math.min(t, r.nackAt);
    return t;
  }

  tick(now: number): void {
    for (const [name, s] of this.suspicions) {
      if (s.deadline > now) continue;
      this.suspicions.delete(name);
      const m = this.members.get(name);
      if (m && m.state === 'suspect' && m.incarnation === s.incarnation) {
        this.stats.deadDeclared++;
        this.onDead({ type: 'dead', incarnation: s.incarnation, node: name, from: this.self.name }, now);
      }
    }
    for (const [seq, r] of this.relays) {
      if (r.nackAt > now) continue;
      this.relays.delete(seq);
      if (r.nack) this.send(r.to, [encodeMessage({ type: 'nack', seq: r.seq })]);
    }
    if (this.probe && !this.probe.indirectSent && now >= this.probe.indirectAt) this.sendIndirectPings(this.probe);
    if (this.probe && now >= this.probe.deadline) this.probeFailed(this.probe, now);
    if (!this.leaving && now >= this.nextProbeAt) {
      assert(this.probe === undefined, 'swim: probe still running at the next probe time');
      this.nextProbeAt = now + this.awareness.scale(this.config.probeIntervalMs);
      this.startProbe(now);
    }
    if (now >= this.nextGossipAt) {
      this.nextGossipAt = now + this.config.gossipIntervalMs;
      this.gossip(now);
    }
    if (now >= this.nextPushPullAt) {
      this.nextPushPullAt = now + this.pushPullInterval();
      const peer = this.randomMembers(1, (m) => m.state === 'alive')[0];
      if (peer) this.out.push({ kind: 'push-pull', to: peer.addr, join: false });
    }
    if (now >= this.nextReconnectAt) {
      this.nextReconnectAt = now + this.config.pushPullIntervalMs;
      this.reconnect();
    }
  }

  /** Remember seed addresses (from join) for reconnection after a partition. */
  addSeeds(addrs: readonly string[]): void {
    for (const a of addrs) if (a !== this.self.addr) this.seeds.add(a);
  }

  /**
   * Push-pull with one seed that no live member answers for. memberlist alone never heals a
   * partition that outlasted gossipToTheDead (the other side is forgotten); serf retries failed
   * members, we retry the seeds.
   */
  private reconnect(): void {
    if (this.seeds.size === 0 || this.leaving) return;
    const live = new Set<string>();
    for (const m of this.members.values()) if (m.state === 'alive' || m.state === 'suspect') live.add(m.addr);
    const missing = [...this.seeds].filter((a) => !live.has(a));
    if (missing.length === 0) return;
    this.out.push({ kind: 'push-pull', to: missing[this.random.int(0, missing.length)] as string, join: false });
  }

  /** Messages of one packet from `from` (already decoded and validated). */
  handle(from: string, messages: readonly SwimMessage[], now: number): void {
    for (const m of messages) {
      switch (m.type) {
        case 'ping':
          if (m.target !== this.self.name) {
            this.stats.ignored++;
            break;
          }
          this.send(from, [encodeMessage({ type: 'ack', seq: m.seq })]);
          break;
        case 'indirect-ping': {
          const seq = this.nextSeq();
          this.relays.set(seq, { to: from, seq: m.seq, nackAt: now + this.config.probeTimeoutMs, nack: m.nack });
          this.send(m.targetAddr, [encodeMessage({ type: 'ping', seq, target: m.target, source: this.self.name })]);
          break;
        }
        case 'ack':
          this.onAck(m.seq);
          break;
        case 'nack':
          if (this.probe?.seq === m.seq) {
            this.probe.nacks++;
            this.stats.nacksReceived++;
          }
          break;
        case 'alive':
          this.onAlive(m, now);
          break;
        case 'suspect':
          this.onSuspect(m, now);
          break;
        case 'dead':
          this.onDead(m, now);
          break;
        case 'user':
          this.out.push({ kind: 'user', from: m.from, payload: m.payload });
          break;
      }
    }
  }

  /** This node's view for a push-pull exchange. */
  localState(): MemberSnapshot[] {
    return [...this.members.values()].map(({ name, addr, incarnation, state, meta }) => ({ name, addr, incarnation, state, meta }));
  }

  /**
   * Merge a peer's full state (memberlist mergeState): alive is taken as an alive message, left as
   * a leave, while dead and suspect only make us suspect, so one peer's stale view cannot kill.
   * `solicited`: the reply of a push-pull this node opened to an address it chose (a join or the
   * periodic exchange). Only there may this node adopt an incarnation of its own far from the one
   * it holds: that is how a restarted node learns the number it had before (see adoptable()).
   */
  merge(remote: readonly MemberSnapshot[], now: number, solicited = false): void {
    for (const r of remote) {
      switch (r.state) {
        case 'alive':
          this.onAlive({ type: 'alive', incarnation: r.incarnation, node: r.name, addr: r.addr, meta: r.meta }, now, solicited);
          break;
        case 'left':
          this.onDead({ type: 'dead', incarnation: r.incarnation, node: r.name, from: r.name }, now, solicited);
          break;
        case 'dead':
        case 'suspect':
          this.onSuspect({ type: 'suspect', incarnation: r.incarnation, node: r.name, from: this.self.name }, now, solicited);
          break;
      }
    }
  }

  /** Replace this node's metadata: a new incarnation, gossiped as alive. */
  setMeta(meta: Uint8Array): Result<void, string> {
    const max = Math.min(this.config.metaMaxSize, WIRE_LIMITS.maxMeta);
    if (meta.length > max) return err(`swim: metadata of ${meta.length} bytes exceeds ${max}`);
    this.self.meta = meta.slice();
    this.self.incarnation = nextIncarnation(this.self.incarnation);
    this.enqueueAlive(this.self);
    return ok(undefined);
  }

  /**
   * Send a user message to every alive or suspect member (or only those named in `to`), each as
   * its own datagram outside the gossip budget, so payloads up to maxUserMessageSize work. Best
   * effort: no retry, no ack. Returns the number of members addressed.
   */
  userMessage(payload: Uint8Array, to?: readonly string[]): Result<number, string> {
    if (payload.length > this.config.maxUserMessageSize) {
      return err(`swim: user message of ${payload.length} bytes exceeds maxUserMessageSize ${this.config.maxUserMessageSize}`);
    }
    const msg = encodeMessage({ type: 'user', from: this.self.name, payload });
    const wanted = to && new Set(to);
    let n = 0;
    for (const m of this.members.values()) {
      if (m === this.self || (m.state !== 'alive' && m.state !== 'suspect') || (wanted && !wanted.has(m.name))) continue;
      this.out.push({ kind: 'packet', to: m.addr, messages: [msg] });
      n++;
    }
    return ok(n);
  }

  /** Start a graceful leave: gossip dead(self, from self); probing stops. */
  leave(now: number): void {
    if (this.leaving) return;
    this.leaving = true;
    this.probe = undefined;
    this.onDead({ type: 'dead', incarnation: this.self.incarnation, node: this.self.name, from: this.self.name }, now);
  }

  /** True once the leave message has been sent out (or replaced): the driver may stop. */
  leaveSent(): boolean {
    const t = this.queue.transmits(this.self.name);
    return this.leaving && (t === undefined || t >= Math.min(this.config.gossipNodes, this.retransmitLimit()));
  }

  // ---- probing -------------------------------------------------------------------------------

  private startProbe(now: number): void {
    const target = this.nextProbeTarget(now);
    if (!target) return;
    const seq = this.nextSeq();
    this.stats.probes++;
    this.probe = {
      target: target.name,
      incarnation: target.incarnation,
      seq,
      indirectAt: now + this.awareness.scale(this.config.probeTimeoutMs),
      deadline: now + this.awareness.scale(this.config.probeIntervalMs),
      indirectSent: false,
      expectedNacks: 0,
      nacks: 0,
    };
    const msgs = [encodeMessage({ type: 'ping', seq, target: target.name, source: this.self.name })];
    // Buddy system: a suspect learns of the suspicion from the probe itself and can refute at once.
    if (this.config.lifeguard && target.state === 'suspect') {
      msgs.push(encodeMessage({ type: 'suspect', incarnation: target.incarnation, node: target.name, from: this.self.name }));
    }
    this.send(target.addr, msgs);
  }

  private sendIndirectPings(p: Probe): void {
    p.indirectSent = true;
    const target = this.members.get(p.target);
    if (!target) return;
    const helpers = this.randomMembers(this.config.indirectChecks, (m) => m.state === 'alive' && m.name !== p.target);
    this.stats.indirectProbes++;
    p.expectedNacks = this.config.lifeguard ? helpers.length : 0;
    const msg = encodeMessage({
      type: 'indirect-ping',
      seq: p.seq,
      target: target.name,
      targetAddr: target.addr,
      nack: this.config.lifeguard,
      source: this.self.name,
    });
    for (const h of helpers) this.send(h.addr, [msg]);
  }

  private onAck(seq: number): void {
    if (this.probe?.seq === seq) {
      this.probe = undefined;
      if (this.config.lifeguard) this.awareness.apply(-1);
      return;
    }
    const relay = this.relays.get(seq);
    if (relay) {
      this.relays.delete(seq);
      this.send(relay.to, [encodeMessage({ type: 'ack', seq: relay.seq })]);
      return;
    }
    this.stats.ignored++;
  }

  private probeFailed(p: Probe, now: number): void {
    this.probe = undefined;
    this.stats.probeFailures++;
    if (this.config.lifeguard) {
      // Missing nacks mean our own links or event loop are the likelier problem: slow down.
      this.awareness.apply(p.expectedNacks > 0 ? p.expectedNacks - p.nacks : 1);
    }
    this.onSuspect({ type: 'suspect', incarnation: p.incarnation, node: p.target, from: this.self.name }, now);
  }

  private nextProbeTarget(now: number): Member | undefined {
    for (let checked = 0; checked <= this.probeOrder.length; checked++) {
      if (this.probeIndex >= this.probeOrder.length) this.resetProbeOrder(now);
      const name = this.probeOrder[this.probeIndex++];
      if (name === undefined) return undefined;
      const m = this.members.get(name);
      if (m && (m.state === 'alive' || m.state === 'suspect')) return m;
    }
    return undefined;
  }

  /** On each wrap-around: forget members dead or left for longer than gossipToTheDead, reshuffle. */
  private resetProbeOrder(now: number): void {
    this.probeOrder = this.probeOrder.filter((name) => {
      const m = this.members.get(name);
      if (!m) return false;
      const gone = (m.state === 'dead' || m.state === 'left') && now - m.stateChangedAt > this.config.gossipToTheDeadMs;
      if (gone) this.members.delete(name);
      return !gone;
    });
    this.random.shuffle(this.probeOrder);
    this.probeIndex = 0;
  }

  // ---- dissemination -------------------------------------------------------------------------

  private gossip(now: number): void {
    if (this.queue.size === 0) return;
    const targets = this.randomMembers(
      this.config.gossipNodes,
      // Recently dead members still hear gossip, so one killed by mistake learns it and refutes.
      (m) => m.state === 'alive' || m.state === 'suspect' || (m.state === 'dead' && now - m.stateChangedAt < this.config.gossipToTheDeadMs),
    );
    for (const t of targets) {
      const extra = this.queue.take(this.budget(0), this.retransmitLimit());
      if (extra.length === 0) return;
      this.out.push({ kind: 'packet', to: t.addr, messages: extra });
    }
  }

  /** Send `main` with as many queued updates piggybacked as fit in the packet budget. */
  private send(to: string, main: Uint8Array[]): void {
    let size = 0;
    for (const m of main) size += m.length;
    const room = this.budget(size);
    const extra = room > 0 ? this.queue.take(room, this.retransmitLimit()) : [];
    this.out.push({ kind: 'packet', to, messages: extra.length > 0 ? [...main, ...extra] : main });
  }

  private budget(used: number): number {
    return this.config.maxPacketSize - this.packetOverhead - BODY_OVERHEAD - used;
  }

  /** retransmitMult · ceil(log10(N + 1)). */
  retransmitLimit(): number {
    return this.config.retransmitMult * Math.ceil(Math.log10(this.members.size + 1));
  }

  private enqueue(m: SwimMessage & { node: string }): void {
    this.queue.enqueue(m.node, encodeMessage(m));
  }

  private enqueueAlive(m: Member): void {
    this.enqueue({ type: 'alive', incarnation: m.incarnation, node: m.name, addr: m.addr, meta: m.meta });
  }

  // ---- state transitions (memberlist aliveNode / suspectNode / deadNode) -------------------------

  private onAlive(a: Extract<SwimMessage, { type: 'alive' }>, now: number, solicited = false): void {
    const m = this.members.get(a.node);
    if (m === this.self) {
      if (this.leaving) return;
      const r = relate(a.incarnation, m.incarnation);
      if (r === 'older' || !this.adoptable(r, solicited)) return;
      if (r === 'same' && a.addr === m.addr && bytesEqual(a.meta, m.meta)) return;
      this.refute(a.incarnation);
      return;
    }
    if (!m) {
      const fresh: Member = { name: a.node, addr: a.addr, incarnation: a.incarnation, state: 'alive', meta: a.meta, stateChangedAt: now };
      this.members.set(a.node, fresh);
      // A random slot in the probe order, so a newcomer is probed within one round on average.
      this.probeOrder.push(a.node);
      const j = this.random.int(0, this.probeOrder.length);
      const last = this.probeOrder.length - 1;
      [this.probeOrder[j], this.probeOrder[last]] = [a.node, this.probeOrder[j] as string];
      this.enqueue(a);
      this.emit('join', fresh, now);
      return;
    }
    const r = relate(a.incarnation, m.incarnation);
    if (r !== 'newer') {
      if (r === 'implausible') this.stats.implausible++;
      return;
    }
    // Another process claims a live member's name from a different address: keep the one we know.
    if (a.addr !== m.addr && (m.state === 'alive' || m.state === 'suspect')) {
      this.stats.ignored++;
      return;
    }
    const before = m.state;
    const metaChanged = !bytesEqual(a.meta, m.meta);
    this.suspicions.delete(m.name);
    m.incarnation = a.incarnation;
    m.addr = a.addr;
    m.meta = a.meta;
    if (before !== 'alive') {
      m.state = 'alive';
      m.stateChangedAt = now;
    }
    this.enqueue(a);
    if (before === 'dead' || before === 'left') this.emit('join', m, now);
    else {
      if (before === 'suspect') this.emit('alive', m, now);
      if (metaChanged) this.emit('update', m, now);
    }
  }

  private onSuspect(s: Extract<SwimMessage, { type: 'suspect' }>, now: number, solicited = false): void {
    const m = this.members.get(s.node);
    if (!m || !this.credible(m, s.incarnation, solicited)) return;
    const running = this.suspicions.get(s.node);
    if (running && m.state === 'suspect') {
      if (this.config.lifeguard && running.confirm(s.from)) this.enqueue(s);
      return;
    }
    if (m.state !== 'alive') return;
    if (m === this.self) {
      this.refute(s.incarnation);
      return;
    }
    this.enqueue(s);
    m.incarnation = s.incarnation;
    m.state = 'suspect';
    m.stateChangedAt = now;
    const n = this.members.size;
    let k = this.config.lifeguard ? this.config.suspicionMult - 2 : 0;
    if (n - 2 < k) k = 0;
    const min = suspicionMinMs(this.config.suspicionMult, n, this.config.probeIntervalMs);
    const max = this.config.lifeguard ? this.config.suspicionMaxTimeoutMult * min : min;
    this.suspicions.set(s.node, new Suspicion(s.from, s.incarnation, k, min, max, now));
    this.stats.suspicionsStarted++;
    this.emit('suspect', m, now);
  }

  private onDead(d: Extract<SwimMessage, { type: 'dead' }>, now: number, solicited = false): void {
    const m = this.members.get(d.node);
    if (!m || !this.credible(m, d.incarnation, solicited)) return;
    this.suspicions.delete(d.node);
    if (m.state === 'dead' || m.state === 'left') return;
    if (m === this.self && !this.leaving) {
      this.refute(d.incarnation);
      return;
    }
    this.enqueue(d);
    m.incarnation = d.incarnation;
    m.state = d.from === d.node ? 'left' : 'dead';
    m.stateChangedAt = now;
    this.emit(m.state === 'left' ? 'leave' : 'dead', m, now);
  }

  /**
   * An accusation at the incarnation we know or a newer one (within the window) is taken; an older
   * one is stale. One beyond the window is ignored and counted, except that this node adopts such
   * an accusation of itself from a solicited push-pull (adoptable()).
   */
  private credible(m: Member, incarnation: number, solicited: boolean): boolean {
    const r = relate(incarnation, m.incarnation);
    if (r === 'older') return false;
    if (m === this.self) return this.adoptable(r, solicited);
    if (r === 'implausible') this.stats.implausible++;
    return r !== 'implausible';
  }

  /**
   * Whether this node answers a message about itself at relation `r` to its own incarnation. An
   * honest peer never holds a number for us beyond ours, except after our restart (we start again
   * at 1): the solicited push-pull of the join tells us the old number, and we outbid it. Anywhere
   * else a far number is forged, and outbidding it would move us out of every peer's window.
   */
  private adoptable(r: Relation, solicited: boolean): boolean {
    if (r !== 'implausible' || solicited) return true;
    this.stats.implausible++;
    return false;
  }

  /** Someone thinks we are suspect or dead, at `accused` (ours or newer): outbid them. */
  private refute(accused: number): void {
    this.stats.refutes++;
    this.self.incarnation = nextIncarnation(accused);
    if (this.config.lifeguard) this.awareness.apply(1);
    this.enqueueAlive(this.self);
  }

  // ---- helpers -------------------------------------------------------------------------------

  private emit(kind: SwimEventKind, m: Member, now: number): void {
    this.out.push({ kind: 'event', event: { kind, member: view(m), at: now } });
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0;
    return this.seq;
  }

  /** Push-pull period, stretched once the cluster exceeds 32 members (memberlist pushPullScale). */
  private pushPullInterval(): number {
    const n = this.members.size;
    const base = this.config.pushPullIntervalMs;
    return n <= 32 ? base : base * (Math.ceil(Math.log2(n) - Math.log2(32)) + 1);
  }

  /** Up to k distinct other members passing `keep`, chosen uniformly. */
  private randomMembers(k: number, keep: (m: Member) => boolean): Member[] {
    const picked: Member[] = [];
    const order = this.probeOrder;
    if (k <= 0 || order.length === 0) return picked;
    if (order.length <= 4 * k) {
      for (const name of this.random.shuffle([...order])) {
        const m = this.members.get(name);
        if (m && keep(m)) picked.push(m);
        if (picked.length === k) break;
      }
      return picked;
    }
    const seen = new Set<string>();
    for (let tries = 0; tries < 3 * order.length && picked.length < k; tries++) {
      const name = order[this.random.int(0, order.length)] as string;
      if (seen.has(name)) continue;
      seen.add(name);
      const m = this.members.get(name);
      if (m && keep(m)) picked.push(m);
    }
    return picked;
  }
}

function view(m: Member): MemberView {
  return { name: m.name, addr: m.addr, incarnation: m.incarnation, state: m.state, meta: m.meta };
}
