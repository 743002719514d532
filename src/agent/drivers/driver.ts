/**
 * How the agent runs one kind of component (CLC-CLI scripts, a supervised command, an OCF agent,
 * later a VM): the ComponentDriver. The component controller (component.ts) keeps the AMF side:
 * presence state, incarnations, the component API registration, CSI assignments, healthcheck
 * supervision, error reports. It calls the driver for whatever touches the component's own
 * processes. One driver object serves one component; registry.ts makes it for the component's kind.
 */
import type { HealthcheckConfig, CompKind } from '../../model/types.js';
import type { Clock } from '../../runtime/ports/clock.js';
import type { FileSystem } from '../../runtime/ports/files.js';
import type { Logger } from '../../runtime/ports/observability.js';
import type { ProcessRunner } from '../../runtime/ports/process.js';
import { assert } from '../../util/assert.js';
import type { Result } from '../../util/result.js';
import type { ClcInterface } from '../clccli.js';
import type { Probe } from '../healthcheck.js';
import type { CompEntry } from '../inventory.js';
import type { AgentSettings, CsiAssignment, InstantiateFailure } from '../types.js';

export type KindName = CompKind['type'];
export type KindConfig<N extends KindName> = Extract<CompKind, { readonly type: N }>;

/** What the controller lends a driver: the ports, the component's configuration, its environment. */
export interface DriverHost<K extends CompKind = CompKind> {
  readonly clock: Clock;
  readonly processes: ProcessRunner;
  readonly files: FileSystem;
  readonly settings: AgentSettings;
  readonly log: Logger;
  /** The component's configuration now: a reconfiguration applies from the next operation on. */
  readonly entry: CompEntry;
  /**
   * The kind's own settings. They follow reconfigurations of the same kind; a component whose kind
   * changed keeps its driver, and these settings, until it is next instantiated.
   */
  readonly kind: K;
  /** The environment of one of the component's scripts or processes (openais variables, CSI attributes, extras). */
  env(iface: ClcInterface, extra?: Readonly<Record<string, string>>): Record<string, string>;
}

export interface StartRequest {
  /** The component is SA-aware: it becomes instantiated when it registers on the component API. */
  readonly saAware: boolean;
  /** Variables for an SA-aware component's process (socket path, per-instantiation secret). */
  readonly extra: Readonly<Record<string, string>>;
  /**
   * What was started died after instantiation. The controller reports it once, and only while this
   * incarnation is the current one and instantiated, so a driver may call it at any time.
   */
  readonly died: (reason: string) => void;
  /**
   * How to cut this start short (a cleanup of a component hung in its instantiation); call the
   * function returned once the start is past the point where it could hang.
   */
  readonly onAbort: (cut: () => void) => () => void;
  /**
   * For an SA-aware component whose process is started: what the driver returns, resolving once
   * the component registers on the component API within its instantiate timeout, or failing with
   * the reason `failed` gives if that comes first (its process died, its script failed).
   */
  readonly registration: (failed: Promise<string>) => Promise<Result<void, InstantiateFailure>>;
  /**
   * The component arrived here by a live migration: take over what runs (a vm component: the
   * domain of this UUID), never start it; not running is a failure.
   */
  readonly adopt?: string;
}

/** A live migration that did not happen; `lost`: gone from here and not running there either. */
export interface MigrateFailure {
  readonly reason: string;
  readonly lost: boolean;
}

/** What an incarnation may leave running, taken when a stop begins; killed once the stop is done. */
export interface Leftovers {
  /** cleanup: SIGKILL at once; terminate: SIGTERM, then SIGKILL after the kill grace. */
  kill(how: 'terminate' | 'cleanup'): void;
}

/** Why an operation that would terminate a component must not go ahead. */
export interface Veto {
  /** Who refused (a driver kind, a node service). */
  readonly by: string;
  readonly reason: string;
}

/**
 * An operation about to terminate a component on purpose (not a recovery: recoveries are never
 * voted on). `move`: it is stopped here to run elsewhere (switchover, migration).
 */
export interface TerminateIntent {
  readonly action: 'stop' | 'restart' | 'move';
  readonly reason: string;
}

export interface ComponentDriver {
  readonly kind: KindName;
  /** The component's main process, when the driver knows it. */
  readonly pid: number | undefined;

  /** Start one incarnation of the component: ok once it runs (an SA-aware one: see StartRequest.registration). */
  instantiate(req: StartRequest): Promise<Result<void, InstantiateFailure>>;
  /** Passive monitoring once instantiated: report a death through `died` (the StartRequest's). */
  monitor(died: (reason: string) => void): void;
  /** Stop watching (a new incarnation begins, or a stop). Idempotent. */
  stopMonitoring(): void;
  /** Take what the current incarnation may leave behind, before a stop forgets it. */
  leftovers(): Leftovers;
  /** The graceful stop (a non-SA-aware component, or an SA-aware one not registered). */
  terminate(timeoutMs: number): Promise<Result<void, string>>;
  /** The abrupt stop; must be idempotent (it also runs for components this agent never started). */
  cleanup(reason: string, timeoutMs: number): Promise<Result<void, string>>;
  /**
   * After an SA-aware component accepted its terminate callback: true once the process the driver
   * supervises has exited (false at the timeout). Absent or undefined: the driver supervises none,
   * and the controller waits for the component API connection to close instead.
   */
  awaitExit?(timeoutMs: number): Promise<boolean> | undefined;

  /** Run every healthcheck key as this kind's own probe, whatever invocation is configured (OCF monitor). */
  readonly probesEveryKey: boolean;
  /** The probe of a command healthcheck (`invocation = command`, or every key when probesEveryKey). */
  commandProbe(hc: HealthcheckConfig): Result<Probe, string>;
  /** Variables every script and process of this kind gets (OCF_*). */
  env?(): Readonly<Record<string, string>>;

  /** Called once the component (an SA-aware one: its callback) accepted a CSI, before it is recorded. */
  csiSet?(assignment: CsiAssignment): Promise<Result<void, string>>;
  /** Called after a CSI is removed from the component. */
  csiRemove?(si: string, csi: string): Promise<Result<void, string>>;
  /**
   * Move the running component live to node `to` (monitoring is stopped first); ok once it runs
   * there, with what the destination adopts (StartRequest.adopt). Absent: the kind cannot.
   */
  migrate?(to: string): Promise<Result<{ readonly uuid: string }, MigrateFailure>>;
  /** Asked before an operation terminates the component on purpose; a veto stops the operation. */
  preTerminate?(intent: TerminateIntent): Promise<Veto | undefined>;
}

/** Makes the driver of one component of its kind. */
export interface DriverFactory {
  readonly kind: KindName;
  create(host: DriverHost): ComponentDriver;
}

/** A factory for kind N, whose drivers see their kind's own settings typed. */
export function defineDriver<N extends KindName>(kind: N, create: (host: DriverHost<KindConfig<N>>) => ComponentDriver): DriverFactory {
  return {
    kind,
    create(host) {
      const k = host.kind;
      assert(k.type === kind, `a ${k.type} component given to the ${kind} driver`);
      // The host's kind is checked above; DriverHost reads it through a getter, so it stays that kind
      // until the controller swaps drivers (component.ts instantiate).
      return create(host as DriverHost<KindConfig<N>>);
    },
  };
}
