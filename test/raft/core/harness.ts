/**
 * A tiny in-process network of Raft cores for tests (etcd's rafttest interaction env). Every node
 * persists its Ready into a MemoryStorage before its messages enter the network, so a crash
 * (dropping the RawNode and rebuilding it from storage) loses exactly what was never durable.
 * Each action can print a transcript line; transcripts are compared with golden files.
 */
import { checkGolden } from '../../golden.js';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { Xoshiro128 } from '../../../src/runtime/xoshiro.js';
import {
  MemoryStorage,
  RawNode,
  bootstrapLog,
  decodeConfChange,
  type Config,
  type Entry,
  type Message,
  type NodeId,
  type ReadState,
} from '../../../src/raft/core/index.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

export function bytes(s: string): Uint8Array {
  return enc.encode(s);
}

export interface SimNode {
  id: NodeId;
  storage: MemoryStorage;
  raw: RawNode;
  /** The FSM: data of applied normal entries, in order (with their index). */
  applied: { index: number; term: number; data: string }[];
  readStates: ReadState[];
  seed: number;
  restarts: number;
}

export type CoreOptions = Partial<Omit<Config, 'id' | 'random'>>;

/** Observers for property tests: called as a node's Ready is handled. */
export interface NetHooks {
  /** A Ready showed `id` as leader of `term` (after its log was persisted). */
  onLeader?(id: NodeId, term: number): void;
  /** `id` applied a normal entry while in `term` (or restored it from a snapshot). */
  onApply?(id: NodeId, e: { index: number; term: number; data: string }, nodeTerm: number): void;
  /** `id` got a ReadIndex answer. */
  onRead?(id: NodeId, r: ReadState): void;
}

export class Net {
  hooks: NetHooks = {};
  readonly nodes = new Map<NodeId, SimNode>();
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = [];
  /** Links that drop everything: "a->b". */
  readonly cut = new Set<string>();
  readonly out: string[] = [];
  quiet = false;

  constructor(readonly opts: CoreOptions = {}) {}

  /** Record a transcript line; a function is only evaluated when someone will read the line. */
  log(line: string | (() => string)): void {
    const debug = process.env.DEBUG_TRANSCRIPT === '1';
    if (this.quiet && !debug) return;
    const text = typeof line === 'string' ? line : line();
    if (debug) console.log(text);
    if (!this.quiet) this.out.push(text);
  }

  private get tracing(): boolean {
    return !this.quiet || process.env.DEBUG_TRANSCRIPT === '1';
  }

  /** Bootstrap `ids` as the initial voters (each writes the same bootstrap log). */
  bootstrap(ids: NodeId[], opts: CoreOptions = {}): void {
    const b = bootstrapLog(ids);
    for (const [i, id] of ids.entries()) {
      const storage = new MemoryStorage();
      storage.append(b.entries);
      storage.setHardState(b.hardState);
      this.start(id, storage, i + 1, opts);
    }
    this.log(`bootstrap ${ids.join(',')}`);
    this.readyAll();
  }

  /** A fresh, empty node (to be added by a conf change). */
  addEmpty(id: NodeId, seed: number, opts: CoreOptions = {}): void {
    this.start(id, new MemoryStorage(), seed, opts);
    this.log(`start empty ${id}`);
  }

  private start(id: NodeId, storage: MemoryStorage, seed: number, opts: CoreOptions, restarts = 0): void {
    const snap = storage.snapshot();
    // Each incarnation draws its own jitter stream, derived from the node's seed.
    const raw = new RawNode({ ...this.opts, ...opts, id, random: new Xoshiro128([seed, restarts]) }, storage);
    const applied = snap.meta.index > 0 ? (JSON.parse(dec.decode(snap.data)) as SimNode['applied']) : [];
    this.nodes.set(id, { id, storage, raw, applied, readStates: [], seed, restarts });
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    assert.ok(n, `no node ${id}`);
    return n;
  }

  /** Lose the volatile state: rebuild the core from what storage holds. */
  crash(id: NodeId): void {
    const n = this.node(id);
    // Messages already sent stay in flight; those on their way in are lost with the process.
    this.queue = this.queue.filter((m) => m.to !== id);
    this.nodes.delete(id);
    this.start(id, n.storage, n.seed, {}, n.restarts + 1);
    this.log(`crash+restart ${id}`);
  }

