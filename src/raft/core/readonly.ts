import type { NodeId } from './types.js';

/** One ReadIndex request: who asked, under which context, and the commit index it waits on. */
export interface ReadRequest {
  readonly from: NodeId;
  readonly context: string;
  readonly index: number;
}

/**
 * The leader's ReadIndex bookkeeping (etcd's readOnly, safe mode). A request records the commit
 * index when it arrives; once a quorum of voters answers a heartbeat carrying its context, the
 * leader was still leader after the request arrived, so that index is safe to read at. An ack for
 * a later request also confirms every earlier one.
 */
export class ReadOnly {
  private readonly pending = new Map<string, { req: ReadRequest; acks: Set<NodeId> }>();
  private queue: string[] = [];
  /** Requests that arrived before this term committed its first entry. */
  private waiting: { from: NodeId; context: string }[] = [];

  wait(from: NodeId, context: string): void {
    this.waiting.push({ from, context });
  }

  takeWaiting(): { from: NodeId; context: string }[] {
    const w = this.waiting;
    this.waiting = [];
    return w;
  }

  /** Register a request; false when the context is already pending (a duplicate). */
  add(from: NodeId, context: string, index: number, self: NodeId): boolean {
    if (this.pending.has(context)) return false;
    this.pending.set(context, { req: { from, context, index }, acks: new Set([self]) });
    this.queue.push(context);
    return true;
  }

  /** Record a heartbeat ack; returns the requests now confirmed, oldest first. */
  ack(context: string, from: NodeId, voters: readonly NodeId[], quorumSize: number): ReadRequest[] {
    const p = this.pending.get(context);
    if (p === undefined || !voters.includes(from)) return [];
    p.acks.add(from);
    let n = 0;
    for (const a of p.acks) if (voters.includes(a)) n++;
    if (n < quorumSize) return [];
    const at = this.queue.indexOf(context);
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return done.map((c) => {
      const r = this.pending.get(c);
      this.pending.delete(c);
      return (r as { req: ReadRequest }).req;
    });
  }

  /** Context of the newest pending request ('' if none): heartbeats carry it so acks can confirm. */
  lastPending(): string {
    return this.queue[this.queue.length - 1] ?? '';
  }

  /** Everything outstanding, for failing it when leadership ends. */
  drain(): { from: NodeId; context: string }[] {
    const out = [...this.queue.map((c) => (this.pending.get(c) as { req: ReadRequest }).req), ...this.waiting];
    this.pending.clear();
    this.queue = [];
    this.waiting = [];
    return out;
  }
}
