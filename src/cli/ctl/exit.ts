/** amfctl's exit statuses (docs/api.md lists them for scripts). */
export const EXIT = {
  /** Done; for diff-like commands: no changes. */
  ok: 0,
  /** The cluster refused: invalid config, an operation not valid in the current state, no such entity. */
  refused: 1,
  /** Bad arguments or an unreadable local file. */
  usage: 2,
  /** The node could not be reached, or it is unavailable (no leader, shutting down). */
  unreachable: 3,
  /** The token was missing or wrong. */
  unauthorized: 4,
  /** The config changed since it was read (stale epoch): read it again and redo the change. */
  conflict: 5,
  /** The operator answered no, or gave up an edit. */
  aborted: 6,
  /** An admin operation was committed but failed, or had not taken effect within --timeout. */
  failed: 7,
} as const;
