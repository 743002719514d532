import type { ErrorReportEvent, HealthcheckFailedEvent, QuiescingCompleteEvent } from '../amf/commands.js';
import type { PresenceState, Recovery } from '../model/vocabulary.js';
import type { CompKind, HealthcheckConfig } from '../model/types.js';
import { within, type Clock, type TimerHandle } from '../runtime/ports/clock.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { ProcessRunner } from '../runtime/ports/process.js';
import { assert } from '../util/assert.js';
import { err, ok, type Result } from '../util/result.js';
import { clccliCwd, clcFailure, componentEnv, describeExit, resolveCommand, runScript, type ClcInterface } from './clccli.js';
import type { ComponentDriver, DriverHost, MigrateFailure, StartRequest, TerminateIntent, Veto } from './drivers/driver.js';
import type { DriverRegistry } from './drivers/registry.js';
import { componentHealthcheck, periodicHealthcheck, type Healthcheck, type Probe } from './healthcheck.js';
import type { CompEntry } from './inventory.js';
import type { Session } from './ipc-server.js';
import type { AgentSettings, CsiAssignment, InstantiateFailure } from './types.js';

/** What the agent reports on its own initiative (the engine's inputs of the same names). */
export type AgentFault = ErrorReportEvent | HealthcheckFailedEvent | QuiescingCompleteEvent;

/** The ports and shared services a component controller works with. */
export interface ComponentContext {
  readonly clock: Clock;
  readonly processes: ProcessRunner;
  readonly files: FileSystem;
  readonly settings: AgentSettings;
  readonly drivers: DriverRegistry;
  /** A fresh per-instantiation secret (hex). */
  newSecret(): string;
  healthcheckConfig(entry: CompEntry, key: string): HealthcheckConfig | undefined;
  fault(event: AgentFault): void;
  /** The CSI assignments of this component changed (for protection group tracking). */
  assignmentsChanged(entry: CompEntry): void;
}

function csiKey(si: string, csi: string): string {
  return `${si}/${csi}`;
}

/** A deferred value, settled once. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * One component on this node, on the AMF side: its presence state, its registration on the
 * component API, its healthchecks and CSI assignments. Its processes are its driver's business
 * (drivers/, one per kind). Operations are serialized; every monitor and healthcheck belongs to
 * one "generation" (one instantiation) so that a late event from a previous incarnation is never
 * reported against the current one.
 */
export class ComponentController {
  presence: PresenceState = 'uninstantiated';
  private generation = 0;
  private deathReported = -1;
  private secret: string | undefined;
  private session: Session | undefined;
  private sessionGone = deferred<void>();
  private registered = deferred<void>();
  private driver: ComponentDriver;
  /** The settings of the driver's kind (see DriverHost.kind). */
  private kind: CompKind;
  private readonly host: DriverHost;
  private readonly healthchecks = new Map<string, Healthcheck>();
  /** The CSI assignments held, by `si/csi` (CSI names are unique only within their SI). */
  private readonly csis = new Map<string, CsiAssignment>();
  /** Quiescing callbacks awaiting quiescing-complete, by invocation, each with its timeout. */
  private readonly quiescing = new Map<number, { readonly assignment: CsiAssignment; timer?: TimerHandle }>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Cuts short an instantiation in progress (waiting for a registration or a script). */
  private abortStart: ((reason: string) => void) | undefined;
  private readonly log: Logger;

  /** Use `create`: a component whose kind has no driver cannot be controlled. */
  private constructor(
    private current: CompEntry,
    private readonly ctx: ComponentContext,
    log: Logger,
  ) {
    this.log = log;
    this.kind = current.config.kind;
    const entry = (): CompEntry => this.current;
    const kind = (): CompKind => this.kind;
    this.host = {
      clock: ctx.clock,
      processes: ctx.processes,
      files: ctx.files,
      settings: ctx.settings,
      log,
      get entry() {
        return entry();
      },
      get kind() {
        return kind();
      },
      env: (iface, extra) => this.env(iface, extra),
    };
    this.driver = ctx.drivers.create(this.host);
  }

  static create(entry: CompEntry, ctx: ComponentContext, logger: Logger): Result<ComponentController, string> {
    const kind = entry.config.kind.type;
    if (!ctx.drivers.has(kind)) return err(`${entry.dn}: no driver for component kind "${kind}"`);
    return ok(new ComponentController(entry, ctx, logger.child({ comp: entry.dn })));
  }

