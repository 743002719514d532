import { posix } from 'node:path';
import { Counter } from 'prom-client';
import type { AmfModel } from '../model/types.js';
import type { Recovery } from '../model/vocabulary.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { Logger, Registry } from '../runtime/ports/observability.js';
import type { ProcessRunner } from '../runtime/ports/process.js';
import type { Random } from '../runtime/ports/random.js';
import type { StreamNetwork } from '../runtime/ports/stream.js';
import { err, ok, type Result } from '../util/result.js';
import { ComponentController, type AgentFault } from './component.js';
import type { MigrateFailure, TerminateIntent, Veto } from './drivers/driver.js';
import type { AgentHooks, LocalComponent, PreTerminateHook } from './hooks.js';
import { DriverRegistry } from './drivers/registry.js';
import { compKey, Inventory, type CompEntry } from './inventory.js';
import { ComponentApiServer, DEFAULT_API_LIMITS, type ApiError, type ComponentApiHandler, type Request, type Session } from './ipc-server.js';
import { PROTOCOL_VERSION, type PgChange, type PgMember } from './protocol.js';
import type { AgentSettings, CsiAssignment, InstantiateFailure } from './types.js';

export interface AgentPorts {
  readonly clock: Clock;
  readonly random: Random;
  readonly processes: ProcessRunner;
  readonly files: FileSystem;
  readonly stream: StreamNetwork;
  readonly logger: Logger;
  readonly metrics: Registry;
}

export type AgentOptions = Pick<AgentSettings, 'socketPath' | 'baseEnv'> &
  Partial<AgentSettings> & {
    /** The component kinds this agent runs. Default: the built-in drivers. */
    readonly drivers?: DriverRegistry;
  };

const DEFAULTS: Omit<AgentSettings, 'socketPath' | 'baseEnv'> = {
  ocfRoot: '/usr/lib/ocf',
  killGraceMs: 2000,
  pollMs: 10,
  callbackTimeoutMs: 10_000,
  openaisPidDirs: ['/var/run', '/tmp'],
  apiMaxConnections: DEFAULT_API_LIMITS.maxConnections,
  apiRegisterTimeoutMs: DEFAULT_API_LIMITS.registerTimeoutMs,
};

type Tracking = 'changes' | 'changes-only';
/** CSIs one connection may track at once: any name is accepted, so the table needs a bound. */
export const MAX_TRACKED_CSIS = 256;

/**
 * The node agent: runs this node's components (CLC-CLI, supervised commands, OCF agents), serves
 * the component API, watches processes and healthchecks, and turns what it sees into reports.
 *
 * Local operations API (what the engine's commands map onto, see engine-adapter.ts): instantiate,
 * terminate, cleanup, csiSet, csiRemove, startHealthcheck, stopHealthcheck. Unsolicited reports
 * (errors, failed healthchecks, quiescing complete) go to the onFault listeners.
 */
export class NodeAgent implements AgentHooks {
  private inventory: Inventory;
  private readonly controllers = new Map<string, ComponentController>();
  private readonly server: ComponentApiServer;
  private readonly listeners: Array<(fault: AgentFault) => void> = [];
  private readonly votes = new Set<PreTerminateHook>();
  private readonly trackers = new Map<string, Map<Session, Tracking>>();
  /** The last protection-group membership pushed to trackers, per CSI. */
  private readonly lastPg = new Map<string, readonly PgMember[]>();
  /** Cluster-wide protection groups (src/cluster/protection-groups.ts); unset: this node's components. */
  private pgSource: ((csi: string) => readonly PgMember[]) | undefined;
  private readonly settings: AgentSettings;
  private readonly drivers: DriverRegistry;
  private readonly log: Logger;
  private readonly faults: Counter<'kind'>;

  constructor(
    private readonly ports: AgentPorts,
    model: AmfModel,
    options: AgentOptions,
  ) {
    const { drivers, ...settings } = options;
    this.settings = { ...DEFAULTS, ...settings };
    this.drivers = drivers ?? new DriverRegistry();
    this.log = ports.logger.child({ module: 'agent' });
    this.inventory = new Inventory(model);
    this.faults = new Counter({ name: 'amf_agent_faults_total', help: 'Faults reported by the node agent, by kind', labelNames: ['kind'], registers: [ports.metrics] });
    const handler: ComponentApiHandler = {
      register: (s, dn, secret) => this.register(s, dn, secret),
      request: (s, r) => this.request(s, r),
      disconnected: (s) => this.disconnected(s),
    };
    this.server = new ComponentApiServer(ports.stream, ports.files, ports.clock, ports.logger, ports.metrics, handler, {
      maxConnections: this.settings.apiMaxConnections,
      registerTimeoutMs: this.settings.apiRegisterTimeoutMs,
    });
  }

