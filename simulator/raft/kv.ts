import { Packr } from 'msgpackr';
import type { AppliedEntry, FSM, FSMSnapshot } from '../../src/raft/fsm.js';
import type { Model, Operation } from './linearizability.js';

/**
 * A small key/value state machine for tests, the simulator and the benchmark: read, write and
 * compare-and-set on string keys. Reads go through the log, so every acknowledged read is
 * linearizable by construction and the checker can hold the cluster to that.
 */
export type KvInput =
  | { readonly f: 'read'; readonly key: string }
  | { readonly f: 'write'; readonly key: string; readonly value: string }
  | { readonly f: 'cas'; readonly key: string; readonly from: string | null; readonly to: string };

export type KvOutput = { readonly value: string | null } | { readonly ok: boolean } | { readonly error: string };

const packr = new Packr({ useRecords: false });

export function encodeKv(input: KvInput): Uint8Array {
  return packr.pack(input);
}

/** Validate a decoded command: the log carries bytes, and bytes are never trusted. */
export function decodeKv(data: Uint8Array): KvInput | undefined {
  let v: unknown;
  try {
    v = packr.unpack(data);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.key !== 'string') return undefined;
  if (o.f === 'read') return { f: 'read', key: o.key };
  if (o.f === 'write' && typeof o.value === 'string') return { f: 'write', key: o.key, value: o.value };
  if (o.f === 'cas' && (typeof o.from === 'string' || o.from === null) && typeof o.to === 'string') {
    return { f: 'cas', key: o.key, from: o.from, to: o.to };
  }
  return undefined;
}

export class KvFsm implements FSM {
  private data = new Map<string, string>();
  /** Index of the last applied entry (restored snapshots included). */
  lastApplied = 0;

  apply(entry: AppliedEntry): KvOutput {
    this.lastApplied = entry.index;
    const cmd = decodeKv(entry.data);
    if (!cmd) return { error: 'malformed kv command' };
    return applyKv(this.data, cmd);
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  get size(): number {
    return this.data.size;
  }

  /** A short digest of the whole state, to compare replicas. */
  digest(): string {
    let h = 0x811c9dc5;
    for (const [k, v] of [...this.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      for (const ch of `${k}=${v};`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    }
    return `${this.data.size}:${(h >>> 0).toString(16)}`;
  }

  snapshot(): FSMSnapshot {
    // Copy now: later applies must not change what this snapshot persists.
    const copy = [...this.data.entries()];
    const index = this.lastApplied;
    return { persist: () => packr.pack({ index, entries: copy }), release: () => {} };
  }

  restore(data: Uint8Array): void {
    const v = packr.unpack(data) as { index: number; entries: Array<[string, string]> };
    this.data = new Map(v.entries);
    this.lastApplied = v.index;
  }
}

function applyKv(data: Map<string, string>, cmd: KvInput): KvOutput {
  switch (cmd.f) {
    case 'read':
      return { value: data.get(cmd.key) ?? null };
    case 'write':
      data.set(cmd.key, cmd.value);
      return { ok: true };
    case 'cas': {
      const cur = data.get(cmd.key) ?? null;
      if (cur !== cmd.from) return { ok: false };
      data.set(cmd.key, cmd.to);
      return { ok: true };
    }
  }
}

/** The register model of one key, for the linearizability checker; partitioned per key. */
export const kvModel: Model<string | null, KvInput, KvOutput> = {
  partition(ops) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const op of ops) {
      const list = byKey.get(op.input.key) ?? [];
      list.push(op);
      byKey.set(op.input.key, list);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
  init: () => null,
  step(state, input, output) {
    switch (input.f) {
      case 'read':
        if (output === undefined) return { ok: true, state };
        return { ok: 'value' in output && output.value === state, state };
      case 'write':
        return { ok: true, state: input.value };
      case 'cas': {
        const matches = state === input.from;
        if (output === undefined) return { ok: true, state: matches ? input.to : state };
        if (!('ok' in output)) return { ok: false, state };
        if (output.ok !== matches) return { ok: false, state };
        return { ok: true, state: matches ? input.to : state };
      }
    }
  },
  key: (state) => (state === null ? '\u0000' : `=${state}`),
};
