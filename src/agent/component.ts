import type { ErrorReportEvent, HaState, HealthcheckFailedEvent, PresenceState, QuiescingCompleteEvent } from '../amf/commands.js';
import type { HealthcheckConfig, Recovery } from '../model/types.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { ProcessRunner, RunningProcess } from '../runtime/ports/process.js';
import { assert } from '../util/assert.js';
import { err, ok, type Result } from '../util/result.js';
import { componentEnv, describeExit, resolveCommand, runScript, startScript, type ClcInterface } from './clccli.js';
import { componentHealthcheck, periodicHealthcheck, type Healthcheck, type Probe } from './healthcheck.js';
import type { CompEntry } from './inventory.js';
import type { Session } from './ipc-server.js';
import { watchPidfile, type PidWatch } from './monitor.js';
import { ocfAgentPath, ocfEnv, ocfMeaning, ocfMonitorHealthy, OCF_SUCCESS, type OcfAction } from './ocf.js';

/** What the agent reports on its own initiative (the engine's inputs of the same names). */
export type AgentFault = ErrorReportEvent | HealthcheckFailedEvent | QuiescingCompleteEvent;

export interface AgentSettings {
  /** The component API socket path, handed to SA-aware components in AMF_COMPONENT_SOCKET. */
  readonly socketPath: string;
  /** The environment every script and component inherits (PATH included). */
  readonly baseEnv: Readonly<Record<string, string>>;
  readonly ocfRoot: string;
  /** Grace between SIGTERM and SIGKILL when a script times out. */
  readonly killGraceMs: number;
  /** Passive monitoring poll period for pidfile processes. */
  readonly pollMs: number;
  /** How long a component has to answer a CSI set / remove callback. */
  readonly callbackTimeoutMs: number;
  /** Directories searched for the openais `openais_cleanup_<name>` pidfile. */
  readonly openaisPidDirs: readonly string[];
  /** Component API connections open at once; one more is answered `busy` and closed. */
  readonly apiMaxConnections: number;
  /** A component API connection not registered this long after it opened (or unregistered) is closed. */
  readonly apiRegisterTimeoutMs: number;
}

/** The ports and shared services a component controller works with. */
export interface ComponentContext {
  readonly clock: Clock;
  readonly processes: ProcessRunner;
  readonly files: FileSystem;
  readonly settings: AgentSettings;
  /** A fresh per-instantiation secret (hex). */
  newSecret(): string;
  healthcheckConfig(entry: CompEntry, key: string): HealthcheckConfig | undefined;
  fault(event: AgentFault): void;
  /** The CSI assignments of this component changed (for protection group tracking). */
  assignmentsChanged(entry: CompEntry): void;
}

export interface CsiAssignment {
  readonly si: string;
  readonly csi: string;
  readonly csiType: string;
  readonly haState: HaState;
  readonly attributes: readonly { readonly name: string; readonly value: string }[];
}

export interface InstantiateFailure {
  readonly reason: string;
  /** The instantiate script exited with the "do not retry" code (200, as in OpenSAF). */
  readonly noRetry: boolean;
}

/** OpenSAF's INSTANTIATE exit code meaning "do not retry". */
export const NO_RETRY_EXIT = 200;

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
 * One component on this node: its presence state, its processes, its registration on the
 * component API, its healthchecks and CSI assignments. Operations are serialized; every monitor
 * and healthcheck belongs to one "generation" (one instantiation) so that a late event from a
 * previous incarnation is never reported against the current one.
 */
export class ComponentController {
  presence: PresenceState = 'uninstantiated';
  private generation = 0;
  private deathReported = -1;
  private secret: string | undefined;
  private session: Session | undefined;
  private sessionGone = deferred<void>();
  private registered = deferred<void>();
  private child: RunningProcess | undefined;
  /**
   * The instantiate script's process group (what the component left behind lives there) and its
   * start time (the component's process cannot have started earlier).
   */
  private script: { readonly pgid: number; readonly started: number | undefined } | undefined;
  private pidWatch: PidWatch | undefined;
  private readonly healthchecks = new Map<string, Healthcheck>();
  /** The CSI assignments held, by `si/csi` (CSI names are unique only within their SI). */
  private readonly csis = new Map<string, CsiAssignment>();
  /** Quiescing callbacks awaiting quiescing-complete, by invocation. */
  private readonly quiescing = new Map<number, CsiAssignment>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Cuts short an instantiation in progress (waiting for a registration or a script). */
  private abortStart: ((reason: string) => void) | undefined;
  private readonly log: Logger;

