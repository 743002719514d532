/**
 * A token bucket per sender: `rate` tokens a second up to `burst`; a message takes one. Time comes
 * in as a number (the caller's monotonic clock), so the bucket is pure and replayable.
 */
export class TokenBucket {
  private tokens: number;
  private at: number | undefined;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  /** Whether a message may go now (and take its token). */
  take(now: number): boolean {
    if (this.at !== undefined && now > this.at) this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    if (this.at === undefined || now > this.at) this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