  get entry(): CompEntry {
    return this.current;
  }

  /** A new configuration of the same component: it applies from the next operation on. */
  reconfigure(entry: CompEntry): void {
    assert(entry.dn === this.current.dn, `reconfigure ${this.current.dn} with ${entry.dn}`);
    this.current = entry;
    // A new kind takes over at the next instantiation; what runs now is stopped by its own driver.
    if (entry.config.kind.type === this.driver.kind) this.kind = entry.config.kind;
  }

  private get config() {
    return this.entry.config;
  }

  private get saAware(): boolean {
    return this.config.category === 'sa_aware';
  }

  /** The component's process, when the agent knows it (supervised child or pidfile). */
  get pid(): number | undefined {
    return this.driver.pid;
  }

  /** The CSI assignments held. */
  assignments(): CsiAssignment[] {
    return [...this.csis.values()];
  }

  /** The assignment of a CSI by name (the component API names CSIs without their SI): the first held. */
  assignmentOf(csi: string): CsiAssignment | undefined {
    for (const a of this.csis.values()) if (a.csi === csi) return a;
    return undefined;
  }

  get registeredSession(): Session | undefined {
    return this.session;
  }

  /** Run operations on this component one at a time. */
  private serialize<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------------ component API binding

  /** A registration with the per-instantiation secret. */
  register(session: Session, secret: string): Result<void, { code: 'not-owner' | 'bad-state' | 'already-registered'; message: string }> {
    if (this.secret === undefined || secret !== this.secret) {
      return err({ code: 'not-owner', message: `the secret does not match the current instantiation of ${this.entry.dn}` });
    }
    if (this.presence !== 'instantiating' && this.presence !== 'instantiated') {
      return err({ code: 'bad-state', message: `${this.entry.dn} is ${this.presence}, not instantiating` });
    }
    if (this.session && !this.session.closed) return err({ code: 'already-registered', message: `${this.entry.dn} is already registered on another connection` });
    this.session = session;
    this.sessionGone = deferred<void>();
    this.registered.resolve();
    this.log.info({ session: session.id }, 'component registered');
    return ok(undefined);
  }

