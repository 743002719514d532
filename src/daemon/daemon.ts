/**
 * The composition root of one amfd process: real ports in a per-node tsyringe container, the node
 * agent behind the cluster's CommandExecutor, the cluster node (SWIM, Raft, FSM, director, lease),
 * the HTTP API over the cluster node, the first-bootstrap groups.conf, and the ordered shutdown.
 */
import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { NodeAgent } from '../agent/agent.js';
import { ClusterApiBackend } from '../api/cluster-backend.js';
import { ApiServer } from '../api/server.js';
import { AgentExecutor } from '../cluster/agent-executor.js';
import { createClusterNode, type ClusterNode } from '../cluster/node.js';
import { loadConfig } from '../model/index.js';
import { createNodeContainer } from '../runtime/container.js';
import { createNodePorts } from '../runtime/node/index.js';
import { NodeFileSystem } from '../runtime/node/files.js';
import { NodeHttpServerFactory } from '../runtime/node/http.js';
import type { TimerHandle } from '../runtime/ports/clock.js';
import type { HttpListener } from '../runtime/ports/http.js';
import type { Logger } from '../runtime/ports/observability.js';
import { TOKENS, type NodePorts } from '../runtime/tokens.js';
import { PROFILES } from '../swim/index.js';
import { assert } from '../util/assert.js';
import { err, ok, type Result } from '../util/result.js';
import type { DaemonConfig } from './config.js';
import { PartitionHook } from './faults.js';
import { CommandFencer } from './fencer.js';
import { killOwned, OWNER_VAR } from './orphans.js';
import { ReapingExecutor } from './reaping-executor.js';
import { LeaseWatchdog } from './watchdog.js';
import { loadWebConsole } from './web-assets.js';

/** Daemon-level services in the node's container, next to the port tokens. */
export const DAEMON_TOKENS = {
  Config: Symbol('DaemonConfig') as InjectionToken<DaemonConfig>,
  Ports: Symbol('NodePorts') as InjectionToken<NodePorts>,
  Agent: Symbol('NodeAgent') as InjectionToken<NodeAgent>,
  Executor: Symbol('Executor') as InjectionToken<ReapingExecutor>,
  Watchdog: Symbol('LeaseWatchdog') as InjectionToken<LeaseWatchdog>,
  ClusterNode: Symbol('ClusterNode') as InjectionToken<ClusterNode>,
  ApiServer: Symbol('ApiServer') as InjectionToken<ApiServer>,
} as const;

/** Written to `<data_dir>/amfd.addr.json` once listening: how tools and tests find this node. */
export interface AddressFile {
  readonly node: string;
  readonly pid: number;
  readonly swim: string;
  readonly api: string;
  readonly tls: boolean;
}

const BOOTSTRAP_CONFIG_RETRY_MS = 500;
const BOOTSTRAP_WAIT_FOR_NODES_MS = 10_000;
const LEADERSHIP_TRANSFER_MS = 2000;
const GROUPS_CONF_MAX_BYTES = 4 * 1024 * 1024;
const HANDOVER_MS = 5000;
const HANDOVER_SETTLE_MS = 1000;
/** Present while this node is locked by its own graceful shutdown (see handOver). */
const UNLOCK_MARKER = 'unlock-on-start';

/** Environment every component and script starts with (nothing else of the daemon's leaks in). */
function baseEnv(cfg: DaemonConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_OPTIONS']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  env['AMFD_NODE_NAME'] = cfg.nodeName;
  env[OWNER_VAR] = ownerTag(cfg);
  return env;
}

export function ownerTag(cfg: Pick<DaemonConfig, 'nodeName' | 'dataDir'>): string {
  return `${cfg.nodeName}@${cfg.dataDir}`;
}

/**
 * Build the node's container: the real ports (createNodeContainer), then the daemon's services as
 * factories over them, each resolved once (the container is per process, so cached instances are
 * per node).
 */
