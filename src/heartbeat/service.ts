/**
 * The guest heartbeat as a node service (docs/architecture.md "adding a node service"): every
 * amfd heartbeats the guests of its own components that have a `guest_heartbeat {}` block while
 * they run (HeartbeatHost), publishes each guest's heartbeat state into the replicated state (a
 * `guest-heartbeat` entry), turns losses and ill health into error reports through the agent, and
 * votes before an operation stops, restarts or moves one of them.
 */
import type { LocalComponent } from '../agent/hooks.js';
import type { NodeService, ServiceContext } from '../cluster/node-service.js';
import type { ChannelNetwork } from '../runtime/ports/channel.js';
import type { TimerHandle } from '../runtime/ports/clock.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { Logger } from '../runtime/ports/observability.js';
import { ok, type Result } from '../util/result.js';
import { HeartbeatHost, type HeartbeatTarget } from './host.js';
import { unixChannelOf } from '../vm/parse.js';

/** The channel name of the guest heartbeat in a VM (StarlingX's, /dev/virtio-ports/cgcs.heartbeat). */
export const HEARTBEAT_CHANNEL = 'cgcs.heartbeat';
/** Components come and go with committed changes; this also catches what the feed does not say. */
const RESYNC_MS = 1000;

export interface GuestHeartbeatServiceOptions {
  readonly channels: ChannelNetwork;
  /** Reads a vm component's domain XML for its heartbeat channel when the block names none. */
  readonly files: FileSystem;
}

export class GuestHeartbeatService implements NodeService {
  readonly name = 'guest-heartbeat';
  private host: HeartbeatHost | undefined;
  private readonly undo: Array<() => void> = [];
  private resync: TimerHandle | undefined;
  private log: Logger | undefined;
  private readonly unresolved = new Set<string>();

  constructor(private readonly opts: GuestHeartbeatServiceOptions) {}

  async start(ctx: ServiceContext): Promise<Result<void, string>> {
    const log = (this.log = ctx.logger);
    const host = new HeartbeatHost({
      node: ctx.node,
      clock: ctx.clock,
      random: ctx.random,
      channels: this.opts.channels,
      logger: ctx.logger,
      metrics: ctx.metrics,
      reportError: (su, comp, recovery, reason) => {
        const r = ctx.agent.reportError(su, comp, recovery, reason);
        if (!r.ok) log.warn({ su, comp, error: r.error }, 'error report refused');
      },
      publish: (su, comp, status, reason) => {
        void ctx.submit({ type: 'guest-heartbeat', node: ctx.node, su, comp, status, reason }).then((r) => {
          if (!r.ok) log.warn({ su, comp, status, error: r.error }, 'heartbeat state not committed');
        });
      },
    });
    this.host = host;
    const sync = (): void => host.sync(this.targets(ctx.agent.components()));
    this.undo.push(ctx.committed.onChange(sync));
    this.undo.push(ctx.agent.onPreTerminate((entry, intent) => host.preTerminate(entry.su.name, entry.config.name, intent)));
    this.resync = ctx.clock.setPeriodic(RESYNC_MS, sync);
    sync();
    return ok(undefined);
  }

  async stop(): Promise<void> {
    this.resync?.cancel();
    for (const u of this.undo.splice(0)) u();
    this.host?.stop();
  }

  /** The local components to heartbeat: with a guest_heartbeat block, running, with a channel. */
  private targets(components: readonly LocalComponent[]): HeartbeatTarget[] {
    const out: HeartbeatTarget[] = [];
    for (const c of components) {
      const hb = c.entry.config.guestHeartbeat;
      if (hb === undefined || (c.presence !== 'instantiated' && c.presence !== 'restarting')) continue;
      const su = c.entry.su.name;
      const comp = c.entry.config.name;
      const kind = c.entry.config.kind;
      const channel = hb.channel ?? (kind.type === 'vm' ? this.domainChannel(su, comp, kind.domainXml) : undefined);
      if (channel !== undefined) out.push({ su, comp, channel });
    }
    return out;
  }

  private domainChannel(su: string, comp: string, xmlPath: string): string | undefined {
    const text = this.opts.files.readText(xmlPath, 1024 * 1024);
    const r = text.ok ? unixChannelOf(text.value, HEARTBEAT_CHANNEL) : { ok: false as const, error: `cannot read ${xmlPath}: ${text.error.kind}` };
    const key = `${su}/${comp}`;
    if (!r.ok) {
      // Said once per component, not every resync.
      if (!this.unresolved.has(key)) this.log?.warn({ su, comp, xml: xmlPath, error: r.error }, `no heartbeat channel for ${key}: ${r.error}`);
      this.unresolved.add(key);
      return undefined;
    }
    this.unresolved.delete(key);
    return r.value;
  }
}
