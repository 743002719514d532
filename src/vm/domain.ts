/**
 * One vm component's domain: the lifecycle of the libvirt lifecycle notes (seeds) on the virsh
 * layer. instantiate = `virsh create` (never define), then `dominfo` until running or the
 * instantiate timeout; terminate = `shutdown`, up to the shutdown timeout, then `destroy`;
 * cleanup = `destroy` (a domain already gone is success). A state file per component records the
 * UUID of the domain amfd created, so a restarted amfd adopts its own running domain instead of
 * starting a second one, and never takes over (or starts beside) a same-named domain it did not
 * create.
 */
import type { Clock } from '../runtime/ports/clock.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { Logger } from '../runtime/ports/observability.js';
import { err, ok, type Result } from '../util/result.js';
import type { LibvirtEvents } from './events.js';
import { migrateDomain, type MigrateFailure, type MigrateOptions } from './migrate.js';
import { domainNameOf, isUp } from './parse.js';
import type { Virsh } from './virsh.js';

export interface VmDomainOptions {
  readonly virsh: Virsh;
  readonly events: LibvirtEvents;
  readonly clock: Clock;
  readonly files: FileSystem;
  readonly log: Logger;
  readonly domainXml: string;
  readonly stateDir: string;
  /** Whose domain: the state file is named for them and records them. */
  readonly su: string;
  readonly comp: string;
  readonly instantiateTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /** How often dominfo is asked while waiting for a state. */
  readonly pollMs: number;
  /** Names the component in messages. */
  readonly label: string;
}

export interface VmStartFailure {
  readonly reason: string;
  /** Retrying cannot help (bad XML, a name clash): the AMF should not try again at once. */
  readonly noRetry: boolean;
}

/** What the state file holds: the domain amfd created for this component. */
export interface VmState {
  readonly domain: string;
  readonly uuid: string;
  readonly su: string;
  readonly comp: string;
}

const MAX_XML_BYTES = 1024 * 1024;

export class VmDomain {
  private watch: { cancel(): void } | undefined;
  private name: string | undefined;
  /** The UUID of the domain monitoring saw end and leave libvirt: a cleanup has nothing to destroy. */
  endedUuid: string | undefined;

  constructor(readonly o: VmDomainOptions) {}

  /** The state file of this component. */
  get statePath(): string {
    return `${this.o.stateDir}/${this.o.su}.${this.o.comp}.json`;
  }

  /** The domain name in the XML file (read now: the file may have changed since the last start). */
  domainName(): Result<string, string> {
    const f = this.o.domainXml;
    const text = this.o.files.readText(f, MAX_XML_BYTES);
    if (!text.ok) return err(`${this.o.label}: domain XML ${f}: ${text.error.kind === 'failed' ? text.error.detail : text.error.kind}`);
    const name = domainNameOf(text.value);
    return name.ok ? name : err(`${this.o.label}: domain XML ${f}: ${name.error}`);
  }

  readState(): VmState | undefined {
    const t = this.o.files.readText(this.statePath, 4096);
    if (!t.ok) return undefined;
    try {
      const v = JSON.parse(t.value) as Partial<VmState>;
      if (typeof v.domain === 'string' && typeof v.uuid === 'string' && v.su === this.o.su && v.comp === this.o.comp) return v as VmState;
    } catch {
      // unreadable: as if absent (a domain it named is then not adopted, only refused)
    }
    this.o.log.warn({ path: this.statePath }, 'unreadable vm state file ignored');
    return undefined;
  }

  private writeState(s: VmState): Result<void, string> {
    const dir = this.o.files.mkdirp(this.o.stateDir, 0o755);
    const w = dir.ok ? this.o.files.writeText(this.statePath, `${JSON.stringify(s)}\n`, 0o644) : dir;
    return w.ok ? ok(undefined) : err(`${this.o.label}: state file ${this.statePath}: ${w.error.kind === 'failed' ? w.error.detail : w.error.kind}`);
  }

