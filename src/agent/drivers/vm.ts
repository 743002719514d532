/**
 * `vm { domain_xml … }` components: a libvirt domain run through virsh (src/vm). instantiate =
 * `virsh create` + dominfo until running (or adopt the domain this component's earlier amfd
 * created, by its state file); terminate = `virsh shutdown`, then `destroy` after shutdown_timeout;
 * cleanup = `virsh destroy`; migrate = `virsh migrate --live` checked on both ends (the destination's
 * agent then adopts the domain by its UUID); passive monitoring by libvirt lifecycle events (one supervised
 * `virsh event --loop --all` per URI and agent), domstate while that stream is down.
 */
import type { HealthcheckConfig } from '../../model/types.js';
import type { ProcessRunner } from '../../runtime/ports/process.js';
import { err, ok, type Result } from '../../util/result.js';
import { VmDomain } from '../../vm/domain.js';
import { LibvirtEvents } from '../../vm/events.js';
import { Virsh } from '../../vm/virsh.js';
import type { Probe } from '../healthcheck.js';
import type { InstantiateFailure } from '../types.js';
import { MIGRATION_NODE } from '../../vm/config.js';
import { defineDriver, type ComponentDriver, type DriverHost, type KindConfig, type Leftovers, type MigrateFailure, type StartRequest } from './driver.js';
import { shellProbe } from './processes.js';

/** One virsh command (other than create, which has the instantiate timeout) may take this long. */
export const VIRSH_TIMEOUT_MS = 30_000;
/** dominfo while waiting for a domain to run or to go. */
export const VM_POLL_MS = 100;
/** One `virsh migrate --live` attempt may take this long (a guest's memory crosses the network). */
export const MIGRATE_TIMEOUT_MS = 300_000;
/** After an attempt, dominfo on the destination this many times, this far apart, before "not there". */
export const MIGRATE_CHECKS = { tries: 10, delayMs: 200 } as const;

const NOTHING_LEFT: Leftovers = { kill: () => undefined };

/** The event streams, one per libvirt URI, of the agent that owns this process runner. */
const streams = new WeakMap<ProcessRunner, Map<string, LibvirtEvents>>();

class VmDriver implements ComponentDriver {
  readonly kind = 'vm';
  /** QEMU is libvirtd's child, not ours: no pid. */
  readonly pid = undefined;
  readonly probesEveryKey = false;

  constructor(private readonly host: DriverHost<KindConfig<'vm'>>) {}

  private get label(): string {
    return `component ${this.host.entry.dn} (domain XML ${this.host.kind.domainXml})`;
  }

  private virsh(uri: string): Virsh {
    const h = this.host;
    return new Virsh({ processes: h.processes, log: h.log, virsh: 'virsh', uri, env: h.settings.baseEnv, timeoutMs: VIRSH_TIMEOUT_MS, killGraceMs: h.settings.killGraceMs, label: this.label });
  }

  /** Built per operation: a reconfiguration (new XML, URI, timeouts) applies from the next one on. */
  private domain(): VmDomain {
    const h = this.host;
    const k = h.kind;
    const c = h.entry.config;
    const label = this.label;
    const virsh = this.virsh(k.uri);
    let byUri = streams.get(h.processes);
    if (!byUri) streams.set(h.processes, (byUri = new Map()));
    let events = byUri.get(k.uri);
    if (!events) byUri.set(k.uri, (events = new LibvirtEvents(virsh, h.clock, h.log.child({ uri: k.uri }))));
    return new VmDomain({
      virsh,
      events,
      clock: h.clock,
      files: h.files,
      log: h.log,
      domainXml: k.domainXml,
      stateDir: k.stateDir,
      su: h.entry.su.name,
      comp: c.name,
      instantiateTimeoutMs: c.instantiateTimeoutMs,
      shutdownTimeoutMs: k.shutdownTimeoutMs,
      pollMs: VM_POLL_MS,
      label,
    });
  }

  private current: VmDomain | undefined;

  async instantiate(req: StartRequest): Promise<Result<void, InstantiateFailure>> {
    this.current = this.domain();
    const r = await this.current.instantiate(req.adopt);
    return r.ok ? ok(undefined) : err(r.error);
  }

  /** Live, to the libvirt of `migration_uri` with {node} = `to`. */
  async migrate(to: string): Promise<Result<{ readonly uuid: string }, MigrateFailure>> {
    const k = this.host.kind;
    if (k.migrationUri === undefined) return err({ reason: `${this.label}: no migration_uri`, lost: false });
    const dst = this.virsh(k.migrationUri.split(MIGRATION_NODE).join(to));
    const opts = { retries: k.migrationRetries, timeoutMs: MIGRATE_TIMEOUT_MS, checkTries: MIGRATE_CHECKS.tries, checkDelayMs: MIGRATE_CHECKS.delayMs };
    const r = await (this.current = this.domain()).migrate(dst, opts);
    return r.ok ? r : err({ reason: r.error.message, lost: r.error.kind === 'lost' });
  }

  monitor(died: (reason: string) => void): void {
    (this.current ??= this.domain()).monitor(died);
  }

  stopMonitoring(): void {
    this.current?.stopMonitoring();
  }

  leftovers(): Leftovers {
    return NOTHING_LEFT;
  }

  terminate(): Promise<Result<void, string>> {
    return (this.current = this.domain()).terminate();
  }

  cleanup(): Promise<Result<void, string>> {
    // What the last incarnation's monitoring saw leave libvirt needs no virsh destroy.
    const gone = this.current?.endedUuid;
    return (this.current = this.domain()).cleanup(gone);
  }

  commandProbe(hc: HealthcheckConfig): Result<Probe, string> {
    return shellProbe(this.host, hc);
  }

  /** Scripts of a vm component (healthchecks) learn where its domain lives. */
  env(): Record<string, string> {
    return { AMF_VM_URI: this.host.kind.uri, AMF_VM_DOMAIN_XML: this.host.kind.domainXml };
  }
}

export const vmDriver = defineDriver('vm', (host) => new VmDriver(host));