export function createDaemonContainer(cfg: DaemonConfig, ports: NodePorts): Result<DependencyContainer, string[]> {
  const c = createNodeContainer(ports);
  c.registerInstance(DAEMON_TOKENS.Config, cfg);
  c.registerInstance(DAEMON_TOKENS.Ports, ports);
  const empty = loadConfig('', 'groups.conf');
  assert(empty.ok, 'the empty configuration is valid');
  const env = baseEnv(cfg);
  const agent = new NodeAgent(
    {
      clock: c.resolve(TOKENS.Clock),
      random: c.resolve(TOKENS.Random).fork('agent'),
      processes: c.resolve(TOKENS.ProcessRunner),
      files: new NodeFileSystem(),
      stream: c.resolve(TOKENS.StreamNetwork),
      logger: c.resolve(TOKENS.Logger),
      metrics: c.resolve(TOKENS.Metrics),
    },
    empty.value,
    { socketPath: cfg.componentSocket, baseEnv: env },
  );
  c.registerInstance(DAEMON_TOKENS.Agent, agent);
  const owner = ownerTag(cfg);
  const watchdog = new LeaseWatchdog({ node: cfg.nodeName, owner, clock: ports.clock, logger: ports.logger });
  c.registerInstance(DAEMON_TOKENS.Watchdog, watchdog);
  const executor = new ReapingExecutor(new AgentExecutor(agent, cfg.nodeName, empty.value, ports.logger), () => {
    const killed = killOwned(owner);
    watchdog.reapStale();
    return killed;
  }, watchdog, ports.logger);
  c.registerInstance(DAEMON_TOKENS.Executor, executor);
  const node = createClusterNode(ports, {
    bind: { swim: cfg.swim.bind, raft: cfg.raftBind, rpc: cfg.rpcBind },
    join: cfg.join,
    advertise: cfg.advertise,
    ...(cfg.swim.keys.length > 0 ? { swimKeys: cfg.swim.keys } : {}),
    executor,
    // Node services (guest heartbeat, server groups) are passed as `services` with these hooks.
    agent,
    ...(cfg.fencingCommand === '' ? {} : { fencer: new CommandFencer(cfg.fencingCommand, ports.processes, env, ports.logger) }),
    settings: { bootstrapExpect: cfg.bootstrapExpect, maxVoters: cfg.maxVoters, leaseMs: cfg.leaseMs, leasePolicy: cfg.leasePolicy },
    swim: PROFILES[cfg.swim.profile],
  });
  if (!node.ok) return node;
  c.registerInstance(DAEMON_TOKENS.ClusterNode, node.value);
  const started = Date.now();
  const backend = new ClusterApiBackend({
    node: node.value,
    metrics: ports.metrics,
    processInfo: () => {
      const m = process.memoryUsage();
      return { pid: process.pid, uptimeSeconds: Math.round((Date.now() - started) / 1000), rssBytes: m.rss, heapUsedBytes: m.heapUsed };
    },
  });
  const ui = loadWebConsole();
  if (ui.missing !== null) ports.logger.warn({ why: ui.missing }, 'the web console (/ui/) is not available');
  c.registerInstance(DAEMON_TOKENS.ApiServer, new ApiServer({ backend, clock: ports.clock, logger: ports.logger, token: cfg.api.token, ui }));
  return ok(c);
}

export class Daemon {
  private listener: HttpListener | undefined;
  private bootstrapTimer: TimerHandle | undefined;
  private stopping: Promise<void> | undefined;
  private readonly log: Logger;
  readonly node: ClusterNode;
  private readonly agent: NodeAgent;
  private readonly executor: ReapingExecutor;
  private readonly watchdog: LeaseWatchdog;
  private readonly api: ApiServer;

  private constructor(
    readonly cfg: DaemonConfig,
    readonly ports: NodePorts,
    readonly container: DependencyContainer,
    private readonly hook: PartitionHook | undefined,
  ) {
    this.log = ports.logger.child({ module: 'daemon' });
    this.node = container.resolve(DAEMON_TOKENS.ClusterNode);
    this.agent = container.resolve(DAEMON_TOKENS.Agent);
    this.executor = container.resolve(DAEMON_TOKENS.Executor);
    this.watchdog = container.resolve(DAEMON_TOKENS.Watchdog);
    this.api = container.resolve(DAEMON_TOKENS.ApiServer);
  }

  /** Check the first-bootstrap groups.conf, build every service (nothing bound yet). */
  static create(cfg: DaemonConfig, logDestination?: DestinationStream, faultFile?: string): Result<Daemon, string[]> {
    if (cfg.groupsConf !== '') {
      const checked = readGroupsConf(cfg.groupsConf);
      if (!checked.ok) return checked;
    }
    try {
      mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
    } catch (e) {
      return err([`data_dir: cannot create ${cfg.dataDir}: ${(e as Error).message}`]);
    }
    const real = createNodePorts({
      nodeName: cfg.nodeName,
      dataDir: cfg.dataDir,
      logLevel: cfg.logLevel,
      ...(logDestination === undefined ? {} : { logDestination }),
    });
    const hook = faultFile ? new PartitionHook(faultFile) : undefined;
    if (hook) real.logger.warn({ faultFile }, 'test fault hook enabled: traffic to the peers listed in AMFD_FAULT_FILE is cut');
    const ports = hook ? hook.wrap(real) : real;
    const c = createDaemonContainer(cfg, ports);
    if (!c.ok) hook?.stop();
    return c.ok ? ok(new Daemon(cfg, ports, c.value, hook)) : c;
  }

  get apiAddress(): string | undefined {
    return this.listener?.address;
  }