  private dropState(): void {
    this.o.files.remove(this.statePath);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.o.clock.setTimer(ms, resolve));
  }

  /** The domain this component runs, when running: the one the state file names, with its UUID. */
  async running(): Promise<Result<{ readonly domain: string; readonly ours: boolean } | undefined, string>> {
    const name = this.domainName();
    if (!name.ok) return name;
    const info = await this.o.virsh.dominfo(name.value);
    if (!info.ok) return info.error.kind === 'no-domain' ? ok(undefined) : err(info.error.message);
    if (!isUp(info.value.state)) return ok(undefined);
    const state = this.readState();
    // An empty UUID: amfd created it and stopped before it could record the UUID.
    const ours = state !== undefined && state.domain === name.value && (state.uuid === info.value.uuid || state.uuid === '');
    if (ours && state.uuid === '') this.writeState({ ...state, uuid: info.value.uuid });
    return ok({ domain: name.value, ours });
  }

  /**
   * Start the domain, or adopt it when it already runs and is the one amfd created for this
   * component. A same-named domain amfd did not create is refused: never two, never a stranger's.
   */
  async instantiate(adopt?: string): Promise<Result<'created' | 'adopted', VmStartFailure>> {
    const fail = (reason: string, noRetry = false): Result<never, VmStartFailure> => err({ reason, noRetry });
    const name = this.domainName();
    if (!name.ok) return fail(name.error, true);
    this.name = name.value;
    if (adopt !== undefined) return this.adoptMigrated(name.value, adopt);
    const now = await this.running();
    if (!now.ok) return fail(now.error);
    if (now.value?.ours) {
      this.o.log.info({ domain: name.value }, 'domain already running and created by amfd for this component: adopted');
      return ok('adopted');
    }
    if (now.value) return fail(this.clash(name.value), true);
    // Recorded before the create, so that a cleanup cut in at any point still finds what to destroy.
    const pending = this.writeState({ domain: name.value, uuid: '', su: this.o.su, comp: this.o.comp });
    if (!pending.ok) return fail(pending.error);
    const t0 = this.o.clock.now();
    const created = await this.o.virsh.create(this.o.domainXml, this.o.instantiateTimeoutMs);
    if (!created.ok) {
      this.dropState();
      return created.error.kind === 'exists' ? fail(this.clash(name.value), true) : fail(created.error.message);
    }
    for (;;) {
      const info = await this.o.virsh.dominfo(name.value);
      if (info.ok && isUp(info.value.state)) {
        const saved = this.writeState({ domain: name.value, uuid: info.value.uuid, su: this.o.su, comp: this.o.comp });
        if (!saved.ok) return fail(saved.error);
        this.o.log.info({ domain: name.value, uuid: info.value.uuid, ms: Math.round(this.o.clock.now() - t0) }, 'domain created and running');
        return ok('created');
      }
      if (!info.ok && info.error.kind !== 'no-domain') this.o.log.warn({ error: info.error.message }, 'dominfo after create');
      if (this.o.clock.now() - t0 >= this.o.instantiateTimeoutMs) {
        return fail(`${this.o.label}: domain '${name.value}' not running ${this.o.instantiateTimeoutMs} ms after virsh create (${info.ok ? info.value.state : info.error.message})`);
      }
      await this.sleep(this.o.pollMs);
    }
  }

  /** After a live migration to here: the domain of that UUID must run here; it is recorded as ours. */
  private async adoptMigrated(name: string, uuid: string): Promise<Result<'adopted', VmStartFailure>> {
    const info = await this.o.virsh.dominfo(uuid);
    const at = `${this.o.label}: after its migration to ${this.o.virsh.ctx.uri}, domain '${name}' (UUID ${uuid})`;
    if (!info.ok) return err({ reason: `${at}: ${info.error.kind === 'no-domain' ? 'is not there' : info.error.message}`, noRetry: true });
    if (!isUp(info.value.state)) return err({ reason: `${at} is ${info.value.state}, not running`, noRetry: true });
    const saved = this.writeState({ domain: info.value.name, uuid, su: this.o.su, comp: this.o.comp });
    if (!saved.ok) return err({ reason: saved.error, noRetry: true });
    this.name = info.value.name;
    this.o.log.info({ domain: info.value.name, uuid }, 'domain migrated here: adopted');
    return ok('adopted');
  }

  /**
   * Live migration to the libvirt `dst` (the lifecycle notes' protocol, migrate.ts). Monitoring
   * stops first (the source reports the domain Stopped once it left). Once it runs there the state
   * file here goes: the destination's agent records it (adoptMigrated).
   */
  async migrate(dst: Virsh, o: MigrateOptions): Promise<Result<{ readonly uuid: string }, MigrateFailure>> {
    this.stopMonitoring();
    const s = this.readState();
    if (!s?.uuid) return err({ kind: 'refused', message: `${this.o.label}: nothing to migrate: no domain recorded in ${this.statePath}` });
    const r = await migrateDomain(this.o.virsh, dst, s.domain, o, this.o.clock, this.o.log);
    if (!r.ok) return r;
    if (r.value.info.uuid !== s.uuid) {
      return err({ kind: 'lost', message: `${this.o.label}: migrated '${s.domain}' shows UUID ${r.value.info.uuid} on ${dst.ctx.uri}, not ${s.uuid}` });
    }
    this.dropState();
    return ok({ uuid: s.uuid });
  }

  private clash(domain: string): string {
    return `${this.o.label}: a domain named '${domain}' (domain XML ${this.o.domainXml}) already runs on ${this.o.virsh.ctx.uri} and amfd did not create it for this component (no matching state file ${this.statePath}): refusing to start a second one or to take it over`;
  }

  /** Is it gone (no domain, or not up)? */
  private async gone(target: string): Promise<Result<boolean, string>> {
    const info = await this.o.virsh.dominfo(target);
    if (info.ok) return ok(!isUp(info.value.state));
    return info.error.kind === 'no-domain' ? ok(true) : err(info.error.message);
  }

  /**
   * What a stop acts on: the domain amfd created for this component, by its UUID (by its name
   * while the UUID is not known yet). None: nothing of this component runs, and a same-named
   * domain, if any, is someone else's and is left alone.
   */
  private stopTarget(): string | undefined {
    const s = this.readState();
    return s && (s.uuid || s.domain);
  }

  /** Graceful: ACPI shutdown, wait up to the shutdown timeout, then destroy. */
  async terminate(): Promise<Result<void, string>> {
    this.stopMonitoring();
    const target = this.stopTarget();
    if (target === undefined) return ok(undefined);
    const asked = await this.o.virsh.shutdown(target);
    if (!asked.ok && asked.error.kind === 'no-domain') return this.stopped(target);
    if (asked.ok) {
      const end = this.o.clock.now() + this.o.shutdownTimeoutMs;
      while (this.o.clock.now() < end) {
        const g = await this.gone(target);
        if (g.ok && g.value) return this.stopped(target);
        await this.sleep(Math.min(this.o.pollMs, Math.max(1, end - this.o.clock.now())));
      }
      this.o.log.warn({ domain: target, shutdownTimeoutMs: this.o.shutdownTimeoutMs }, 'domain still running after the shutdown timeout: destroying it');
    } else {
      this.o.log.warn({ error: asked.error.message }, 'virsh shutdown failed: destroying the domain');
    }
    return this.destroy(target);
  }

  /**
   * Abrupt: destroy; a domain already gone is success. None when `gone` (the UUID monitoring saw
   * leave libvirt, endedUuid) is the one to stop: a failover then waits for no virsh.
   */
  async cleanup(gone?: string): Promise<Result<void, string>> {
    this.stopMonitoring();
    const target = this.stopTarget();
    if (target !== undefined && target === gone) return this.stopped(target);
    return target === undefined ? ok(undefined) : this.destroy(target);
  }

  private async destroy(target: string): Promise<Result<void, string>> {
    const r = await this.o.virsh.destroy(target);
    if (!r.ok && r.error.kind !== 'no-domain') {
      // destroy can fail because the domain just went away by itself: check before reporting.
      const g = await this.gone(target);
      if (!g.ok || !g.value) return err(r.error.message);
    }
    return this.stopped(target);
  }

  private stopped(target: string): Result<void, string> {
    this.dropState();
    this.o.log.info({ domain: target }, 'domain stopped');
    return ok(undefined);
  }

  /**
   * Report the domain's end once: a libvirt Stopped/Crashed event, or domstate (when the event
   * stream is down or restarting) finding it gone.
   */
  monitor(died: (reason: string) => void): void {
    this.stopMonitoring();
    const name = this.name ?? this.readState()?.domain;
    if (name === undefined) return;
    let done = false;
    const end = (reason: string, gone = false): void => {
      if (done) return;
      done = true;
      if (gone) this.endedUuid = this.readState()?.uuid || undefined;
      this.stopMonitoring();
      died(`domain '${name}': ${reason}`);
    };
    let checking = false;
    const watch = this.o.events.watch(name, {
      ended: end,
      resync: () => {
        if (checking || done) return;
        checking = true;
        void this.o.virsh.domstate(name).then((s) => {
          checking = false;
          if (done || this.watch !== watch) return;
          if (s.ok && !isUp(s.value.state)) end(`domstate says ${s.value.state}${s.value.reason ? ` (${s.value.reason})` : ''}`);
          else if (!s.ok && s.error.kind === 'no-domain') end('libvirt no longer knows it', true);
        });
      },
    });
    this.watch = watch;
  }

  stopMonitoring(): void {
    this.watch?.cancel();
    this.watch = undefined;
  }
}
