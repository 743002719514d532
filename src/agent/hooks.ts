/**
 * What the node agent lends the node services (src/cluster/node-service.ts): error reports on
 * its components, a view of them, and a say before one is terminated on purpose.
 */
import type { PresenceState, Recovery } from '../model/vocabulary.js';
import type { Result } from '../util/result.js';
import type { TerminateIntent, Veto } from './drivers/driver.js';
import type { CompEntry } from './inventory.js';
import type { PgMember } from './protocol.js';
import type { CsiAssignment } from './types.js';

/** A component this agent runs or has run. */
export interface LocalComponent {
  /** Its configuration and place in the model (entry.dn is its name on the component API). */
  readonly entry: CompEntry;
  readonly presence: PresenceState;
  readonly pid: number | undefined;
  readonly assignments: readonly CsiAssignment[];
}

/** Asked with the driver before an operation terminates `comp` on purpose; any veto wins. */
export type PreTerminateHook = (comp: CompEntry, intent: TerminateIntent) => Promise<Veto | undefined>;

export interface AgentHooks {
  /**
   * An error report on a component of this agent, as the component itself would make it
   * (`source: error-report`); the reason should name the service. Refused for a component this
   * agent does not run.
   */
  reportError(su: string, comp: string, recovery: Recovery, reason: string): Result<void, string>;
  /** The components this agent runs or has run, with their presence and assignments. */
  components(): readonly LocalComponent[];
  /** Add a pre-terminate vote; returns the function that removes it. */
  onPreTerminate(hook: PreTerminateHook): () => void;
  /**
   * Where protection groups come from: the cluster's replicated state (every member on every
   * node) instead of this agent's own components. Call `protectionGroupsChanged` when it changes.
   */
  setProtectionGroups(members: (csi: string) => readonly PgMember[]): void;
  /** The source changed: trackers get their `pg-update`s. */
  protectionGroupsChanged(): void;
  /**
   * Ask the component's driver and every pre-terminate vote (the cluster does, before it commits an
   * admin operation that would stop, restart or move it); the first veto wins, undefined: go ahead.
   */
  preTerminate(su: string, comp: string, intent: TerminateIntent): Promise<Result<Veto | undefined, string>>;
}