  /** Bind and start everything; the API last, once the node can answer. */
  async start(): Promise<Result<void, string>> {
    // Policy stop: the lease watchdog runs before any component can (policy freeze never kills).
    if (this.cfg.leasePolicy === 'stop') {
      const w = await this.watchdog.start();
      if (!w.ok) return w;
      this.watchdog.onFatal((why) => {
        this.log.fatal({ why }, 'no lease watchdog: stopping this node (it must not hold a lease without one)');
        this.ports.clock.setTimer(this.cfg.shutdownTimeoutMs, () => process.exit(1));
        void this.shutdown(why).finally(() => process.exit(1));
      });
    }
    const a = await this.agent.start();
    if (!a.ok) return err(`component API: ${a.error}`);
    const n = await this.node.start();
    if (!n.ok) return err(`cluster: ${n.error}`);
    const [host, port] = splitHostPort(this.cfg.api.bind);
    try {
      this.listener = await new NodeHttpServerFactory().listen({ host, port, ...(this.cfg.api.tls ? { tls: this.cfg.api.tls } : {}) }, this.api.handler);
    } catch (e) {
      return err(`api.bind ${this.cfg.api.bind}: ${(e as Error).message}`);
    }
    const addr: AddressFile = { node: this.cfg.nodeName, pid: process.pid, swim: this.node.members?.address ?? this.cfg.swim.bind, api: this.listener.address, tls: this.cfg.api.tls !== undefined };
    writeFileSync(join(this.cfg.dataDir, 'amfd.addr.json'), `${JSON.stringify(addr)}\n`);
    this.log.info({ api: this.listener.address, swim: addr.swim, raft: this.cfg.raftBind, rpc: this.cfg.rpcBind, join: this.cfg.join }, 'amfd started');
    if (this.cfg.groupsConf !== '') this.bootstrapConfig();
    this.unlockAfterRestart();
    return ok(undefined);
  }

  /**
   * Until the cluster has a configuration, propose the groups.conf as epoch 0 → 1. The proposal is
   * a compare-and-set on epoch 0, so every node of a fresh cluster may try: one wins, the others
   * are refused, and a cluster that has a configuration is never overwritten.
   */
  private bootstrapConfig(): void {
    const since = this.ports.clock.now();
    const tick = (): void => {
      this.bootstrapTimer = undefined;
      if (this.stopping || this.node.fsm.state.epoch > 0) return;
      // Give the bootstrap servers a moment to be up, so the first placement spreads the SUs.
      const up = Object.values(this.node.fsm.state.nodes).filter((n) => n.up).length;
      if (up < this.cfg.bootstrapExpect && this.ports.clock.now() - since < BOOTSTRAP_WAIT_FOR_NODES_MS) {
        this.bootstrapTimer = this.ports.clock.setTimer(BOOTSTRAP_CONFIG_RETRY_MS / 5, tick);
        return;
      }
      const text = readGroupsConf(this.cfg.groupsConf);
      if (!text.ok) {
        this.log.error({ errors: text.error }, 'groups_conf became invalid; not bootstrapping the configuration');
        return;
      }
      void this.node.setConfig(text.value, 0).then((r) => {
        if (r.ok && r.result.ok) this.log.info({ file: this.cfg.groupsConf }, 'initial configuration committed');
        else if (this.node.fsm.state.epoch === 0) this.bootstrapTimer = this.ports.clock.setTimer(BOOTSTRAP_CONFIG_RETRY_MS, tick);
      });
    };
    this.bootstrapTimer = this.ports.clock.setTimer(0, tick);
  }

  /**
   * Policy `stop`: hand this node's assignments over before leaving, by locking the node (the AMF
   * switches its SIs over to the standbys: no lease wait, no double active), bounded by
   * HANDOVER_MS. The lock is replicated, so a marker file makes the next start unlock the node.
   */
  private async handOver(): Promise<void> {
    const me = this.cfg.nodeName;
    if (assignedSus(this.node, me).length === 0 || this.node.fsm.state.amf.nodes[me]?.admin !== 'unlocked') return;
    const sus = this.node.fsm.state.amf.sus;
    const mine = [...new Set(assignedSus(this.node, me).flatMap((su) => Object.entries(sus[su]?.assignments ?? {}).filter(([, a]) => a.ha === 'active').map(([si]) => si)))];
    const r = await this.node.admin('lock', { type: 'node', name: me });
    const failed = !r.ok ? r.error : !r.result.ok ? r.result.error : undefined;
    if (failed !== undefined) {
      this.log.warn({ error: failed }, 'hand-over: locking this node failed; its SIs move after the lease instead');
      return;
    }
    writeFileSync(join(this.cfg.dataDir, UNLOCK_MARKER), `${me}\n`);
    const sleep = (): Promise<void> => new Promise<void>((wake) => this.ports.clock.setTimer(50, wake));
    const released = (): boolean => assignedSus(this.node, me).length === 0;
    const done = (): boolean => released() && mine.every((si) => activeElsewhere(this.node, si, me));
    // First this node's SUs give their assignments up; then the standbys elsewhere take them over
    // (not when an SI's only other SU is on this node too: it waits for the node to leave).
    const until = this.ports.clock.now() + HANDOVER_MS;
    while (!released() && this.ports.clock.now() < until) await sleep();
    const settle = Math.min(until, this.ports.clock.now() + HANDOVER_SETTLE_MS);
    while (!done() && this.ports.clock.now() < settle) await sleep();
    const left = assignedSus(this.node, me);
    if (done()) this.log.info({ sis: mine }, 'hand-over: every SI of this node was switched over');
    else this.log.warn({ sus: left, sis: mine }, 'hand-over incomplete within its bound; the rest is stopped with the node');
  }