  /** Start serving the component API. */
  start(): Promise<Result<void, string>> {
    const dir = posix.dirname(this.settings.socketPath);
    const made = this.ports.files.mkdirp(dir, 0o755);
    if (!made.ok) return Promise.resolve(err(`component API socket directory ${dir}: ${made.error.kind}`));
    return this.server.listen(this.settings.socketPath);
  }

  /** Stop serving (components keep running; stop them first with terminate/cleanup if wanted). */
  async stop(): Promise<void> {
    await this.server.close();
  }

  /**
   * A new configuration: components that still exist keep their controllers (and processes) and
   * take the new settings; removed ones keep their old settings until the engine has stopped them.
   */
  setModel(model: AmfModel): void {
    this.inventory = new Inventory(model);
    for (const c of this.controllers.values()) {
      const entry = this.inventory.getByDn(c.entry.dn);
      if (entry) c.reconfigure(entry);
    }
  }

  onFault(listener: (fault: AgentFault) => void): void {
    this.listeners.push(listener);
  }

  presence(su: string, comp: string): string | undefined {
    return this.controllers.get(compKey(su, comp))?.presence;
  }

  /** The component's process id when known (supervised command, or a pidfile's live pid). */
  pid(su: string, comp: string): number | undefined {
    return this.controllers.get(compKey(su, comp))?.pid;
  }

  // ------------------------------------------------------------------ local operations

  /** `adopt`: the component arrived here by a live migration (StartRequest.adopt). */
  instantiate(su: string, comp: string, adopt?: string): Promise<Result<void, InstantiateFailure>> {
    const c = this.controller(su, comp);
    return c.ok ? c.value.instantiate(adopt) : Promise.resolve(err({ reason: c.error, noRetry: true }));
  }

  /**
   * Move a running component live to node `to` (admin migrate). The driver and the pre-terminate
   * hooks vote first (intent `move`): a veto leaves it where it is.
   */
  async migrate(su: string, comp: string, to: string): Promise<Result<{ readonly uuid: string }, MigrateFailure>> {
    const vote = await this.preTerminate(su, comp, { action: 'move', reason: `admin migrate to ${to}` });
    if (!vote.ok) return err({ reason: vote.error, lost: false });
    if (vote.value) return err({ reason: `vetoed by ${vote.value.by}: ${vote.value.reason}`, lost: false });
    const c = this.controller(su, comp);
    return c.ok ? c.value.migrate(to) : err({ reason: c.error, lost: false });
  }

  terminate(su: string, comp: string): Promise<Result<void, string>> {
    const c = this.controller(su, comp);
    return c.ok ? c.value.terminate() : Promise.resolve(c);
  }

  cleanup(su: string, comp: string, reason: string): Promise<Result<void, string>> {
    const c = this.controller(su, comp);
    return c.ok ? c.value.cleanup(reason) : Promise.resolve(c);
  }

  csiSet(su: string, comp: string, assignment: CsiAssignment): Promise<Result<void, string>> {
    const c = this.controller(su, comp);
    return c.ok ? c.value.csiSet(assignment) : Promise.resolve(c);
  }

  csiRemove(su: string, comp: string, si: string, csi: string): Promise<Result<void, string>> {
    const c = this.controller(su, comp);
    return c.ok ? c.value.csiRemove(si, csi) : Promise.resolve(c);
  }

  /**
   * Whether an operation may terminate the component on purpose: its driver and every hook added
   * by onPreTerminate vote at once, and the first veto (in that order) wins; undefined: go ahead.
   * Asked before such an operation is committed, never by terminate itself: a committed terminate
   * cannot be refused (a failed one escalates to node failover).
   */
  async preTerminate(su: string, comp: string, intent: TerminateIntent): Promise<Result<Veto | undefined, string>> {
    const c = this.controller(su, comp);
    if (!c.ok) return c;
    const entry = c.value.entry;
    // A voter that fails has not voted: silence is consent (as a guest that does not answer).
    const silent = (e: unknown): undefined => {
      this.log.error({ comp: entry.dn, err: e }, 'a pre-terminate vote failed; counted as no veto');
      return undefined;
    };
    const asks = [() => c.value.preTerminate(intent), ...[...this.votes].map((v) => () => v(entry, intent))];
    const votes = await Promise.all(asks.map(async (ask) => ask()).map((p) => p.catch(silent)));
    return ok(votes.find((v) => v !== undefined));
  }