  constructor(
    private current: CompEntry,
    private readonly ctx: ComponentContext,
    logger: Logger,
  ) {
    this.log = logger.child({ comp: current.dn });
  }

  get entry(): CompEntry {
    return this.current;
  }

  /** A new configuration of the same component: it applies from the next operation on. */
  reconfigure(entry: CompEntry): void {
    assert(entry.dn === this.current.dn, `reconfigure ${this.current.dn} with ${entry.dn}`);
    this.current = entry;
  }

  private get config() {
    return this.entry.config;
  }

  private get saAware(): boolean {
    return this.config.category === 'sa_aware';
  }

  /** The component's process, when the agent knows it (supervised child or pidfile). */
  get pid(): number | undefined {
    return this.child?.pid ?? this.pidWatch?.pid;
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

  reportError(recovery: Recovery, reason: string | undefined): void {
    this.ctx.fault({ kind: 'error-report', su: this.entry.su.name, comp: this.config.name, recovery, source: 'error-report', ...(reason === undefined ? {} : { reason }) });
  }

  // ------------------------------------------------------------------ operations

  instantiate(): Promise<Result<void, InstantiateFailure>> {
    return this.serialize(async () => {
      if (this.presence === 'instantiated') return ok(undefined);
      this.clearAssignments();
      const gen = this.beginIncarnation('instantiating');
      const started = await this.startComponent(gen);
      if (started.ok && gen === this.generation) {
        this.presence = 'instantiated';
        this.startPassiveMonitoring(gen);
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
        const { invocation, outcome } = session.invoke(
          { type: 'csi-set', si: assignment.si, csi: assignment.csi, csiType: assignment.csiType, haState: assignment.haState, attributes },
          this.ctx.settings.callbackTimeoutMs,
        );
        if (assignment.haState === 'quiescing') this.quiescing.set(invocation, assignment);
        const o = await outcome;
        if (o !== 'ok') {
          this.quiescing.delete(invocation);
          return err(`CSI set ${assignment.csi} ${assignment.haState}: ${o === 'failed' ? 'the component answered FAILED' : o}`);
        }
      }
      this.csis.set(csiKey(assignment.si, assignment.csi), assignment);
      this.ctx.assignmentsChanged(this.entry);
      return ok(undefined);
    });
  }

  csiRemove(si: string, csi: string): Promise<Result<void, string>> {
    return this.serialize(async () => {
      let r: Result<void, string> = ok(undefined);
      const key = csiKey(si, csi);
      if (this.saAware && this.session && this.csis.has(key)) {
        const o = await this.session.invoke({ type: 'csi-remove', si, csi }, this.ctx.settings.callbackTimeoutMs).outcome;
        if (o !== 'ok') r = err(`CSI remove ${csi}: ${o}`);
      }
      if (this.csis.delete(key)) this.ctx.assignmentsChanged(this.entry);
      return r;
    });
  }

  quiescingComplete(invocation: number, healthy: boolean): boolean {
    const a = this.quiescing.get(invocation);
    if (!a) return false;
    this.quiescing.delete(invocation);
    if (healthy) this.ctx.fault({ kind: 'quiescing-complete', su: this.entry.su.name, comp: this.config.name, si: a.si, csi: a.csi });
    else this.reportError('no-recommendation', `quiescing of ${a.csi} failed`);
    return true;
  }

  /**
   * External active monitoring (EAM): run the AM_START / AM_STOP CLC-CLI (admin ops eam-start /
   * eam-stop), with the instantiate / terminate timeout.
   */
  activeMonitor(iface: 'am_start' | 'am_stop'): Promise<Result<void, string>> {
    return this.serialize(async () => {
      const c = this.config;
      const command = iface === 'am_start' ? c.amStart : c.amStop;
      if (command === undefined) return err(`no ${iface} command is configured for ${this.entry.dn}`);
      const argv = resolveCommand(this.ctx.files, command, c.clccliPath, iface);
      if (!argv.ok) return argv;
      const timeoutMs = iface === 'am_start' ? c.instantiateTimeoutMs : c.terminateTimeoutMs;
      const o = await runScript(this.ctx.processes, this.log, { argv: argv.value, env: this.env(iface), timeoutMs, killGraceMs: this.ctx.settings.killGraceMs });
      if (o.kind === 'spawn-failed') return err(o.reason);
      return o.exit.code === 0 ? ok(undefined) : err(`${iface} ${describeExit(o.exit)}`);
    });
  }

  // ------------------------------------------------------------------ healthchecks

  /**
   * Start a configured healthcheck. `invocation` overrides the configured one (the component
   * chooses it in saAmfHealthcheckStart). OCF components run their monitor action for any key.
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
    const mode = this.config.kind.type === 'ocf' ? 'command' : (invocation ?? hc.invocation);
    let check: Healthcheck;
    if (mode === 'component') {
      check = componentHealthcheck(this.ctx.clock, hc.periodMs, onFailure);
    } else {
      const probe = mode === 'amf' ? this.callbackProbe(key, hc.maximumDurationMs) : this.commandProbe(hc);
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

  private commandProbe(hc: HealthcheckConfig): Result<Probe, string> {
    const kind = this.config.kind;
    if (kind.type === 'ocf') {
      return ok(async () => {
        const r = await this.runOcf('monitor', hc.maximumDurationMs);
        return r.ok && ocfMonitorHealthy(r.value) ? { healthy: true } : { healthy: false, reason: r.ok ? `monitor: ${ocfMeaning(r.value)}` : r.error };
      });
    }
    const command = hc.command;
    if (command === undefined) return err(`command healthcheck '${hc.key}' has no command`);
    // A healthcheck command is a shell line (groups.conf keeps it one string), run in clccli_path.
    const cwd = this.config.clccliPath;
    return ok(async () => {
      const o = await runScript(this.ctx.processes, this.log, {
        argv: ['/bin/sh', '-c', command],
        env: this.env('healthcheck'),
        timeoutMs: hc.maximumDurationMs,
        killGraceMs: this.ctx.settings.killGraceMs,
        ...(cwd === undefined || cwd === '' ? {} : { cwd }),
      });
      if (o.kind === 'spawn-failed') return { healthy: false, reason: o.reason };
      return o.exit.code === 0 ? { healthy: true } : { healthy: false, reason: `healthcheck command ${describeExit(o.exit)}` };
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
    this.pidWatch?.cancel();
    this.pidWatch = undefined;
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

  private env(iface: ClcInterface, extra: Record<string, string> = {}): Record<string, string> {
    const csiAttributes = this.csiAttributes();
    const kind = this.config.kind;
    const ocf = kind.type === 'ocf' ? ocfEnv(this.entry, this.ctx.settings.ocfRoot, kind.provider, kind.agent) : {};
    return componentEnv(this.entry, { base: this.ctx.settings.baseEnv, iface, csiAttributes, extra: { ...ocf, ...extra } });
  }

  /** Start the component's processes; for SA-aware components, wait for the registration too. */
  private async startComponent(gen: number): Promise<Result<void, InstantiateFailure>> {
    const c = this.config;
    const fail = (reason: string, noRetry = false): Result<void, InstantiateFailure> => err({ reason, noRetry });
    const extra: Record<string, string> = this.saAware ? { AMF_COMPONENT_SOCKET: this.ctx.settings.socketPath, AMF_COMPONENT_SECRET: this.secret ?? '' } : {};
    const kind = c.kind;
    switch (kind.type) {
      case 'ocf': {
        const r = await this.runOcf('start', c.instantiateTimeoutMs);
        if (!r.ok) return fail(r.error);
        return r.value === OCF_SUCCESS ? ok(undefined) : fail(`start: ${ocfMeaning(r.value)}`);
      }
      case 'command': {
        const spawned = this.ctx.processes.spawn({ argv: kind.argv, env: this.env('instantiate', extra), killGraceMs: c.terminateTimeoutMs });
        if (!spawned.ok) return fail(`cannot start ${spawned.error.file}: ${spawned.error.kind === 'failed' ? spawned.error.detail : spawned.error.kind}`);
        const child = spawned.value;
        this.child = child;
        const exited = child.exited.then((exit) => {
          this.log.info({ pid: child.pid, code: exit.code, signal: exit.signal, stdout: exit.stdout || undefined, stderr: exit.stderr || undefined }, 'supervised process exited');
          if (gen === this.generation && this.presence === 'instantiated') this.processDied(`supervised process ${child.pid} ${describeExit(exit)}`);
          return `the process ${describeExit(exit)} before registering`;
        });
        return this.saAware ? this.awaitRegistration(gen, exited) : ok(undefined);
      }
      case 'clccli': {
        if (c.instantiate === undefined) return fail('no instantiate command is configured');
        const argv = resolveCommand(this.ctx.files, c.instantiate, c.clccliPath, 'instantiate');
        if (!argv.ok) return fail(argv.error, true);
        const started = startScript(this.ctx.processes, this.log, { argv: argv.value, env: this.env('instantiate', extra), timeoutMs: c.instantiateTimeoutMs, killGraceMs: this.ctx.settings.killGraceMs });
        if (!started.ok) return fail(started.error);
        this.script = { pgid: started.value.process.pid, started: this.ctx.processes.startTime?.(started.value.process.pid) };
        const script = started.value.process;
        if (!this.saAware) this.abortStart = () => script.killGroup('SIGKILL');
        const exitFailure = started.value.done.then((o) => {
          assert(o.kind === 'exited');
          return o.exit.code === 0 ? undefined : `instantiate ${describeExit(o.exit)}`;
        });
        if (this.saAware) return this.awaitRegistration(gen, exitFailure.then((r) => r ?? new Promise<never>(() => {})));
        const o = await started.value.done;
        this.abortStart = undefined;
        assert(o.kind === 'exited');
        if (o.exit.code === 0) return ok(undefined);
        return fail(`instantiate ${describeExit(o.exit)}`, o.exit.code === NO_RETRY_EXIT);
      }
    }
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

  private startPassiveMonitoring(gen: number): void {
    const c = this.config;
    if (c.kind.type !== 'clccli') return; // command children are watched by their exit; OCF by monitor
    const pidfiles = c.pidfile !== undefined ? [c.pidfile] : this.ctx.settings.openaisPidDirs.map((d) => `${d}/openais_cleanup_${c.name}`);
    this.pidWatch = watchPidfile(this.ctx.clock, this.ctx.files, this.ctx.processes, pidfiles, this.ctx.settings.pollMs, this.script?.started, (pid, how) => {
      if (gen === this.generation && this.presence === 'instantiated') this.processDied(`monitored process ${pid} ${how}`);
    });
  }

  /**
   * terminate: the graceful way (terminate callback for SA-aware components, TERMINATE CLI,
   * SIGTERM, OCF stop); cleanup: the abrupt way (CLEANUP CLI, SIGKILL of the group, OCF stop).
   */
  private async stop(how: 'terminate' | 'cleanup', reason: string): Promise<Result<void, string>> {
    // What the component may leave behind, taken before the stop forgets it: the instantiate
    // script's group, the supervised child's group (its leader may already be dead), the pidfile process.
    const leftovers = { groups: [this.script?.pgid, this.child?.pid].filter((g) => g !== undefined), watch: this.pidWatch };
    this.script = undefined;
    this.beginIncarnation('terminating');
    const c = this.config;
    const timeoutMs = how === 'terminate' ? c.terminateTimeoutMs : c.cleanupTimeoutMs;
    let r: Result<void, string>;
    if (how === 'terminate' && this.saAware && this.session) {
      const o = await this.session.invoke({ type: 'terminate' }, timeoutMs).outcome;
      r = o === 'ok' || o === 'disconnected' ? await this.waitGone(timeoutMs) : err(`terminate callback: ${o}`);
    } else {
      const kind = c.kind;
      switch (kind.type) {
        case 'ocf': {
          const s = await this.runOcf('stop', timeoutMs);
          r = !s.ok ? s : s.value === OCF_SUCCESS ? ok(undefined) : err(`stop: ${ocfMeaning(s.value)}`);
          break;
        }
        case 'command':
          r = await this.stopChild(how, timeoutMs);
          break;
        case 'clccli': {
          const command = how === 'terminate' ? c.terminate : c.cleanup;
          if (command === undefined) {
            r = how === 'terminate' ? err('no terminate command is configured') : ok(undefined);
            break;
          }
          const argv = resolveCommand(this.ctx.files, command, c.clccliPath, how);
          if (!argv.ok) {
            r = err(argv.error);
            break;
          }
          const env = this.env(how, how === 'cleanup' ? { AMF_CLEANUP_REASON: reason } : {});
          const o = await runScript(this.ctx.processes, this.log, { argv: argv.value, env, timeoutMs, killGraceMs: this.ctx.settings.killGraceMs });
          r = o.kind === 'spawn-failed' ? err(o.reason) : o.exit.code === 0 ? ok(undefined) : err(`${how} ${describeExit(o.exit)}`);
          break;
        }
      }
    }
    this.killLeftovers(leftovers, how);
    this.dropSession();
    this.clearAssignments();
    return r;
  }

  private async stopChild(how: 'terminate' | 'cleanup', timeoutMs: number): Promise<Result<void, string>> {
    const child = this.child;
    if (!child) return ok(undefined);
    if (how === 'terminate') {
      const exit = await child.terminate(timeoutMs);
      this.child = undefined;
      this.log.info({ pid: child.pid, signal: exit.signal, code: exit.code }, 'supervised process terminated');
      return ok(undefined);
    }
    // The group, not RunningProcess.killGroup (a no-op once the leader is dead; its children may live on).
    this.ctx.processes.signal(-child.pid, 'SIGKILL');
    const gone = await this.within(child.exited.then(() => true), timeoutMs, false);
    if (!gone) return err(`process ${child.pid} still there ${timeoutMs} ms after SIGKILL`);
    this.child = undefined;
    return ok(undefined);
  }

  /** After a terminate callback: the component should go away by itself within the timeout. */
  private async waitGone(timeoutMs: number): Promise<Result<void, string>> {
    const gone = this.child ? this.child.exited.then(() => true) : this.sessionGone.promise.then(() => true);
    if (await this.within(gone, timeoutMs, false)) {
      this.child = undefined;
      return ok(undefined);
    }
    return err(`still running ${timeoutMs} ms after the terminate callback`);
  }

  private within<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
    return new Promise((resolve) => {
      const timer = this.ctx.clock.setTimer(ms, () => resolve(fallback));
      void p.then((v) => {
        timer.cancel();
        resolve(v);
      });
    });
  }

  /**
   * Whatever the component left running is killed once it is stopped, even when its main process
   * died earlier and only children it forked remain: cleanup SIGKILLs at once; after a graceful
   * terminate the strays get SIGTERM, then SIGKILL after the kill grace. A group is signalled by
   * its id: while any member lives the kernel does not reuse that pid, so a stranger cannot be
   * hit. The pidfile process is signalled only while it is still the same process (pid reuse).
   */
  private killLeftovers(leftovers: { readonly groups: readonly number[]; readonly watch: PidWatch | undefined }, how: 'terminate' | 'cleanup'): void {
    const kill = (sig: 'SIGTERM' | 'SIGKILL'): void => {
      for (const g of leftovers.groups) this.ctx.processes.signal(-g, sig);
      const pid = leftovers.watch?.pid;
      if (pid !== undefined && !leftovers.watch?.signal(sig) && this.ctx.processes.isAlive(pid)) {
        this.log.warn({ pid }, 'the pidfile names a process that is not the one monitored (pid reused); not signalling it');
      }
    };
    if (how === 'cleanup') return kill('SIGKILL');
    kill('SIGTERM');
    this.ctx.clock.setTimer(this.ctx.settings.killGraceMs, () => kill('SIGKILL'));
  }

  private dropSession(): void {
    const s = this.session;
    this.session = undefined;
    this.sessionGone.resolve();
    s?.close();
  }

  /** Run an OCF action; the exit code, or why it could not run. */
  private async runOcf(action: OcfAction, timeoutMs: number): Promise<Result<number, string>> {
    const kind = this.config.kind;
    assert(kind.type === 'ocf');
    const path = ocfAgentPath(this.ctx.settings.ocfRoot, kind.provider, kind.agent);
    if (path === undefined) return err(`bad OCF agent name ${kind.provider}:${kind.agent}`);
    if (!this.ctx.files.isExecutable(path)) return err(`OCF agent ${path} is missing or not executable`);
    const iface = action === 'start' ? 'instantiate' : action === 'stop' ? 'terminate' : 'healthcheck';
    const o = await runScript(this.ctx.processes, this.log, { argv: [path, action], env: this.env(iface), timeoutMs, killGraceMs: this.ctx.settings.killGraceMs });
    if (o.kind === 'spawn-failed') return err(o.reason);
    if (o.exit.code === null) return err(`OCF ${action} ${describeExit(o.exit)}`);
    return ok(o.exit.code);
  }
}