  /** After a graceful stop locked this node: unlock it once the cluster has it up again. */
  private unlockAfterRestart(): void {
    const marker = join(this.cfg.dataDir, UNLOCK_MARKER);
    if (!existsSync(marker)) return;
    const me = this.cfg.nodeName;
    const tick = (): void => {
      if (this.stopping) return;
      const n = this.node.fsm.state.amf.nodes[me];
      if (n?.admin === 'unlocked') {
        rmSync(marker, { force: true });
        return;
      }
      if (!this.node.fsm.state.nodes[me]?.up || n === undefined) {
        this.ports.clock.setTimer(BOOTSTRAP_CONFIG_RETRY_MS, tick);
        return;
      }
      void this.node.admin('unlock', { type: 'node', name: me }).then((r) => {
        if (r.ok && r.result.ok) {
          rmSync(marker, { force: true });
          this.log.info('unlocked this node (it was locked by its last graceful shutdown)');
        } else this.ports.clock.setTimer(BOOTSTRAP_CONFIG_RETRY_MS, tick);
      });
    };
    tick();
  }

  /**
   * Graceful stop, idempotent: stop serving the API (streams get their last line), hand the SIs
   * over (policy `stop`), hand Raft leadership over, leave SWIM and stop the cluster node, then
   * stop the components (`stop`) or leave them running unsupervised (`freeze`), close the
   * component API and the store.
   */
  shutdown(reason: string): Promise<void> {
    this.stopping ??= this.doShutdown(reason);
    return this.stopping;
  }

  private async doShutdown(reason: string): Promise<void> {
    this.log.info({ reason }, 'shutting down');
    this.bootstrapTimer?.cancel();
    this.api.close();
    await this.listener?.close();
    if (this.cfg.leasePolicy === 'stop') await this.handOver();
    const raft = this.node.raft;
    if (raft?.state() === 'leader') {
      const t = await raft.leadershipTransfer(LEADERSHIP_TRANSFER_MS);
      this.log.info({ result: t.ok ? { leader: t.value.id } : t.error }, 'leadership transfer');
    }
    await this.node.stop();
    if (this.cfg.leasePolicy === 'stop') await this.executor.resetAll();
    else this.log.warn('lease policy freeze: components are left running unsupervised');
    // After the hand-over and the components' stop: disarm, then let the watchdog go.
    await this.watchdog.stop();
    await this.agent.stop();
    await this.ports.store.close();
    this.hook?.stop();
    rmSync(join(this.cfg.dataDir, 'amfd.addr.json'), { force: true });
    this.log.info('stopped');
  }
}

/** SUs placed on `node` that hold any SI assignment, in the local replica. */
function assignedSus(daemonNode: ClusterNode, node: string): string[] {
  return Object.entries(daemonNode.fsm.state.amf.sus)
    .filter(([, su]) => su.node === node && Object.keys(su.assignments).length > 0)
    .map(([name]) => name);
}

/** Whether SI `si` is held ACTIVE by an SU on a node other than `node`. */
function activeElsewhere(daemonNode: ClusterNode, si: string, node: string): boolean {
  return Object.values(daemonNode.fsm.state.amf.sus).some((su) => su.node !== node && su.assignments[si]?.ha === 'active');
}

function splitHostPort(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1))];
}

/** The groups.conf text, refused with every located error when it does not validate. */
function readGroupsConf(path: string): Result<string, string[]> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return err([`groups_conf: cannot read ${path}: ${(e as Error).message}`]);
  }
  if (text.length > GROUPS_CONF_MAX_BYTES) return err([`groups_conf: ${path} is larger than ${GROUPS_CONF_MAX_BYTES} bytes`]);
  const loaded = loadConfig(text, path);
  return loaded.ok ? ok(text) : err(loaded.error.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`));
}
