import { closeSync, constants, fdatasync, fdatasyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { crc32 } from '../../util/crc32.js';
import type { DurableKey } from '../ports/storage.js';

/** One concrete write of a batch: a put (value) or a delete (null). */
export type WalOp = readonly [ns: string, key: DurableKey, value: Uint8Array | null];

/** A store batch as the log holds it: its sequence number and its writes in order. */
export interface WalBatch {
  readonly seq: number;
  readonly ops: readonly WalOp[];
}

const packr = new Packr({ useRecords: false });
/** u32 body length | u32 CRC-32 of the body, little-endian. */
const HEADER = 8;
/** A record longer than this is taken for garbage (a torn length), not read. */
const MAX_RECORD = 1 << 30;

/** A record: header, then the msgpack body `[seq, ops]`. */
export function encodeRecord(batch: WalBatch): Buffer {
  const body = packr.pack([batch.seq, batch.ops]);
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  body.copy(out, HEADER);
  return out;
}

/**
 * The whole records of a log file, in order, up to the first that is torn or fails its checksum
 * (a crash in the middle of an append leaves such a tail; what follows it was never acknowledged).
 */
export function readRecords(path: string): { batches: WalBatch[]; validBytes: number; totalBytes: number } {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { batches: [], validBytes: 0, totalBytes: 0 };
    throw e;
  }
  const batches: WalBatch[] = [];
  let at = 0;
  while (at + HEADER <= data.length) {
    const len = data.readUInt32LE(at);
    if (len === 0 || len > MAX_RECORD || at + HEADER + len > data.length) break;
    const body = data.subarray(at + HEADER, at + HEADER + len);
    if (crc32(body) !== data.readUInt32LE(at + 4)) break;
    const batch = decodeBody(body);
    if (batch === undefined) break;
    batches.push(batch);
    at += HEADER + len;
  }
  return { batches, validBytes: at, totalBytes: data.length };
}

function decodeBody(body: Uint8Array): WalBatch | undefined {
  let v: unknown;
  try {
    v = packr.unpack(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || v.length !== 2 || !Number.isSafeInteger(v[0]) || !Array.isArray(v[1])) return undefined;
  const ops: WalOp[] = [];
  for (const o of v[1] as unknown[]) {
    if (!Array.isArray(o) || o.length !== 3 || typeof o[0] !== 'string') return undefined;
    const [ns, key, value] = o as [string, unknown, unknown];
    if (typeof key !== 'number' && typeof key !== 'string') return undefined;
    if (value !== null && !(value instanceof Uint8Array)) return undefined;
    ops.push([ns, key, value === null ? null : new Uint8Array(value)]);
  }
  return { seq: v[0] as number, ops };
}

/**
 * The append side of the store's write-ahead log: one file, records buffered in memory by
 * `append` and written with one write + fdatasync per `sync` (group commit). Steps that touch the
 * file (sync, checkpoint) run one at a time in call order. A failed write or fdatasync fails
 * every later step with the same error: after it nothing is acknowledged.
 */
export class WriteAheadLog {
  private readonly fd: number;
  private pending: Buffer[] = [];
  private pendingSeq = 0;
  /** Highest batch written to the file (page cache), and bytes in the file. */
  private fileSeq = 0;
  private fileBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  /** A sync step queued and not yet started: later callers join it (their records are in `pending`). */
  private queuedSync: Promise<void> | undefined;
  private failure: Error | undefined;
  private checkpointing = false;

  /**
   * Opens the file to append after its first `validBytes` (the whole records `readRecords` found;
   * a torn tail beyond them is cut). The records kept are replayed again at the next open, skipped
   * where the store has them, until a checkpoint empties the file.
   */
  constructor(readonly path: string, validBytes: number) {
    this.fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    ftruncateSync(this.fd, validBytes);
    fdatasyncSync(this.fd);
    this.fileBytes = validBytes;
  }

  get bytes(): number {
    return this.fileBytes;
  }

  append(batch: WalBatch): void {
    this.pending.push(encodeRecord(batch));
    this.pendingSeq = batch.seq;
  }

  /** Resolves once every record appended before the call is on disk. */
  sync(): Promise<void> {
    if (this.queuedSync !== undefined) return this.queuedSync;
    const step = this.chain.then(() => {
      this.queuedSync = undefined;
      return this.writeAndSync();
    });
    this.queuedSync = step;
    this.chain = step.catch(() => {});
    return step;
  }

  /**
   * Empty the file once the store holds everything written to it durably: `covered(seq)` resolves
   * when batches up to `seq` are durable in the store proper. Records appended meanwhile stay
   * buffered and go to the emptied file. Syncs queued behind wait for it (once per many MiB).
   */
  checkpoint(covered: (seq: number) => Promise<void>): void {
    if (this.checkpointing) return;
    this.checkpointing = true;
    this.chain = this.chain
      .then(async () => {
        if (this.failure) return;
        await covered(this.fileSeq);
        ftruncateSync(this.fd, 0);
        await datasync(this.fd);
        this.fileBytes = 0;
      })
      .catch((e: unknown) => {
        this.failure ??= asError(e);
      })
      .finally(() => (this.checkpointing = false));
  }

  private async writeAndSync(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pending.length === 0) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const seq = this.pendingSeq;
    this.pending = [];
    try {
      // The page cache only: microseconds. Partial writes happen on a full disk; ENOSPC follows.
      // Positioned: after a checkpoint's truncation the file starts again at 0.
      for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off, this.fileBytes + off);
      this.fileBytes += buf.length;
      this.fileSeq = seq;
      await datasync(this.fd);
    } catch (e) {
      this.failure = asError(e);
      throw this.failure;
    }
  }

  /**
   * After the last step. `empty`: the caller made every record durable elsewhere, so the file is
   * truncated (a cleanly stopped store is its LMDB alone); otherwise it is replayed at the next open.
   */
  async close(empty: boolean): Promise<void> {
    await this.chain;
    if (empty && !this.failure) {
      ftruncateSync(this.fd, 0);
      await datasync(this.fd);
    }
    closeSync(this.fd);
  }
}

function datasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
