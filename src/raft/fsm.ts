/**
 * The replicated state machine, as hashicorp/raft's FSM: `apply` is deterministic and sees every
 * committed command exactly once, in log order; `snapshot` captures a point-in-time view quickly
 * (its `persist` may run while later entries are applied); `restore` replaces all state.
 */
export interface FSM {
  apply(entry: AppliedEntry): unknown;
  snapshot(): FSMSnapshot;
  restore(data: Uint8Array): void;
}

export interface AppliedEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export interface FSMSnapshot {
  /** Serialise the captured state. */
  persist(): Uint8Array | Promise<Uint8Array>;
  /** Always called once the snapshot is written or abandoned. */
  release(): void;
}
