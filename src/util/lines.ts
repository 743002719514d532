/**
 * `\n`-delimited messages on a byte stream (the StarlingX host/guest channels frame each JSON
 * object as `\n{…}\n`). Pure: chunks cut anywhere in, whole lines out. Empty lines (the framing's
 * doubled newlines) are skipped. A line longer than the cap is dropped without buffering it whole,
 * and a line that is not UTF-8 is dropped: both are reported, never thrown.
 */

export type LineDrop = { readonly reason: 'too-long'; readonly bytes: number } | { readonly reason: 'not-utf8'; readonly bytes: number };

export interface LinePush {
  readonly lines: string[];
  readonly dropped: LineDrop[];
}

const NEWLINE = 0x0a;
const decoder = new TextDecoder('utf-8', { fatal: true });

export class LineDecoder {
  private parts: Uint8Array[] = [];
  private buffered = 0;
  /** Bytes of the current line seen so far while it is being discarded (over the cap). */
  private discarding: number | undefined;

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Uint8Array): LinePush {
    const lines: string[] = [];
    const dropped: LineDrop[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk.subarray(start, end));
      if (nl === -1) break;
      this.finish(lines, dropped);
      start = nl + 1;
    }
    return { lines, dropped };
  }

  /** Forget a partial line (the stream it came from is gone). */
  reset(): void {
    this.parts = [];
    this.buffered = 0;
    this.discarding = undefined;
  }

  private take(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.discarding !== undefined) {
      this.discarding += bytes.length;
      return;
    }
    if (this.buffered + bytes.length > this.maxLineBytes) {
      this.discarding = this.buffered + bytes.length;
      this.parts = [];
      this.buffered = 0;
      return;
    }
    this.parts.push(bytes.slice());
    this.buffered += bytes.length;
  }

  private finish(lines: string[], dropped: LineDrop[]): void {
    if (this.discarding !== undefined) {
      dropped.push({ reason: 'too-long', bytes: this.discarding });
      this.discarding = undefined;
      return;
    }
    if (this.buffered === 0) return;
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.buffered);
    const bytes = this.buffered;
    this.parts = [];
    this.buffered = 0;
    try {
      lines.push(decoder.decode(whole));
    } catch {
      dropped.push({ reason: 'not-utf8', bytes });
    }
  }
}
