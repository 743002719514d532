/**
 * Node services: optional parts of amfd that run on every node beside the cluster machinery
 * (guest heartbeat, server groups, later others). The cluster node hosts them: it starts them
 * once it runs (in the order given) and stops them before it leaves (in reverse order). A service
 * that fails to start, or throws, is logged and marked failed; the node carries on without it.
 *
 * A service gets, in its ServiceContext: the node's ports, named gossip channels to its peers on
 * the other nodes (gossip.ts), the committed cluster state with a feed of its changes (every node
 * applies the same log, so every node derives the same story from it), and the agent's hooks
 * (error reports, the local components, a vote before a component is terminated on purpose).
 */
import { Counter, type Registry } from 'prom-client';
import type { AgentHooks } from '../agent/hooks.js';
import type { AmfModel } from '../model/types.js';
import { within, type Clock } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { Random } from '../runtime/ports/random.js';
import type { StreamNetwork } from '../runtime/ports/stream.js';
import type { Result } from '../util/result.js';
import { changesSince, type ChangeRecord } from './changelog.js';
import type { ClusterFsm, ClusterState } from './fsm.js';
import type { ClientRequest, ClientResult } from './forward.js';
import type { GossipChannel } from './gossip.js';

export interface NodeService {
  /** Unique on the node; names its logger (`service.<name>`) and its metrics label. */
  readonly name: string;
  /** Start serving. An error (or a throw) marks the service failed; the node runs on. */
  start(ctx: ServiceContext): Promise<Result<void, string>>;
  /** Stop; called once for every service whose start was called, failed ones included (release what did start). */
  stop(): Promise<void>;
}

/** The replicated state as this node has applied it. */
export interface CommittedState {
  state(): Readonly<ClusterState>;
  model(): AmfModel;
  /**
   * Called after each entry this node applies, with the change records it appended (possibly
   * none), oldest first. Returns the function that unsubscribes.
   */
  onChange(listener: (changes: readonly ChangeRecord[]) => void): () => void;
}

export interface ServiceContext {
  readonly node: string;
  readonly clock: Clock;
  /** The service's own stream, forked from the node's by the service name. */
  readonly random: Random;
  /** Framed streams (TCP, unix sockets). Guest channels are plain byte streams: a ChannelNetwork given to the service. */
  readonly stream: StreamNetwork;
  readonly logger: Logger;
  readonly metrics: Registry;
  readonly gossip: {
    /** Open a named channel (see gossip.ts); a channel name is opened once per node. */
    channel(name: string): Result<GossipChannel, string>;
    /** The other members alive or suspect. */
    peers(): string[];
  };
  readonly committed: CommittedState;
  readonly agent: AgentHooks;
  /**
   * A write through Raft, forwarded to the leader (the answer says whether it committed): how a
   * service puts what every node must see into the replicated state (e.g. `guest-heartbeat`).
   */
  submit(req: ClientRequest): Promise<ClientResult>;
}

/** A service's start may take this long; later it is marked failed (and stopped once its start returns). */
export const SERVICE_START_TIMEOUT_MS = 10_000;
/** A node stop waits this long for each service's stop. */
export const SERVICE_STOP_TIMEOUT_MS = 5_000;

export type ServiceState = 'idle' | 'starting' | 'running' | 'failed' | 'stopped';

/** Fans the FSM's applied entries out as change records (only while anyone listens). */
export class CommittedFeed implements CommittedState {
  private readonly listeners = new Set<(changes: readonly ChangeRecord[]) => void>();
  private last: number;

  constructor(private readonly fsm: ClusterFsm) {
    this.last = fsm.state.changes.last;
  }

  state(): Readonly<ClusterState> {
    return this.fsm.state;
  }

  model(): AmfModel {
    return this.fsm.model;
  }

  onChange(listener: (changes: readonly ChangeRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The FSM applied an entry. */
  applied(): void {
    const log = this.fsm.state.changes;
    if (this.listeners.size === 0) {
      this.last = log.last;
      return;
    }
    const fresh = changesSince(log, this.last).filter((c) => c.seq > this.last);
    this.last = log.last;
    for (const l of this.listeners) l(fresh);
  }
}

interface Hosted {
  readonly service: NodeService;
  state: ServiceState;
  error?: string;
  /** stop() was called (it is called once). */
  stopped: boolean;
}

/** Starts and stops a node's services; see the file comment for the rules. */
export class ServiceHost {
  private readonly hosted: Hosted[];
  private readonly log: Logger;
  private readonly failures: Counter<'service'>;

  constructor(
    services: readonly NodeService[],
    private readonly context: (service: NodeService) => ServiceContext,
    private readonly clock: Clock,
    logger: Logger,
    metrics: Registry,
  ) {
    this.hosted = services.map((service) => ({ service, state: 'idle', stopped: false }));
    this.log = logger.child({ module: 'cluster.services' });
    this.failures = new Counter({ name: 'amf_node_service_failures_total', help: 'Node services that failed to start, or whose stop failed', labelNames: ['service'], registers: [metrics] });
  }

  /** The services and how they are. */
  status(): Array<{ readonly name: string; readonly state: ServiceState; readonly error?: string }> {
    return this.hosted.map((h) => ({ name: h.service.name, state: h.state, ...(h.error === undefined ? {} : { error: h.error }) }));
  }

  /** Start each service in order, each after the previous one is up or has failed. */
  async start(): Promise<void> {
    for (const h of this.hosted) {
      h.state = 'starting';
      const started = this.call(() => h.service.start(this.context(h.service)));
      const r = await within(this.clock, started, SERVICE_START_TIMEOUT_MS, 'timeout' as const);
      if (r === 'timeout') {
        this.fail(h, `did not start within ${SERVICE_START_TIMEOUT_MS} ms`);
        // Whatever it does once it returns, it is not wanted any more.
        void started.then(() => this.stopOne(h));
      } else if (!r.ok) this.fail(h, r.error);
      else {
        h.state = 'running';
        this.log.info({ service: h.service.name }, 'node service started');
      }
    }
  }

  /** Stop every service whose start was called, the last started first. */
  async stop(): Promise<void> {
    for (const h of [...this.hosted].reverse()) if (h.state !== 'idle') await this.stopOne(h);
  }

  private async stopOne(h: Hosted): Promise<void> {
    if (h.stopped) return;
    h.stopped = true;
    const stopped = this.call(() => h.service.stop().then(() => ({ ok: true as const, value: undefined })));
    const r = await within(this.clock, stopped, SERVICE_STOP_TIMEOUT_MS, 'timeout' as const);
    if (r === 'timeout' || !r.ok) {
      this.failures.inc({ service: h.service.name });
      this.log.error({ service: h.service.name, error: r === 'timeout' ? `did not stop within ${SERVICE_STOP_TIMEOUT_MS} ms` : r.error }, 'node service stop failed');
    }
    if (h.state === 'running' || h.state === 'starting') h.state = 'stopped';
  }

  private fail(h: Hosted, error: string): void {
    h.state = 'failed';
    h.error = error;
    this.failures.inc({ service: h.service.name });
    this.log.error({ service: h.service.name, error }, 'node service failed to start; the node runs without it');
  }

  /** A service call whose throw or rejection becomes an error value. */
  private call(fn: () => Promise<Result<void, string>>): Promise<Result<void, string>> {
    const fail = (e: unknown): Result<void, string> => ({ ok: false, error: `threw: ${e instanceof Error ? e.message : String(e)}` });
    try {
      return fn().catch(fail);
    } catch (e) {
      return Promise.resolve(fail(e));
    }
  }
}