  onPreTerminate(hook: PreTerminateHook): () => void {
    this.votes.add(hook);
    return () => this.votes.delete(hook);
  }

  /** An error report on a component this agent runs, for a node service (see AgentHooks). */
  reportError(su: string, comp: string, recovery: Recovery, reason: string): Result<void, string> {
    const c = this.controllers.get(compKey(su, comp));
    if (!c) return err(`${compKey(su, comp)} is not run by this node's agent`);
    c.reportError(recovery, reason);
    return ok(undefined);
  }

  components(): LocalComponent[] {
    return [...this.controllers.values()].map((c) => ({ entry: c.entry, presence: c.presence, pid: c.pid, assignments: c.assignments() }));
  }

  /** Run the component's AM_START or AM_STOP CLC-CLI (external active monitoring). */
  activeMonitor(su: string, comp: string, iface: 'am_start' | 'am_stop'): Promise<Result<void, string>> {
    const c = this.controller(su, comp);
    return c.ok ? c.value.activeMonitor(iface) : Promise.resolve(c);
  }

  startHealthcheck(su: string, comp: string, key: string, recovery: Recovery = 'no-recommendation'): Result<void, string> {
    const c = this.controller(su, comp);
    if (!c.ok) return c;
    const r = c.value.startHealthcheck(key, recovery);
    return r.ok ? r : err(r.error.message);
  }

  stopHealthcheck(su: string, comp: string, key: string): boolean {
    return this.controllers.get(compKey(su, comp))?.stopHealthcheck(key) ?? false;
  }

  private controller(su: string, comp: string): Result<ComponentController, string> {
    const key = compKey(su, comp);
    const existing = this.controllers.get(key);
    if (existing) return ok(existing);
    const entry = this.inventory.get(su, comp);
    if (!entry) return err(`unknown component ${key}`);
    const c = ComponentController.create(
      entry,
      {
        clock: this.ports.clock,
        processes: this.ports.processes,
        files: this.ports.files,
        settings: this.settings,
        drivers: this.drivers,
        newSecret: () => Buffer.from(this.ports.random.bytes(16)).toString('hex'),
        healthcheckConfig: (e, k) => this.inventory.healthcheck(e, k),
        fault: (f) => this.emit(f),
        assignmentsChanged: (e) => this.assignmentsChanged(e),
      },
      this.log,
    );
    if (c.ok) this.controllers.set(key, c.value);
    return c;
  }

  private emit(fault: AgentFault): void {
    this.faults.inc({ kind: fault.kind });
    for (const l of this.listeners) l(fault);
  }

  // ------------------------------------------------------------------ component API

  private register(session: Session, dn: string, secret: string): Result<string, ApiError> {
    const entry = this.inventory.getByDn(dn);
    if (!entry) return err({ code: 'unknown-component', message: `no component ${dn} in the configuration` });
    if (entry.config.category !== 'sa_aware') return err({ code: 'bad-state', message: `${dn} is not SA-aware (comptype ${entry.config.category})` });
    const c = this.controllers.get(compKey(entry.su.name, entry.config.name));
    if (!c) return err({ code: 'not-owner', message: `${dn} was not instantiated by this agent` });
    const r = c.register(session, secret);
    return r.ok ? ok(compKey(entry.su.name, entry.config.name)) : r;
  }

  private disconnected(session: Session): void {
    this.untrack(session);
    if (session.comp !== undefined) this.controllers.get(session.comp)?.disconnected(session);
  }

