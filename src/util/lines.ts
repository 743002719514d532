/**
 * `\n`-delimited messages on a byte stream (the StarlingX host/guest channels frame each JSON
 * object as `\n{…}\n`). Pure: chunks cut anywhere in, whole lines out. Empty lines (the framing's
 * doubled newlines) are skipped. A line longer than the cap is dropped without buffering it whole,
 * and a line that is not UTF-8 is dropped: both are reported, never thrown.
 */

export type LineDrop = { readonly reason: 'too-long'; readonly bytes: number } | { readonly reason: 'not-utf8'; readonly bytes: number };

/** A whole line, or a line that was dropped. */
export type LineItem = { readonly line: string } | { readonly drop: LineDrop };

export interface LinePush {
  /** Lines and drops in the order they were on the stream (answer them in that order). */
  readonly items: LineItem[];
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
    const items: LineItem[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      this.take(chunk.subarray(start, end));
      if (nl === -1) break;
      this.finish(items);
      start = nl + 1;
    }
    const lines: string[] = [];
    const dropped: LineDrop[] = [];
    for (const x of items) {
      if ('line' in x) lines.push(x.line);
      else dropped.push(x.drop);
    }
    return { items, lines, dropped };
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

  private finish(items: LineItem[]): void {
    if (this.discarding !== undefined) {
      items.push({ drop: { reason: 'too-long', bytes: this.discarding } });
      this.discarding = undefined;
      return;
    }
    if (this.buffered === 0) return;
    const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.buffered);
    const bytes = this.buffered;
    this.parts = [];
    this.buffered = 0;
    try {
      items.push({ line: decoder.decode(whole) });
    } catch {
      items.push({ drop: { reason: 'not-utf8', bytes } });
    }
  }
}
