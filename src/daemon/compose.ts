/**
 * The composition root of one amfd: a typed function from the configuration and the node's ports
 * to every service the daemon runs, each built once, in dependency order (docs/architecture.md,
 * "Composition": why this is a function and not a DI container). Nothing is bound or started here.
 */
import { NodeAgent } from '../agent/agent.js';
import { restrictCommands } from '../agent/command-dirs.js';
import { ClusterApiBackend } from '../api/cluster-backend.js';
import { ApiServer } from '../api/server.js';
import { AgentExecutor } from '../cluster/agent-executor.js';
import { configuredNodes } from '../cluster/formation.js';
import { NodeLifecycle } from '../cluster/lifecycle.js';
import { createClusterNode, type ClusterNode } from '../cluster/node.js';
import { GuestHeartbeatService } from '../heartbeat/service.js';
import { loadConfig, type ConfigError } from '../model/index.js';
import { NodeChannelNetwork } from '../runtime/node/channel.js';
import { NodeFileSystem } from '../runtime/node/files.js';
import type { NodePorts } from '../runtime/node-ports.js';
import { ServerGroupService } from '../servergroup/service.js';
import { PROFILES } from '../swim/index.js';
import { assert } from '../util/assert.js';
import { ok, type Result } from '../util/result.js';
import type { DaemonConfig } from './config.js';
import { CommandFencer } from './fencer.js';
import { readGroupsConf } from './groups-conf.js';
import { killOwned, OWNER_VAR } from './orphans.js';
import { ReapingExecutor } from './reaping-executor.js';
import { LeaseWatchdog } from './watchdog.js';
import { loadWebConsole } from './web-assets.js';

/** Everything one amfd runs over its ports. */
export interface DaemonParts {
  readonly agent: NodeAgent;
  readonly watchdog: LeaseWatchdog;
  readonly executor: ReapingExecutor;
  readonly node: ClusterNode;
  readonly lifecycle: NodeLifecycle;
  readonly api: ApiServer;
}

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

export function composeDaemon(cfg: DaemonConfig, ports: NodePorts): Result<DaemonParts, string[]> {
  const empty = loadConfig('', 'groups.conf');
  assert(empty.ok, 'the empty configuration is valid');
  const env = baseEnv(cfg);
  const { clock, logger, metrics } = ports;
  const files = new NodeFileSystem();
  // command_dirs: what the API's configuration may make this node run (docs/operations.md).
  const processes = restrictCommands(ports.processes, files, cfg.commandDirs, logger);
  const agent = new NodeAgent(
    { clock, random: ports.random.fork('agent'), processes, files, stream: ports.stream, logger, metrics },
    empty.value,
    { socketPath: cfg.componentSocket, baseEnv: env },
  );
  const owner = ownerTag(cfg);
  const watchdog = new LeaseWatchdog({ node: cfg.nodeName, owner, clock, logger });
  const reap = (): number => {
    const killed = killOwned(owner);
    watchdog.reapStale();
    return killed;
  };
  // The guest channels (virtio-serial sockets) and domain XML reads of the node services.
  const guestIo = { channels: new NodeChannelNetwork(logger), files: new NodeFileSystem() };
  const serverGroups = new ServerGroupService(guestIo);
  const executor = new ReapingExecutor(new AgentExecutor(agent, cfg.nodeName, empty.value, logger), reap, watchdog, logger);
  // The nodes of the first-bootstrap groups.conf bootstrap Raft, and hold its seats until a configuration commits.
  const first = cfg.groupsConf === '' ? undefined : readGroupsConf(cfg.groupsConf);
  const warnings: ConfigError[] = [];
  const firstModel = first?.ok ? loadConfig(first.value, cfg.groupsConf, warnings) : undefined;
  for (const w of warnings) logger.warn({ module: 'daemon', at: `${w.file}:${w.line}:${w.col}` }, `groups_conf: ${w.message}`);
  const node = createClusterNode(ports, {
    bind: { swim: cfg.swim.bind, raft: cfg.raftBind, rpc: cfg.rpcBind },
    join: cfg.join,
    ...(firstModel?.ok ? { bootstrapNodes: [...configuredNodes(firstModel.value)] } : {}),
    advertise: cfg.advertise,
    ...(cfg.swim.keys.length > 0 ? { swimKeys: cfg.swim.keys } : {}),
    executor,
    agent,
    services: [new GuestHeartbeatService(guestIo), serverGroups],
    ...(cfg.fencingCommand === '' ? {} : { fencer: new CommandFencer(cfg.fencingCommand, ports.processes, env, logger) }),
    settings: { bootstrapExpect: cfg.bootstrapExpect, maxVoters: cfg.maxVoters, leaseMs: cfg.leaseMs, leasePolicy: cfg.leasePolicy },
    swim: PROFILES[cfg.swim.profile],
  });
  if (!node.ok) return node;
  const lifecycle = new NodeLifecycle({
    node: node.value,
    clock,
    blobs: ports.blobs,
    logger,
    ...(cfg.groupsConf === '' ? {} : { firstConfig: () => readGroupsConf(cfg.groupsConf) }),
  });
  const started = Date.now();
  const backend = new ClusterApiBackend({
    node: node.value,
    metrics,
    serverGroups: () => serverGroups.view(),
    processInfo: () => {
      const m = process.memoryUsage();
      return { pid: process.pid, uptimeSeconds: Math.round((Date.now() - started) / 1000), rssBytes: m.rss, heapUsedBytes: m.heapUsed };
    },
  });
  const ui = loadWebConsole();
  if (ui.missing !== null) logger.warn({ why: ui.missing }, 'the web console (/ui/) is not available');
  const api = new ApiServer({ backend, clock, logger, token: cfg.api.token, ui });
  return ok({ agent, watchdog, executor, node: node.value, lifecycle, api });
}
