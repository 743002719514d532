import type { Clock } from '../../src/runtime/ports/clock.js';
import type { Random } from '../../src/runtime/ports/random.js';
import type { Message, NodeId } from '../../src/raft/core/types.js';
import type { Transport } from '../../src/raft/transport/transport.js';

export interface MessageFaults {
  readonly loss: number;
  readonly dup: number;
  readonly reorder: number;
  /** A reordered message is held back by up to this long. */
  readonly reorderDelayMs: number;
}

/**
 * A Transport decorator that loses, duplicates and reorders whole Raft messages on receipt, the
 * faults a stream connection hides (reconnects do replay and reorder in practice). Deterministic:
 * draws come from the given Random, delays from the Clock. `faults()` is read per message so a
 * simulation can heal it.
 */
export class FaultyTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly faults: () => MessageFaults,
  ) {}

  get localAddress(): string {
    return this.inner.localAddress;
  }

  onMessage(handler: (m: Message) => void): void {
    this.inner.onMessage((m) => {
      const f = this.faults();
      if (this.random.chance(f.loss)) return;
      const copies = this.random.chance(f.dup) ? 2 : 1;
      for (let i = 0; i < copies; i++) {
        if (this.random.chance(f.reorder)) this.clock.setTimer(this.random.float() * f.reorderDelayMs, () => handler(m));
        else handler(m);
      }
    });
  }

  onPeerAddress(handler: (id: NodeId, address: string) => void): void {
    this.inner.onPeerAddress(handler);
  }

  onPeerStatus(handler: (id: NodeId, reachable: boolean) => void): void {
    this.inner.onPeerStatus(handler);
  }

  send(address: string, m: Message): void {
    this.inner.send(address, m);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