  private request(session: Session, r: Request): Result<unknown, ApiError> {
    const c = session.comp === undefined ? undefined : this.controllers.get(session.comp);
    if (!c || c.registeredSession !== session) return err({ code: 'not-registered', message: 'this connection is no longer registered' });
    switch (r.type) {
      case 'unregister':
        c.unregister(session);
        this.untrack(session);
        session.comp = undefined;
        return ok(undefined);
      case 'healthcheck-start':
        return c.startHealthcheck(r.key, r.recovery, r.invocation);
      case 'healthcheck-stop':
        return c.stopHealthcheck(r.key) ? ok(undefined) : err({ code: 'unknown-key', message: `healthcheck '${r.key}' is not running` });
      case 'healthcheck-confirm':
        return c.confirmHealthcheck(r.key, r.result === 'ok') ? ok(undefined) : err({ code: 'bad-state', message: `no component-invoked healthcheck '${r.key}' is running` });
      case 'quiescing-complete':
        return c.quiescingComplete(r.invocation, r.result === 'ok') ? ok(undefined) : err({ code: 'unknown-invocation', message: `no quiescing CSI set with invocation ${r.invocation}` });
      case 'error-report':
        c.reportError(r.recovery, r.reason);
        return ok(undefined);
      case 'error-clear':
        this.log.info({ comp: c.entry.dn }, 'error cleared by the component');
        return ok(undefined);
      case 'ha-state-get': {
        const a = c.assignmentOf(r.csi);
        return a ? ok({ haState: a.haState }) : err({ code: 'not-assigned', message: `${c.entry.dn} holds no assignment for CSI ${r.csi}` });
      }
      case 'pg-track': {
        if (r.flags !== 'current') {
          const t = this.trackers.get(r.csi) ?? new Map<Session, Tracking>();
          if (!t.has(session) && this.trackedBy(session) >= MAX_TRACKED_CSIS) {
            return err({ code: 'bad-state', message: `this connection already tracks ${MAX_TRACKED_CSIS} CSIs` });
          }
          t.set(session, r.flags);
          this.trackers.set(r.csi, t);
          this.lastPg.set(r.csi, this.pgMembers(r.csi));
        }
        return ok(r.flags === 'changes-only' ? undefined : { members: [...this.pgMembers(r.csi)] });
      }
      case 'pg-track-stop':
        return this.untrack(session, r.csi) ? ok(undefined) : err({ code: 'bad-state', message: `CSI ${r.csi} is not being tracked on this connection` });
    }
  }

  private trackedBy(session: Session): number {
    let n = 0;
    for (const t of this.trackers.values()) if (t.has(session)) n++;
    return n;
  }

  /** Stop a session tracking one CSI (or all); a CSI nobody tracks leaves the tables. True if any stopped. */
  private untrack(session: Session, csi?: string): boolean {
    let stopped = false;
    for (const [name, t] of this.trackers) {
      if (csi !== undefined && name !== csi) continue;
      stopped = t.delete(session) || stopped;
      if (t.size === 0) {
        this.trackers.delete(name);
        this.lastPg.delete(name);
      }
    }
    return stopped;
  }

  setProtectionGroups(members: (csi: string) => readonly PgMember[]): void {
    this.pgSource = members;
    this.protectionGroupsChanged();
  }

  protectionGroupsChanged(): void {
    this.pushProtectionGroups();
  }

  /** The members of a CSI's protection group, as `pg-track current` answers. */
  protectionGroup(csi: string): readonly PgMember[] {
    return this.pgMembers(csi);
  }

  /** The cluster's view when the cluster gave one, else the local components that hold the CSI. */
  private pgMembers(csi: string): readonly PgMember[] {
    if (this.pgSource) return this.pgSource(csi);
    const members: PgMember[] = [];
    for (const c of this.controllers.values()) {
      const a = c.assignmentOf(csi);
      if (a) members.push({ comp: c.entry.dn, haState: a.haState });
    }
    return members.sort((x, y) => (x.comp < y.comp ? -1 : x.comp > y.comp ? 1 : 0));
  }

  private assignmentsChanged(_entry: CompEntry): void {
    this.pushProtectionGroups();
  }

  private pushProtectionGroups(): void {
    for (const [csi, sessions] of this.trackers) {
      const members = this.pgMembers(csi);
      const before = this.lastPg.get(csi) ?? [];
      const changes = diffMembers(before, members);
      this.lastPg.set(csi, members);
      if (changes.length === 0) continue;
      for (const [s, flags] of sessions) {
        s.send({ v: PROTOCOL_VERSION, type: 'pg-update', csi, members: flags === 'changes' ? [...members] : [], changes });
      }
    }
  }
}

export function diffMembers(before: readonly PgMember[], after: readonly PgMember[]): PgChange[] {
  const old = new Map(before.map((m) => [m.comp, m.haState]));
  const now = new Map(after.map((m) => [m.comp, m.haState]));
  const changes: PgChange[] = [];
  for (const m of after) {
    const prev = old.get(m.comp);
    if (prev === undefined) changes.push({ ...m, change: 'added' });
    else if (prev !== m.haState) changes.push({ ...m, change: 'state-change' });
  }
  for (const m of before) if (!now.has(m.comp)) changes.push({ ...m, change: 'removed' });
  return changes;
}
