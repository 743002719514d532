import { createHash, type Hash } from 'node:crypto';

/**
 * The run's trace: one canonical line per delivery and event, folded into an incremental sha256.
 * Two runs with the same seed give the same hash; the last `keep` lines stay in memory so a
 * failing run can show what happened just before.
 */
export class Trace {
  private hash: Hash = createHash('sha256');
  private recent: string[] = [];
  private head = 0;
  /** Lines recorded so far. */
  count = 0;

  constructor(
    private readonly now: () => number,
    private readonly keep = 200,
    /** Print every line as it is recorded (amf-sim --verbose). */
    private readonly echo?: (line: string) => void,
  ) {}

  /** Record `kind` and its fields at the current virtual time. */
  record(kind: string, ...fields: Array<string | number>): void {
    const line = `${fmtTime(this.now())} ${kind} ${fields.join(' ')}`;
    this.hash.update(`${line}\n`);
    this.count++;
    if (this.keep > 0) {
      if (this.recent.length < this.keep) this.recent.push(line);
      else {
        this.recent[this.head] = line;
        this.head = (this.head + 1) % this.keep;
      }
    }
    this.echo?.(line);
  }

  /** sha256 (hex) of every line so far; recording may continue afterwards. */
  digest(): string {
    return this.hash.copy().digest('hex');
  }

  /** The last lines recorded, oldest first. */
  tail(): string[] {
    return [...this.recent.slice(this.head), ...this.recent.slice(0, this.head)];
  }
}

/** Virtual time with microsecond resolution, the same text on every platform. */
export function fmtTime(ms: number): string {
  return ms.toFixed(3);
}

/** A short, stable fingerprint of a payload for trace lines (FNV-1a over the bytes). */
export function fingerprint(data: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return `${data.length}:${(h >>> 0).toString(16).padStart(8, '0')}`;
}
