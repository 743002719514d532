/**
 * A budget per guest channel, so that one guest flooding its channel cannot starve the host's
 * other guests: a well-behaved guest sends about one message per interval. Beyond the budget of a
 * window the channel stops being read until the window ends (the guest sees backpressure) and the
 * lines over budget are dropped. Pure: the driver passes the time.
 */
export const FLOOD_LIMITS = {
  windowMs: 1000,
  /** Lines handled per window; far above the protocol's rate (at most a few per 400 ms interval). */
  maxLines: 50,
  /** Bytes read per window (50 maximal messages). */
  maxBytes: 50 * 1056,
} as const;

export class FloodGuard {
  private windowStart = Number.NEGATIVE_INFINITY;
  private lines = 0;
  private bytes = 0;

  constructor(private readonly limits: { readonly windowMs: number; readonly maxLines: number; readonly maxBytes: number } = FLOOD_LIMITS) {}

  private roll(now: number): void {
    if (now - this.windowStart < this.limits.windowMs) return;
    this.windowStart = now;
    this.lines = 0;
    this.bytes = 0;
  }

  /** Count a chunk read at `now`. Returns the time to resume reading at when the window's bytes are spent. */
  chunk(now: number, bytes: number): number | undefined {
    this.roll(now);
    this.bytes += bytes;
    return this.bytes > this.limits.maxBytes ? this.windowStart + this.limits.windowMs : undefined;
  }

  /** Whether one more line may be handled in this window. */
  admit(now: number): boolean {
    this.roll(now);
    if (this.lines >= this.limits.maxLines) return false;
    this.lines++;
    return true;
  }

  /** When reading may resume after the line budget ran out, if it did. */
  pausedUntil(now: number): number | undefined {
    this.roll(now);
    return this.lines >= this.limits.maxLines ? this.windowStart + this.limits.windowMs : undefined;
  }
}
