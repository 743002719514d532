/**
 * `vm { domain_xml … }` components: a libvirt domain run through virsh (src/vm). instantiate =
 * `virsh create` + dominfo until running (or adopt the domain this component's earlier amfd
 * created, by its state file); terminate = `virsh shutdown`, then `destroy` after shutdown_timeout;
 * cleanup = `virsh destroy`; passive monitoring by libvirt lifecycle events (one supervised
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
import { defineDriver, type ComponentDriver, type DriverHost, type KindConfig, type Leftovers } from './driver.js';
import { shellProbe } from './processes.js';

/** One virsh command (other than create, which has the instantiate timeout) may take this long. */
export const VIRSH_TIMEOUT_MS = 30_000;
/** dominfo while waiting for a domain to run or to go. */
export const VM_POLL_MS = 100;

const NOTHING_LEFT: Leftovers = { kill: () => undefined };

/** The event streams, one per libvirt URI, of the agent that owns this process runner. */
const streams = new WeakMap<ProcessRunner, Map<string, LibvirtEvents>>();

class VmDriver implements ComponentDriver {
  readonly kind = 'vm';
  /** QEMU is libvirtd's child, not ours: no pid. */
  readonly pid = undefined;
  readonly probesEveryKey = false;

  constructor(private readonly host: DriverHost<KindConfig<'vm'>>) {}

  /** Built per operation: a reconfiguration (new XML, URI, timeouts) applies from the next one on. */
  private domain(): VmDomain {
    const h = this.host;
    const k = h.kind;
    const c = h.entry.config;
    const label = `component ${h.entry.dn} (domain XML ${k.domainXml})`;
    const virsh = new Virsh({ processes: h.processes, log: h.log, virsh: 'virsh', uri: k.uri, env: h.settings.baseEnv, timeoutMs: VIRSH_TIMEOUT_MS, killGraceMs: h.settings.killGraceMs, label });
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

  async instantiate(): Promise<Result<void, InstantiateFailure>> {
    this.current = this.domain();
    const r = await this.current.instantiate();
    return r.ok ? ok(undefined) : err(r.error);
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
    return (this.current = this.domain()).cleanup();
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
