import type { Readable } from 'node:stream';

/** Undelivered bytes (no handler yet) above this pause the source: backpressure, not memory. */
const PAUSE_BYTES = 1024 * 1024;

/**
 * What a connection received before its user set a handler: held (the source paused above a
 * budget) and handed over in order once the handler is set. A handler that throws is reported,
 * never propagated into the socket's event loop.
 */
export class Inbox {
  private handler: ((item: Uint8Array) => void) | undefined;
  private held: Uint8Array[] = [];
  private heldBytes = 0;

  constructor(
    private readonly source: Readable,
    private readonly onThrow: (e: unknown) => void,
  ) {}

  push(item: Uint8Array): void {
    if (this.handler === undefined) {
      this.held.push(item);
      this.heldBytes += item.byteLength;
      if (this.heldBytes > PAUSE_BYTES) this.source.pause();
      return;
    }
    try {
      this.handler(item);
    } catch (e) {
      this.onThrow(e);
    }
  }

  setHandler(handler: (item: Uint8Array) => void): void {
    this.handler = handler;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const x of held) this.push(x);
    if (this.source.isPaused()) this.source.resume();
  }
}

/**
 * A listener's accepted connections: those accepted before its user set a handler are held and
 * handed over in order once it is. A handler that throws is reported and that connection closed.
 */
export class AcceptQueue<C extends { close(): void }> {
  private handler: ((c: C) => void) | undefined;
  private readonly held: C[] = [];

  constructor(private readonly onThrow: (e: unknown) => void) {}

  push(c: C): void {
    if (this.handler === undefined) {
      this.held.push(c);
      return;
    }
    try {
      this.handler(c);
    } catch (e) {
      this.onThrow(e);
      c.close();
    }
  }

  setHandler(handler: (c: C) => void): void {
    this.handler = handler;
    for (const c of this.held.splice(0)) this.push(c);
  }
}
