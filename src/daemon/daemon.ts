/**
 * One amfd process: its parts (compose.ts) over the real ports, started in order (the lease
 * watchdog before any component, the API last) and stopped gracefully in reverse. The cluster's
 * own policy (first configuration, hand-over, unlock after restart) is NodeLifecycle's, in
 * src/cluster; this file only binds, starts and stops.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { makeDirs } from '../runtime/node/make-dirs.js';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { createNodePorts } from '../runtime/node/index.js';
import { NodeHttpServerFactory } from '../runtime/node/http.js';
import type { HttpListener } from '../runtime/ports/http.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { NodePorts } from '../runtime/node-ports.js';
import { err, ok, type Result } from '../util/result.js';
import { composeDaemon, type DaemonParts } from './compose.js';
import type { DaemonConfig } from './config.js';
import { readGroupsConf } from './groups-conf.js';

/** Written to `<data_dir>/amfd.addr.json` once listening: how tools and tests find this node. */
export interface AddressFile {
  readonly node: string;
  readonly pid: number;
  readonly swim: string;
  readonly api: string;
  readonly tls: boolean;
}

/** Decorates the real ports before anything uses them (the e2e tests' partition hook); stop() at the end. */
export interface PortsHook {
  wrap(ports: NodePorts): NodePorts;
  stop(): void;
}

export interface DaemonOptions {
  readonly logDestination?: DestinationStream;
  readonly hook?: PortsHook;
}

export class Daemon {
  private listener: HttpListener | undefined;
  private stopping: Promise<void> | undefined;
  private readonly log: Logger;

  private constructor(
    readonly cfg: DaemonConfig,
    readonly ports: NodePorts,
    readonly parts: DaemonParts,
    private readonly hook: PortsHook | undefined,
  ) {
    this.log = ports.logger.child({ module: 'daemon' });
  }

  get node(): DaemonParts['node'] {
    return this.parts.node;
  }

  /** Check the first-bootstrap groups.conf, build every part (nothing bound yet). */
  static create(cfg: DaemonConfig, o: DaemonOptions = {}): Result<Daemon, string[]> {
    if (cfg.groupsConf !== '') {
      const checked = readGroupsConf(cfg.groupsConf);
      if (!checked.ok) return checked;
    }
    try {
      makeDirs(cfg.dataDir, 0o700);
    } catch (e) {
      return err([`data_dir: cannot create ${cfg.dataDir}: ${(e as Error).message}`]);
    }
    const real = createNodePorts({
      nodeName: cfg.nodeName,
      dataDir: cfg.dataDir,
      logLevel: cfg.logLevel,
      ...(o.logDestination === undefined ? {} : { logDestination: o.logDestination }),
    });
    const ports = o.hook ? o.hook.wrap(real) : real;
    const parts = composeDaemon(cfg, ports);
    if (!parts.ok) o.hook?.stop();
    return parts.ok ? ok(new Daemon(cfg, ports, parts.value, o.hook)) : parts;
  }

  get apiAddress(): string | undefined {
    return this.listener?.address;
  }

  /** Bind and start everything; the API last, once the node can answer. */
  async start(): Promise<Result<void, string>> {
    const { watchdog, agent, node, lifecycle, api } = this.parts;
    // Policy stop: the lease watchdog runs before any component can (policy freeze never kills).
    if (this.cfg.leasePolicy === 'stop') {
      const w = await watchdog.start();
      if (!w.ok) return w;
      watchdog.onFatal((why) => {
        this.log.fatal({ why }, 'no lease watchdog: stopping this node (it must not hold a lease without one)');
        this.ports.clock.setTimer(this.cfg.shutdownTimeoutMs, () => process.exit(1));
        void this.shutdown(why).finally(() => process.exit(1));
      });
    }
    const a = await agent.start();
    if (!a.ok) return err(`component API: ${a.error}`);
    const n = await node.start();
    if (!n.ok) return err(`cluster: ${n.error}`);
    const [host, port] = splitHostPort(this.cfg.api.bind);
    try {
      this.listener = await new NodeHttpServerFactory().listen({ host, port, ...(this.cfg.api.tls ? { tls: this.cfg.api.tls } : {}) }, api.handler);
    } catch (e) {
      return err(`api.bind ${this.cfg.api.bind}: ${(e as Error).message}`);
    }
    const addr: AddressFile = { node: this.cfg.nodeName, pid: process.pid, swim: node.members?.address ?? this.cfg.swim.bind, api: this.listener.address, tls: this.cfg.api.tls !== undefined };
    writeFileSync(join(this.cfg.dataDir, 'amfd.addr.json'), `${JSON.stringify(addr)}\n`);
    this.log.info({ api: this.listener.address, swim: addr.swim, raft: this.cfg.raftBind, rpc: this.cfg.rpcBind, join: this.cfg.join }, 'amfd started');
    if (this.cfg.insecureClusterChannels) {
      this.log.warn(
        { swim: addr.swim, raft: this.cfg.raftBind, rpc: this.cfg.rpcBind },
        'insecure_cluster_channels: no swim.keyring, so gossip, leases, forwarded writes and Raft are unauthenticated and in clear: anyone who reaches these ports can join, evict a node or speak Raft',
      );
    }
    await lifecycle.start();
    return ok(undefined);
  }

  /**
   * Graceful stop, idempotent: stop serving the API (streams get their last line), leave the
   * cluster (hand the SIs and Raft leadership over), stop the cluster node, then stop the
   * components (`stop`) or leave them running unsupervised (`freeze`), close the component API
   * and the store.
   */
  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.doShutdown(reason);
    return this.stopping;
  }

  private async doShutdown(reason: string): Promise<void> {
    const { api, lifecycle, node, executor, watchdog, agent } = this.parts;
    this.log.info({ reason }, 'shutting down');
    api.close();
    await this.listener?.close();
    await lifecycle.leave();
    await node.stop();
    if (this.cfg.leasePolicy === 'stop') await executor.stopAll();
    else this.log.warn('lease policy freeze: components are left running unsupervised');
    // After the hand-over and the components' stop: disarm, then let the watchdog go.
    await watchdog.stop();
    await agent.stop();
    await this.ports.store.close();
    this.hook?.stop();
    rmSync(join(this.cfg.dataDir, 'amfd.addr.json'), { force: true });
    this.log.info('stopped');
  }
}

function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1))];
}