  /** Process the pending Ready of one node: persist, send, apply, advance. */
  /**
   * Process the pending Ready of one node: persist, send, apply, advance. Like the driver, a
   * leader whose Ready changes neither term nor vote sends before persisting (the permitted
   * exception of the Ready contract). With crashAfter the node crashes part-way: after 0 (nothing
   * durable), 1 (snapshot), 2 (entries) or 3 (hard state) of the persistence steps. `meanwhile`
   * runs between taking the Ready and handling it.
   */
  ready(id: NodeId, crashAfter?: number, meanwhile?: () => void): boolean {
    const n = this.node(id);
    if (!n.raw.hasReady()) return false;
    const rd = n.raw.ready();
    // An asynchronous driver keeps stepping messages while it writes a Ready.
    meanwhile?.();
    const hs = n.storage.hardState;
    const sendFirst =
      n.raw.status().softState.role === 'leader' &&
      rd.snapshot === null &&
      (rd.hardState === null || (rd.hardState.term === hs.term && rd.hardState.vote === hs.vote));
    if (sendFirst) for (const m of rd.messages) this.queue.push(m);
    const stop = crashAfter ?? 3;
    const parts: string[] = [];
    const tr = this.tracing;
    if (tr && rd.softState) parts.push(`${rd.softState.role}${rd.softState.leader ? ` lead=${rd.softState.leader}` : ''}`);
    if (tr && rd.hardState) parts.push(`hs term=${rd.hardState.term} vote=${rd.hardState.vote || '-'} commit=${rd.hardState.commit}`);
    const nodeTerm = rd.hardState?.term ?? n.raw.status().hardState.term;
    if (rd.snapshot && stop >= 1) {
      if (tr) parts.push(`install snapshot ${rd.snapshot.meta.index}/${rd.snapshot.meta.term} ${rd.snapshot.data.length}B`);
      n.storage.applySnapshot(rd.snapshot);
      n.applied = JSON.parse(dec.decode(rd.snapshot.data)) as SimNode['applied'];
      for (const a of n.applied) this.hooks.onApply?.(id, a, nodeTerm);
    }
    if (rd.entries.length > 0 && stop >= 2) {
      if (tr) parts.push(`append ${fmtEntries(rd.entries)}`);
      n.storage.append(rd.entries);
    }
    if (rd.hardState && stop >= 3) n.storage.setHardState(rd.hardState);
    if (crashAfter !== undefined) {
      this.log(`  ${id}: ${parts.join('; ')} -- crash after persistence step ${crashAfter}`);
      this.crash(id);
      return true;
    }
    if (!sendFirst) for (const m of rd.messages) this.queue.push(m);
    if (tr && rd.committedEntries.length > 0) parts.push(`apply ${fmtEntries(rd.committedEntries)}`);
    for (const e of rd.committedEntries) {
      if (e.type !== 'normal') continue;
      const a = { index: e.index, term: e.term, data: dec.decode(e.data) };
      n.applied.push(a);
      this.hooks.onApply?.(id, a, nodeTerm);
    }
    if (rd.softState?.role === 'leader') this.hooks.onLeader?.(id, nodeTerm);
    for (const r of rd.readStates) {
      if (tr) parts.push(`read ${r.context}@${r.index}`);
      n.readStates.push(r);
      this.hooks.onRead?.(id, r);
    }
    n.raw.advance(rd);
    if (tr && rd.committedEntries.some((e) => e.type === 'confChange')) {
      const cs = n.raw.confState;
      parts.push(`conf voters=${cs.voters.join(',')} learners=${cs.learners.join(',') || '-'}`);
    }
    if (parts.length > 0) this.log(`  ${id}: ${parts.join('; ')}`);
    return true;
  }

  readyAll(): boolean {
    let any = false;
    for (const id of [...this.nodes.keys()].sort()) if (this.ready(id)) any = true;
    return any;
  }

  /** Deliver queued messages (optionally only those matching), printing each. */
  deliver(filter: (m: Message) => boolean = () => true): number {
    const batch = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    let n = 0;
    for (const m of batch) {
      const target = this.nodes.get(m.to);
      if (this.cut.has(`${m.from}->${m.to}`) || target === undefined) {
        this.log(() => `  drop ${fmtMsg(m)}`);
        continue;
      }
      this.log(() => `  ${fmtMsg(m)}`);
      const r = target.raw.step(m);
      assert.ok(r.ok, r.ok ? '' : r.error);
      n++;
    }
    return n;
  }

  /** Alternate readies and deliveries until nothing moves. */
  stabilize(max = 1000): void {
    for (let i = 0; i < max; i++) {
      const a = this.readyAll();
      const b = this.queue.length > 0 ? this.deliver() > 0 || true : false;
      if (!a && !b) return;
    }
    assert.fail('network did not stabilize');
  }

