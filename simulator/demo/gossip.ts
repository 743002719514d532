import type { DatagramSocket } from '../../src/runtime/ports/datagram.js';
import type { StreamConnection } from '../../src/runtime/ports/stream.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';

/** The demo protocol's ports: datagrams for rumors and digests, a stream for anti-entropy. */
export const GOSSIP_PORT = 7000;
export const SYNC_PORT = 7001;

export interface GossipHooks {
  /** An item was created and its flush resolved: from now on it must never be lost. */
  acknowledged(item: string): void;
  /** Items are created only before this virtual time (the run's heal period creates none). */
  readonly createUntil: number;
  /** A deliberate bug (acknowledge without flushing), to show the checker catches lost writes. */
  readonly ackWithoutFlush?: boolean;
}

export interface GossipCounters {
  malformed: number;
  syncs: number;
  checks: number;
}

type Message = { readonly t: 'rumor'; readonly items: string[] } | { readonly t: 'digest'; readonly n: number; readonly h: number };

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A grow-only set replicated by gossip, the simulator's demo workload. Every node creates one item
 * a second, makes it durable, then acknowledges it; rumors spread items by datagram, digests
 * detect divergence, and push-pull anti-entropy over a stream repairs it. After faults heal every
 * node must hold the same set, including every acknowledged item (durability across crashes).
 * It also runs a scripted health check process and keeps a blob snapshot, to exercise every port.
 */
export class GossipSet {
  readonly items = new Set<string>();
  readonly counters: GossipCounters = { malformed: 0, syncs: 0, checks: 0 };
  private socket: DatagramSocket | undefined;
  private syncing = false;
  private readonly log;

  constructor(
    private readonly ports: NodePorts,
    private readonly peers: readonly string[],
    private readonly hooks: GossipHooks,
  ) {
    this.log = ports.logger.child({ module: 'gossip' });
    for (const { key } of ports.store.range('items')) this.items.add(String(key));
    void this.boot();
  }

  private async boot(): Promise<void> {
    const { clock, datagram, stream, nodeName } = this.ports;
    const snapshot = await this.ports.blobs.read('snapshot');
    if (snapshot) this.merge(parseItems(dec.decode(snapshot)) ?? []);
    this.socket = await datagram.bind(`${nodeName}:${GOSSIP_PORT}`);
    this.socket.onMessage((data, from) => this.onDatagram(data, from));
    const listener = await stream.listen(`${nodeName}:${SYNC_PORT}`);
    listener.onConnection((conn) => this.serveSync(conn));
    clock.setPeriodic(1000, () => void this.create());
    clock.setPeriodic(200, () => this.sendDigest());
    clock.setPeriodic(2000, () => void this.sync(this.randomPeer()));
    clock.setPeriodic(5000, () => void this.healthCheck());
    clock.setPeriodic(10_000, () => void this.ports.blobs.write('snapshot', enc.encode(JSON.stringify([...this.items].sort()))));
  }

  /** Sorted items, for comparing replicas. */
  sorted(): string[] {
    return [...this.items].sort();
  }

  private async create(): Promise<void> {
    if (this.ports.clock.now() >= this.hooks.createUntil) return;
    // Named by node and creation time: an item lost in a crash is never recreated under its name.
    const item = `${this.ports.nodeName}@${this.ports.clock.now().toFixed(3)}`;
    this.merge([item]);
    if (!this.hooks.ackWithoutFlush) await this.ports.store.flush();
    this.hooks.acknowledged(item);
    for (let i = 0; i < 2; i++) this.send(this.randomPeer(), { t: 'rumor', items: [item] });
  }

  /** Add new items and write them to the store (durable with the next flush). */
  private merge(items: readonly string[]): void {
    const fresh = items.filter((i) => !this.items.has(i));
    if (fresh.length === 0) return;
    for (const i of fresh) this.items.add(i);
    this.ports.store.write(fresh.map((key) => ({ op: 'put' as const, ns: 'items', key, value: new Uint8Array(0) })));
  }

  private sendDigest(): void {
    this.send(this.randomPeer(), { t: 'digest', n: this.items.size, h: this.digest() });
  }

  private send(peer: string | undefined, msg: Message): void {
    if (peer === undefined || !this.socket) return;
    const r = this.socket.send(`${peer}:${GOSSIP_PORT}`, enc.encode(JSON.stringify(msg)));
    if (!r.ok) this.log.warn({ error: r.error }, 'gossip send failed');
  }

  private onDatagram(data: Uint8Array, from: string): void {
    const msg = parseMessage(data);
    if (!msg) {
      this.counters.malformed++;
      this.log.warn({ from }, 'dropped a malformed gossip datagram');
      return;
    }
    if (msg.t === 'rumor') this.merge(msg.items);
    else if (msg.n !== this.items.size || msg.h !== this.digest()) void this.sync(from.slice(0, from.lastIndexOf(':')));
  }

  /** Push-pull anti-entropy: send our set, merge the peer's reply. */
  private async sync(peer: string | undefined): Promise<void> {
    if (peer === undefined || this.syncing) return;
    this.syncing = true;
    try {
      const r = await this.ports.stream.connect(`${peer}:${SYNC_PORT}`, { timeoutMs: 1000 });
      if (!r.ok) return;
      const conn = r.value;
      await new Promise<void>((resolve) => {
        const timer = this.ports.clock.setTimer(3000, () => conn.close());
        conn.onFrame((frame) => {
          this.merge(parseItems(dec.decode(frame)) ?? []);
          this.counters.syncs++;
          conn.close();
        });
        conn.onClose(() => {
          timer.cancel();
          resolve();
        });
        conn.send(enc.encode(JSON.stringify(this.sorted())));
      });
    } finally {
      this.syncing = false;
    }
  }

  private serveSync(conn: StreamConnection): void {
    conn.onFrame((frame) => {
      const items = parseItems(dec.decode(frame));
      if (!items) {
        this.counters.malformed++;
        conn.close();
        return;
      }
      const reply = enc.encode(JSON.stringify(this.sorted()));
      this.merge(items);
      conn.send(reply);
    });
  }

  private async healthCheck(): Promise<void> {
    const r = this.ports.processes.spawn({ argv: ['sim:exit', '0', '30'], env: {}, timeoutMs: 1000 });
    if (!r.ok) return;
    const exit = await r.value.exited;
    if (exit.code === 0) this.counters.checks++;
  }

  private randomPeer(): string | undefined {
    return this.peers[this.ports.random.int(0, this.peers.length)];
  }

  private digest(): number {
    let h = 0x811c9dc5;
    for (const i of this.sorted()) {
      for (let k = 0; k < i.length; k++) h = Math.imul(h ^ i.charCodeAt(k), 0x01000193);
      h = Math.imul(h ^ 10, 0x01000193);
    }
    return h >>> 0;
  }
}

function parseMessage(data: Uint8Array): Message | undefined {
  const v = parseJson(dec.decode(data));
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  if (m.t === 'rumor') {
    const items = Array.isArray(m.items) && m.items.every((i) => typeof i === 'string') ? (m.items as string[]) : undefined;
    return items ? { t: 'rumor', items } : undefined;
  }
  if (m.t === 'digest' && Number.isInteger(m.n) && Number.isInteger(m.h)) return { t: 'digest', n: m.n as number, h: m.h as number };
  return undefined;
}

function parseItems(text: string): string[] | undefined {
  const v = parseJson(text);
  return Array.isArray(v) && v.every((i) => typeof i === 'string') ? v : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