  unregister(session: Session): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.sessionGone.resolve();
    this.log.info('component unregistered');
  }

  /** The component's connection closed. Unless we are stopping it, the component died (avaDown). */
  disconnected(session: Session): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.sessionGone.resolve();
    if (this.presence === 'instantiated') this.processDied('the component API connection closed without unregister');
  }

  // ------------------------------------------------------------------ faults

  /**
   * The component's process is gone. Reported once per incarnation: a supervised SA-aware child is
   * seen both by its exit and by its connection closing.
   */
  private processDied(reason: string): void {
    const gen = this.generation;
    if (this.deathReported === gen) return;
    this.deathReported = gen;
    this.stopMonitoring();
    this.log.warn({ reason, generation: gen }, 'component process died');
    this.ctx.fault({ kind: 'error-report', su: this.entry.su.name, comp: this.config.name, recovery: this.config.recoveryOnError, source: 'process-died', reason });
  }

  /** A death seen by the driver counts only for incarnation `gen`, and once it is instantiated. */
  private deathOf(gen: number): (reason: string) => void {
    return (reason) => {
      if (gen === this.generation && this.presence === 'instantiated') this.processDied(reason);
    };
  }

  reportError(recovery: Recovery, reason: string | undefined): void {
    this.ctx.fault({ kind: 'error-report', su: this.entry.su.name, comp: this.config.name, recovery, source: 'error-report', ...(reason === undefined ? {} : { reason }) });
  }

  // ------------------------------------------------------------------ operations

  /** `adopt`: it arrived by a live migration (see StartRequest.adopt). */
  instantiate(adopt?: string): Promise<Result<void, InstantiateFailure>> {
    return this.serialize(async () => {
      if (this.presence === 'instantiated') return ok(undefined);
      // A component whose kind changed is stopped by now: it starts with its new kind's driver.
      const kind = this.config.kind;
      const changed = kind.type !== this.driver.kind;
      if (changed && !this.ctx.drivers.has(kind.type)) return err({ reason: `no driver for component kind "${kind.type}"`, noRetry: true });
      this.kind = kind;
      if (changed) this.driver = this.ctx.drivers.create(this.host);
      this.clearAssignments();
      const gen = this.beginIncarnation('instantiating');
      const started = await this.driver.instantiate({ ...this.startRequest(gen), ...(adopt === undefined ? {} : { adopt }) });
      if (started.ok && gen === this.generation) {
        this.presence = 'instantiated';
        this.driver.monitor(this.deathOf(gen));
        this.log.info('component instantiated');
        return ok(undefined);
      }
      const failure = started.ok ? { reason: 'superseded by another operation', noRetry: false } : started.error;
      this.log.warn({ reason: failure.reason }, 'instantiation attempt failed; cleaning up');
      const cleaned = await this.stop('cleanup', 'instantiation-failed');
      this.presence = cleaned.ok ? 'uninstantiated' : 'termination-failed';
      return err(failure);
    });
  }

  /** Stop gracefully; falls back to cleanup when terminate fails or times out. */
  terminate(): Promise<Result<void, string>> {
    return this.serialize(async () => {
      const graceful = await this.stop('terminate', 'terminate');
      if (graceful.ok) return this.finish(graceful);
      this.log.warn({ reason: graceful.error }, 'terminate failed; cleaning up');
      return this.finish(await this.stop('cleanup', 'terminate-failed'));
    });
  }

  /**
   * Cleanup does not queue behind a hung component: it cuts short the callbacks in flight and an
   * instantiation in progress, so the abrupt stop runs as soon as those have unwound.
   */
  cleanup(reason: string): Promise<Result<void, string>> {
    this.session?.failPending();
    this.abortStart?.(`cut short by cleanup (${reason})`);
    return this.serialize(async () => this.finish(await this.stop('cleanup', reason)));
  }

  /**
   * Move the component live to node `to`: stop watching it here, migrate it, then forget it here
   * without stopping it (it runs there). A migration that did not happen watches it again; one
   * that lost it leaves it to the AMF's recovery (a cleanup here finds nothing to stop).
   */
  migrate(to: string): Promise<Result<{ readonly uuid: string }, MigrateFailure>> {
    return this.serialize(async () => {
      const migrate = this.driver.migrate?.bind(this.driver);
      if (!migrate) return err({ reason: `a ${this.driver.kind} component cannot migrate`, lost: false });
      if (this.presence !== 'instantiated') return err({ reason: `it is ${this.presence}, not instantiated`, lost: false });
      const gen = this.generation;
      this.stopMonitoring();
      const r = await migrate(to);
      if (r.ok) {
        this.beginIncarnation('uninstantiated');
        this.clearAssignments();
        this.log.info({ to }, 'component migrated: it runs on the destination now');
      } else if (!r.error.lost && gen === this.generation) {
        this.driver.monitor(this.deathOf(gen));
        this.log.warn({ to, reason: r.error.reason }, 'migration failed: the component still runs here');
      } else this.log.error({ to, reason: r.error.reason }, 'component lost in its migration');
      return r;
    });
  }

  /** The driver's vote on an operation that would terminate the component (undefined: go ahead). */
  preTerminate(intent: TerminateIntent): Promise<Veto | undefined> {
    return this.driver.preTerminate?.(intent) ?? Promise.resolve(undefined);
  }

  private finish(r: Result<void, string>): Result<void, string> {
    this.presence = r.ok ? 'uninstantiated' : 'termination-failed';
    this.log.info({ presence: this.presence, reason: r.ok ? undefined : r.error }, r.ok ? 'component stopped' : 'component could not be stopped');
    return r;
  }

  csiSet(assignment: CsiAssignment): Promise<Result<void, string>> {
    return this.serialize(async () => {
      if (this.presence !== 'instantiated') return err(`${this.entry.dn} is ${this.presence}, not instantiated`);
      if (this.saAware) {
        const session = this.session;
        if (!session) return err(`${this.entry.dn} is not registered on the component API`);
        const attributes: Record<string, string> = {};
        for (const a of assignment.attributes) if (!(a.name in attributes)) attributes[a.name] = a.value;
        const { invocation, outcome, message } = session.invoke(
          {
            type: 'csi-set',
            si: assignment.si,
            csi: assignment.csi,
            csiType: assignment.csiType,
            haState: assignment.haState,
            attributes,
            attributeList: assignment.attributes.map((a) => ({ name: a.name, value: a.value })),
          },
          this.ctx.settings.callbackTimeoutMs,
        );
        this.forgetQuiescing(assignment.si, assignment.csi);
        if (assignment.haState === 'quiescing') this.quiescing.set(invocation, { assignment });
        const o = await outcome;
        if (o !== 'ok') {
          this.quiescing.delete(invocation);
          const why = o === 'failed' ? await message : undefined;
          return err(`CSI set ${assignment.csi} ${assignment.haState}: ${o === 'failed' ? `the component answered FAILED${why ? `: ${why}` : ''}` : o}`);
        }
        this.armQuiescingTimeout(invocation);
      }
      if (this.driver.csiSet) {
        const d = await this.driver.csiSet(assignment);
        if (!d.ok) return d;
      }
      this.csis.set(csiKey(assignment.si, assignment.csi), assignment);
      this.ctx.assignmentsChanged(this.entry);
      // A non-SA-aware component cannot be asked to finish its work: nobody would ever confirm its
      // quiescing, so the agent does at once (its process is stopped by what follows the shutdown).
      if (!this.saAware && assignment.haState === 'quiescing') this.quiesced(assignment);
      return ok(undefined);
    });
  }

  private quiesced(a: CsiAssignment): void {
    this.ctx.fault({ kind: 'quiescing-complete', su: this.entry.su.name, comp: this.config.name, si: a.si, csi: a.csi });
  }

  /** An SA-aware component that accepted `quiescing` has quiescing_complete_timeout to confirm it. */
  private armQuiescingTimeout(invocation: number): void {
    const q = this.quiescing.get(invocation);
    if (!q) return;
    const ms = this.config.quiescingCompleteTimeoutMs;
    q.timer = this.ctx.clock.setTimer(ms, () => {
      if (this.quiescing.get(invocation) !== q) return;
      this.quiescing.delete(invocation);
      this.log.warn({ csi: q.assignment.csi, timeoutMs: ms }, 'no quiescing-complete within the timeout');
      this.reportError(this.config.recoveryOnError, `no quiescing-complete for ${q.assignment.si}/${q.assignment.csi} within ${ms} ms`);
    });
  }

  /** A new HA state or a removal of a CSI ends any quiescing of it still awaited. */
  private forgetQuiescing(si: string, csi: string): void {
    for (const [invocation, q] of this.quiescing) {
      if (q.assignment.si !== si || q.assignment.csi !== csi) continue;
      q.timer?.cancel();
      this.quiescing.delete(invocation);
    }
  }

  csiRemove(si: string, csi: string): Promise<Result<void, string>> {
    return this.serialize(async () => {
      let r: Result<void, string> = ok(undefined);
      const key = csiKey(si, csi);
      this.forgetQuiescing(si, csi);
      if (this.saAware && this.session && this.csis.has(key)) {
        const o = await this.session.invoke({ type: 'csi-remove', si, csi }, this.ctx.settings.callbackTimeoutMs).outcome;
        if (o !== 'ok') r = err(`CSI remove ${csi}: ${o}`);
      }
      if (this.driver.csiRemove && this.csis.has(key)) {
        const d = await this.driver.csiRemove(si, csi);
        if (!d.ok && r.ok) r = d;
      }
      if (this.csis.delete(key)) this.ctx.assignmentsChanged(this.entry);
      return r;
    });
  }

  quiescingComplete(invocation: number, healthy: boolean): boolean {
    const q = this.quiescing.get(invocation);
    if (!q) return false;
    q.timer?.cancel();
    this.quiescing.delete(invocation);
    if (healthy) this.quiesced(q.assignment);
    else this.reportError('no-recommendation', `quiescing of ${q.assignment.csi} failed`);
    return true;
  }

  /**
   * External active monitoring (EAM): run the AM_START / AM_STOP CLC-CLI (admin ops eam-start /
   * eam-stop), with the instantiate / terminate timeout. Any kind of component may have them.
   */
  activeMonitor(iface: 'am_start' | 'am_stop'): Promise<Result<void, string>> {
    return this.serialize(async () => {
      const c = this.config;
      const command = iface === 'am_start' ? c.amStart : c.amStop;
      if (command === undefined) return err(`no ${iface} command is configured for ${this.entry.dn}`);
      const argv = resolveCommand(this.ctx.files, command, c.clccliPath, iface);
      if (!argv.ok) return argv;
      const timeoutMs = iface === 'am_start' ? c.instantiateTimeoutMs : c.terminateTimeoutMs;
      const o = await runScript(this.ctx.processes, this.log, { argv: argv.value, env: this.env(iface), timeoutMs, killGraceMs: this.ctx.settings.killGraceMs, ...clccliCwd(c.clccliPath) });
      if (o.kind === 'spawn-failed') return err(o.reason);
      return o.exit.code === 0 ? ok(undefined) : err(clcFailure(`${iface} ${describeExit(o.exit)}`, o.exit));
    });
  }

  // ------------------------------------------------------------------ healthchecks

  /**
   * Start a configured healthcheck. `invocation` overrides the configured one (the component
   * chooses it in saAmfHealthcheckStart). A driver that probes every key (OCF: its monitor action)
   * runs its own probe whatever the invocation.
   */
  startHealthcheck(key: string, recovery: Recovery, invocation?: 'amf' | 'component'): Result<void, { code: 'unknown-key' | 'exists' | 'bad-state'; message: string }> {
    const hc = this.ctx.healthcheckConfig(this.entry, key);
    if (!hc) return err({ code: 'unknown-key', message: `no healthcheck '${key}' is configured for ${this.entry.dn}` });
    if (this.healthchecks.has(key)) return err({ code: 'exists', message: `healthcheck '${key}' is already running` });
    if (this.presence !== 'instantiated' && this.presence !== 'instantiating') return err({ code: 'bad-state', message: `${this.entry.dn} is ${this.presence}` });
    const gen = this.generation;
    const onFailure = (reason: string): void => {
      if (gen !== this.generation || this.healthchecks.get(key) !== check) return;
      this.healthchecks.delete(key);
      this.log.warn({ key, reason }, 'healthcheck failed');
      this.ctx.fault({ kind: 'healthcheck-failed', su: this.entry.su.name, comp: this.config.name, key, recovery });
    };
    const mode = this.driver.probesEveryKey ? 'command' : (invocation ?? hc.invocation);
    let check: Healthcheck;
    if (mode === 'component') {
      check = componentHealthcheck(this.ctx.clock, hc.periodMs, onFailure);
    } else {
      const probe = mode === 'amf' ? this.callbackProbe(key, hc.maximumDurationMs) : this.driver.commandProbe(hc);
      if (!probe.ok) return err({ code: 'bad-state', message: probe.error });
      check = periodicHealthcheck(this.ctx.clock, hc.periodMs, hc.maximumDurationMs, probe.value, onFailure);
    }
    this.healthchecks.set(key, check);
    this.log.info({ key, mode, periodMs: hc.periodMs }, 'healthcheck started');
    return ok(undefined);
  }

  stopHealthcheck(key: string): boolean {
    const hc = this.healthchecks.get(key);
    if (!hc) return false;
    hc.stop();
    this.healthchecks.delete(key);
    return true;
  }

  confirmHealthcheck(key: string, healthy: boolean): boolean {
    return this.healthchecks.get(key)?.confirm(healthy) ?? false;
  }

  private callbackProbe(key: string, maxDurationMs: number): Result<Probe, string> {
    if (!this.saAware) return err(`AMF-invoked healthcheck '${key}' needs an SA-aware component`);
    return ok(async () => {
      const session = this.session;
      if (!session) return { healthy: false, reason: 'the component is not registered' };
      const o = await session.invoke({ type: 'healthcheck', key }, maxDurationMs).outcome;
      return o === 'ok' ? { healthy: true } : { healthy: false, reason: `healthcheck callback: ${o}` };
    });
  }

  // ------------------------------------------------------------------ internals

  /** A new incarnation: stop everything of the previous one and forget its assignments. */
  private beginIncarnation(presence: PresenceState): number {
    this.stopMonitoring();
    this.generation += 1;
    this.presence = presence;
    this.secret = presence === 'instantiating' ? this.ctx.newSecret() : undefined;
    this.registered = deferred<void>();
    for (const q of this.quiescing.values()) q.timer?.cancel();
    this.quiescing.clear();
    return this.generation;
  }

  /** Forget the CSI assignments (kept through stop scripts, which see their attributes). */
  private clearAssignments(): void {
    if (this.csis.size === 0) return;
    this.csis.clear();
    this.ctx.assignmentsChanged(this.entry);
  }

  private stopMonitoring(): void {
    this.driver.stopMonitoring();
    for (const hc of this.healthchecks.values()) hc.stop();
    this.healthchecks.clear();
  }

  /**
   * The CSI attributes a non-SA-aware component's scripts see: those of the CSIs it holds; before
   * it holds any (its INSTANTIATE), those of the one CSI of its group it can take, when there is
   * exactly one (so the common 2N / no-redundancy service gets its attributes at start).
   */
  private csiAttributes(): CsiAssignment['attributes'] {
    if (this.csis.size > 0) return [...this.csis.values()].flatMap((a) => a.attributes);
    const types = this.config.csiTypes;
    const candidates = this.entry.sg.sis.flatMap((si) => si.csis).filter((csi) => types.includes(csi.typeName));
    return candidates.length === 1 ? candidates[0]!.attributes : [];
  }

  private env(iface: ClcInterface, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
    const csiAttributes = this.csiAttributes();
    return componentEnv(this.entry, { base: this.ctx.settings.baseEnv, iface, csiAttributes, extra: { ...this.driver.env?.(), ...extra } });
  }

  /** What the driver is given to start incarnation `gen` (SA-aware: the socket and secret, the registration). */
  private startRequest(gen: number): StartRequest {
    const saAware = this.saAware;
    return {
      saAware,
      extra: saAware ? { AMF_COMPONENT_SOCKET: this.ctx.settings.socketPath, AMF_COMPONENT_SECRET: this.secret ?? '' } : {},
      died: this.deathOf(gen),
      onAbort: (cut) => {
        this.abortStart = cut;
        return () => {
          if (this.abortStart === cut) this.abortStart = undefined;
        };
      },
      registration: (failed) => this.awaitRegistration(gen, failed),
    };
  }

  /** Success when the component registers within its instantiate timeout; failure on `failure`. */
  private awaitRegistration(gen: number, failure: Promise<string>): Promise<Result<void, InstantiateFailure>> {
    const timeoutMs = this.config.instantiateTimeoutMs;
    return new Promise((resolve) => {
      const settle = (r: Result<void, InstantiateFailure>): void => {
        timer.cancel();
        this.abortStart = undefined;
        resolve(r);
      };
      const fail = (reason: string): void => settle(err({ reason, noRetry: false }));
      const timer = this.ctx.clock.setTimer(timeoutMs, () => fail(`no registration within the instantiate timeout (${timeoutMs} ms)`));
      this.abortStart = fail;
      void this.registered.promise.then(() => (gen === this.generation ? settle(ok(undefined)) : fail('superseded')));
      void failure.then(fail);
    });
  }

  /**
   * terminate: the graceful way (terminate callback for SA-aware components, else the driver's
   * terminate: TERMINATE CLI, SIGTERM, OCF stop); cleanup: the abrupt way (the driver's cleanup).
   */
  private async stop(how: 'terminate' | 'cleanup', reason: string): Promise<Result<void, string>> {
    // What the component may leave behind, taken before the stop forgets it.
    const leftovers = this.driver.leftovers();
    this.beginIncarnation('terminating');
    const c = this.config;
    const timeoutMs = how === 'terminate' ? c.terminateTimeoutMs : c.cleanupTimeoutMs;
    let r: Result<void, string>;
    if (how === 'terminate' && this.saAware && this.session) {
      const o = await this.session.invoke({ type: 'terminate' }, timeoutMs).outcome;
      r = o === 'ok' || o === 'disconnected' ? await this.waitGone(timeoutMs) : err(`terminate callback: ${o}`);
    } else {
      r = how === 'terminate' ? await this.driver.terminate(timeoutMs) : await this.driver.cleanup(reason, timeoutMs);
    }
    leftovers.kill(how);
    this.dropSession();
    this.clearAssignments();
    return r;
  }

  /** After a terminate callback: the component should go away by itself within the timeout. */
  private async waitGone(timeoutMs: number): Promise<Result<void, string>> {
    const gone = this.driver.awaitExit?.(timeoutMs) ?? within(this.ctx.clock, this.sessionGone.promise.then(() => true), timeoutMs, false);
    if (await gone) return ok(undefined);
    return err(`still running ${timeoutMs} ms after the terminate callback`);
  }

  private dropSession(): void {
    const s = this.session;
    this.session = undefined;
    this.sessionGone.resolve();
    s?.close();
  }
}