  tick(id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) this.node(id).raw.tick();
  }

  tickAll(times = 1): void {
    for (let i = 0; i < times; i++) for (const n of this.nodes.values()) n.raw.tick();
  }

  /** Cut every link between the two groups (both ways). */
  partition(a: NodeId[], b: NodeId[]): void {
    for (const x of a) for (const y of b) {
      this.cut.add(`${x}->${y}`);
      this.cut.add(`${y}->${x}`);
    }
    this.log(`partition ${a.join(',')} | ${b.join(',')}`);
  }

  isolate(id: NodeId): void {
    this.partition([id], [...this.nodes.keys()].filter((x) => x !== id));
  }

  heal(): void {
    this.cut.clear();
    this.log('heal');
  }

  propose(id: NodeId, ...data: string[]): void {
    const r = this.node(id).raw.propose(data.map(bytes));
    this.log(`propose ${id} ${data.join(',')} -> ${r.ok ? `${r.value.firstIndex}..${r.value.lastIndex}` : r.error}`);
  }

  proposeConf(id: NodeId, type: 'addVoter' | 'addLearner' | 'removeNode', nodeId: NodeId): void {
    const r = this.node(id).raw.proposeConfChange({ type, nodeId, context: '' });
    this.log(`propose ${id} ${type}(${nodeId}) -> ${r.ok ? `${r.value.firstIndex}` : r.error}`);
  }

  /** Take a snapshot of everything applied on `id` and compact its log as the core allows. */
  snapshot(id: NodeId): void {
    const n = this.node(id);
    const st = n.raw.status();
    const snap = n.storage.createSnapshot(st.applied, st.confState, bytes(JSON.stringify(n.applied)));
    const through = n.raw.compact(snap.meta);
    n.storage.compact(through);
    this.log(`snapshot ${id} at ${snap.meta.index}/${snap.meta.term} (${snap.data.length}B), log compacted through ${through}`);
  }

  /** Tick `id` until it starts campaigning, then let the network settle. */
  elect(id: NodeId): void {
    this.log(`tick ${id} until it campaigns`);
    for (let i = 0; i < 100 && this.queue.length === 0 && this.node(id).raw.status().softState.role !== 'leader'; i++) {
      this.tick(id);
      this.ready(id);
    }
    this.stabilize();
  }

  /** Let `ticks` ticks pass on every node with the network settling after each (quietly). */
  run(ticks: number): void {
    const q = this.quiet;
    this.quiet = true;
    for (let i = 0; i < ticks; i++) {
      this.tickAll();
      this.stabilize();
    }
    this.quiet = q;
    this.log(`(${ticks} ticks pass)`);
  }

  leader(): NodeId | undefined {
    const ls = [...this.nodes.values()].filter((n) => n.raw.status().softState.role === 'leader');
    return ls.sort((a, b) => b.raw.status().hardState.term - a.raw.status().hardState.term)[0]?.id;
  }

  /** One status line per node. */
  state(): void {
    for (const id of [...this.nodes.keys()].sort()) {
      const s = this.node(id).raw.status();
      this.log(
        `  ${id}: ${s.softState.role} term=${s.hardState.term} lead=${s.softState.leader || '-'} commit=${s.hardState.commit} applied=${s.applied} last=${s.lastIndex}`,
      );
    }
  }

  /** The applied FSM contents as a string (for comparing nodes). */
  fsm(id: NodeId): string {
    return this.node(id).applied.map((a) => a.data).join(',');
  }

  /** Compare the transcript with testdata/<name>.txt (UPDATE_TRANSCRIPTS=1 rewrites it). */
  check(name: string): void {
    checkGolden(join(import.meta.dirname, 'testdata', `${name}.txt`), this.out, `transcript ${name}`);
  }
}

function fmtEntry(e: Entry): string {
  if (e.type === 'normal') return `${e.index}/${e.term} ${dec.decode(e.data)}`;
  if (e.type === 'noop') return `${e.index}/${e.term} noop`;
  const cc = decodeConfChange(e.data);
  return `${e.index}/${e.term} ${cc.ok ? `${cc.value.type}(${cc.value.nodeId})` : 'badConf'}`;
}

export function fmtEntries(es: readonly Entry[]): string {
  return `[${es.map(fmtEntry).join(', ')}]`;
}

export function fmtMsg(m: Message): string {
  const h = `${m.from}->${m.to} ${m.type} t${m.term}`;
  switch (m.type) {
    case 'appendEntries':
      return `${h} prev=${m.prevIndex}/${m.prevTerm} commit=${m.commit} ${fmtEntries(m.entries)}`;
    case 'appendEntriesResponse':
      return m.reject ? `${h} reject index=${m.index} hint=${m.rejectHint}/${m.hintTerm}` : `${h} index=${m.index}`;
    case 'heartbeat':
      return `${h} commit=${m.commit}${m.context ? ` ctx=${m.context}` : ''}`;
    case 'heartbeatResponse':
      return `${h}${m.context ? ` ctx=${m.context}` : ''}`;
    case 'requestVote':
    case 'requestPreVote':
      return `${h} last=${m.lastLogIndex}/${m.lastLogTerm}${m.transfer ? ' transfer' : ''}`;
    case 'requestVoteResponse':
    case 'requestPreVoteResponse':
      return `${h}${m.reject ? ` reject${m.commit !== undefined ? ` commit=${m.commit}/${m.commitTerm}` : ''}` : ' grant'}`;
    case 'installSnapshot':
      return `${h} snap=${m.meta.index}/${m.meta.term} bytes=${m.offset}..${m.offset + m.data.length}/${m.totalSize}${m.done ? ' done' : ''}`;
    case 'installSnapshotResponse':
      return `${h} snap=${m.snapshotIndex} received=${m.received}${m.reject ? ' reject' : ''}`;
    case 'timeoutNow':
      return h;
    case 'readIndex':
      return `${h} ctx=${m.context}`;
    case 'readIndexResponse':
      return `${h} ctx=${m.context} index=${m.index}`;
  }
}
