import { assert } from '../util/assert.js';
import type { HandshakeLimits, ListenOptions, StreamAddress } from './ports/stream.js';

/**
 * The bookkeeping behind ListenOptions.handshake and maxConnections, shared by the Node and the
 * simulated stream networks: which connections a listener accepts, the deadline of each one not
 * yet admitted, and its frame limit until then.
 */
export type Refusal = 'max-connections' | 'max-pending' | 'max-pending-host';

export interface Admission {
  readonly admitted: boolean;
  /** The incoming frame limit now: the handshake's until admitted, then `full`. */
  frameLimit(full: number): number;
  admit(): void;
  /** The connection ended: free its slots (idempotent). */
  leave(): void;
}

type SetTimer = (ms: number, fn: () => void) => { cancel(): void };

/** The host part of "host:port", "[v6]:port"; every Unix-socket peer is one host. */
export function hostOf(address: StreamAddress): string {
  if (address.startsWith('unix:')) return 'unix';
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

export function checkListenOptions(o: ListenOptions): void {
  const positive = (v: number | undefined, what: string): void => assert(v === undefined || (Number.isInteger(v) && v > 0), `listen: ${what} must be a positive integer, got ${String(v)}`);
  positive(o.maxFrameSize, 'maxFrameSize');
  positive(o.maxConnections, 'maxConnections');
  const h: Partial<HandshakeLimits> = o.handshake ?? {};
  positive(h.maxFrameSize, 'handshake.maxFrameSize');
  positive(h.timeoutMs, 'handshake.timeoutMs');
  positive(h.maxPending, 'handshake.maxPending');
  positive(h.maxPendingPerHost, 'handshake.maxPendingPerHost');
}

export class AdmissionGate {
  private open = 0;
  private pending = 0;
  private readonly pendingByHost = new Map<string, number>();

  constructor(
    private readonly options: ListenOptions,
    private readonly setTimer: SetTimer,
  ) {
    checkListenOptions(options);
  }

  /** A connection from `remote` was accepted by the OS: take it (expire() runs at its deadline) or say why not. */
  enter(remote: StreamAddress, expire: () => void): Admission | Refusal {
    const h = this.options.handshake;
    if (this.options.maxConnections !== undefined && this.open >= this.options.maxConnections) return 'max-connections';
    if (h === undefined) {
      this.open++;
      return this.ticket(undefined, '', undefined);
    }
    const host = hostOf(remote);
    if (this.pending >= h.maxPending) return 'max-pending';
    if ((this.pendingByHost.get(host) ?? 0) >= h.maxPendingPerHost) return 'max-pending-host';
    this.open++;
    this.pending++;
    this.pendingByHost.set(host, (this.pendingByHost.get(host) ?? 0) + 1);
    return this.ticket(h, host, this.setTimer(h.timeoutMs, expire));
  }

  private ticket(h: HandshakeLimits | undefined, host: string, timer: { cancel(): void } | undefined): Admission {
    let pending = h !== undefined;
    let gone = false;
    const release = (): void => {
      if (!pending) return;
      pending = false;
      timer?.cancel();
      this.pending--;
      const n = (this.pendingByHost.get(host) ?? 1) - 1;
      if (n === 0) this.pendingByHost.delete(host);
      else this.pendingByHost.set(host, n);
    };
    return {
      get admitted() {
        return !pending && !gone;
      },
      frameLimit: (full) => (pending && h !== undefined ? Math.min(full, h.maxFrameSize) : full),
      admit: () => {
        if (!gone) release();
      },
      leave: () => {
        if (gone) return;
        release();
        gone = true;
        this.open--;
      },
    };
  }
}
