import type { BlobStore } from '../../runtime/ports/storage.js';
import type { ConfState, Snapshot, SnapshotMeta } from '../core/types.js';
import { crc32 } from '../../util/crc32.js';
import { packr, toBytes } from './codec.js';

/**
 * Snapshots (hashicorp SnapshotStore) as one blob each on a BlobStore, which writes atomically and
 * durably (temp file, fsync, rename). The blob carries its meta and a CRC-32 of the data, checked
 * on open; a torn or corrupt snapshot is skipped in favour of an older one. `retain` are kept.
 */
export interface SnapshotStore {
  /** Durable once resolved. */
  save(snapshot: Snapshot): Promise<void>;
  /** Metas of stored snapshots, newest first. */
  list(): Promise<SnapshotMeta[]>;
  /** The newest snapshot that reads back intact, or undefined. */
  latest(): Promise<Snapshot | undefined>;
}

const PREFIX = 'snapshot-';

function blobName(meta: SnapshotMeta): string {
  // Fixed width so names sort by index.
  return `${PREFIX}${String(meta.index).padStart(16, '0')}-${String(meta.term).padStart(12, '0')}`;
}

export class BlobSnapshotStore implements SnapshotStore {
  constructor(
    private readonly blobs: BlobStore,
    private readonly retain = 2,
  ) {}

  async save(snapshot: Snapshot): Promise<void> {
    const { meta, data } = snapshot;
    await this.blobs.write(blobName(meta), packr.pack({ meta, crc: crc32(data), data }));
    const names = await this.names();
    for (const old of names.slice(this.retain)) await this.blobs.remove(old);
  }

  async list(): Promise<SnapshotMeta[]> {
    const out: SnapshotMeta[] = [];
    for (const name of await this.names()) {
      const s = await this.open(name);
      if (s) out.push(s.meta);
    }
    return out;
  }

  async latest(): Promise<Snapshot | undefined> {
    for (const name of await this.names()) {
      const s = await this.open(name);
      if (s) return s;
    }
    return undefined;
  }

  private async names(): Promise<string[]> {
    return (await this.blobs.list()).filter((n) => n.startsWith(PREFIX)).sort().reverse();
  }

  private async open(name: string): Promise<Snapshot | undefined> {
    const raw = await this.blobs.read(name);
    if (!raw) return undefined;
    let v: unknown;
    try {
      v = packr.unpack(raw);
    } catch {
      return undefined;
    }
    const o = v as { meta?: unknown; crc?: unknown; data?: unknown } | null;
    const data = toBytes(o?.data);
    const meta = parseMeta(o?.meta);
    if (!data || !meta || o?.crc !== crc32(data)) return undefined;
    return { meta, data };
  }
}

function isIdList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function parseMeta(v: unknown): SnapshotMeta | undefined {
  const m = v as { index?: unknown; term?: unknown; confState?: { voters?: unknown; learners?: unknown } } | null;
  if (!m || !Number.isSafeInteger(m.index) || !Number.isSafeInteger(m.term)) return undefined;
  const cs = m.confState;
  if (!cs || !isIdList(cs.voters) || !isIdList(cs.learners)) return undefined;
  const confState: ConfState = { voters: cs.voters, learners: cs.learners };
  return { index: m.index as number, term: m.term as number, confState };
}
