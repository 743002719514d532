import type { BlobStore, DurableStore } from '../../runtime/ports/storage.js';
import { assert } from '../../util/assert.js';
import type { Entry, HardState, RaftLogStorage, Snapshot } from '../core/types.js';
import { packr } from './codec.js';
import { DurableLogStore, type LogStore } from './log-store.js';
import { BlobSnapshotStore, type SnapshotStore } from './snapshot-store.js';
import { DurableStableStore, type StableStore } from './stable-store.js';
import { StagedStore } from './staged-store.js';

const EMPTY_SNAPSHOT: Snapshot = { meta: { index: 0, term: 0, confState: { voters: [], learners: [] } }, data: new Uint8Array(0) };
const HARD_STATE_KEY = 'hardState';

/**
 * The node's durable Raft state (log, hard state, latest snapshot), seen by the core through the
 * synchronous RaftLogStorage interface. Mutations are visible at once and durable after `sync()`;
 * the driver stages a whole Ready and syncs once (group commit), before sending anything.
 *
 * The membership the core starts from is the latest snapshot's; committed configuration entries
 * after it are applied again on start, like every other entry (bootstrap writes the initial
 * membership as committed configuration entries).
 */
export class RaftStorage implements RaftLogStorage {
  private constructor(
    readonly log: LogStore,
    readonly stable: StableStore,
    readonly snapshots: SnapshotStore,
    private current: Snapshot,
  ) {}

  static async open(durable: DurableStore, blobs: BlobStore): Promise<RaftStorage> {
    const store = new StagedStore(durable);
    const log = new DurableLogStore(store);
    const stable = new DurableStableStore(store);
    const snapshots = new BlobSnapshotStore(blobs);
    const snap = (await snapshots.latest()) ?? EMPTY_SNAPSHOT;
    const s = new RaftStorage(log, stable, snapshots, snap);
    s.reconcile();
    return s;
  }

  /**
   * A crash between saving a snapshot and trimming the log leaves the log behind the snapshot (or
   * disagreeing with it): the snapshot is durable and committed, so it wins.
   */
  private reconcile(): void {
    const { index, term } = this.current.meta;
    if (index === 0) return;
    const covered = index <= this.log.lastIndex() && this.termOrUndefined(index) === term;
    // When covered, the entries up to the snapshot simply stay as trailing logs.
    if (!covered) this.log.resetTo(index, term);
    const hs = this.hardState();
    if (hs.commit < index) this.setHardState({ ...hs, commit: index });
  }

  /** True when nothing was ever stored: bootstrap is allowed. */
  hasExistingState(): boolean {
    return this.current.meta.index > 0 || this.log.lastIndex() > 0 || this.stable.get(HARD_STATE_KEY) !== undefined;
  }

  hardState(): HardState {
    const raw = this.stable.get(HARD_STATE_KEY);
    if (!raw) return { term: 0, vote: '', commit: 0 };
    const v = packr.unpack(raw) as HardState;
    assert(Number.isSafeInteger(v.term) && typeof v.vote === 'string' && Number.isSafeInteger(v.commit), 'raft storage: corrupt hard state');
    return { term: v.term, vote: v.vote, commit: v.commit };
  }

  setHardState(hs: HardState): void {
    this.stable.set(HARD_STATE_KEY, packr.pack({ term: hs.term, vote: hs.vote, commit: hs.commit }));
  }

  /** Make `snap` the current snapshot after it was saved durably; trailing logs are kept by compact(). */
  setSnapshot(snap: Snapshot): void {
    assert(snap.meta.index >= this.current.meta.index, 'raft storage: snapshot goes backwards');
    this.current = snap;
  }

  /** A snapshot from the leader replaces the whole log. */
  installSnapshot(snap: Snapshot): void {
    this.setSnapshot(snap);
    this.log.resetTo(snap.meta.index, snap.meta.term);
  }

  /** Drop log entries up to `index` (the core's compact() result). */
  compactTo(index: number): void {
    if (index < this.log.firstIndex()) return;
    this.log.compactTo(index, this.term(index));
  }

  sync(): Promise<void> {
    return this.log.sync();
  }

  // RaftLogStorage -------------------------------------------------------------------------

  initialState(): { hardState: HardState } {
    return { hardState: this.hardState() };
  }

  entries(lo: number, hi: number): Entry[] {
    return this.log.getLogs(lo, hi);
  }

  term(i: number): number {
    const t = this.termOrUndefined(i);
    assert(t !== undefined, `raft storage: term(${i}) outside [${this.log.firstIndex() - 1}, ${this.log.lastIndex()}]`);
    return t;
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  snapshot(): Snapshot {
    return this.current;
  }

  private termOrUndefined(i: number): number | undefined {
    if (i === this.log.firstIndex() - 1) return this.log.prevTerm();
    if (i === this.current.meta.index) return this.current.meta.term;
    return this.log.getLog(i)?.term;
  }
}
