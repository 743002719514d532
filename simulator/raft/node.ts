import type { NodePorts } from '../../src/runtime/node-ports.js';
import type { DurableStore } from '../../src/runtime/ports/storage.js';
import type { AppliedEntry, FSM } from '../../src/raft/fsm.js';
import { Raft } from '../../src/raft/driver/raft.js';
import type { Observer, Server } from '../../src/raft/driver/types.js';
import type { RaftConfig } from '../../src/raft/config.js';
import { StreamTransport } from '../../src/raft/transport/stream-transport.js';
import type { Transport } from '../../src/raft/transport/transport.js';
import { FaultyTransport, type MessageFaults } from './faulty-transport.js';
import { KvFsm } from './kv.js';
import { RAFT_DEFAULTS } from '../../src/raft/config.js';

export const RAFT_PORT = 7000;

export interface RaftNodeHooks {
  /** Every entry applied to this node's FSM (before its result is returned). */
  onApply?(node: string, entry: AppliedEntry): void;
  observer?(node: string, raft: Raft): Observer;
  /** Message-level faults (loss/dup/reorder of whole Raft messages), read per message. */
  messageFaults?(): MessageFaults;
  /** A fatal start-up error (a bug): the harness reports it as a violation. */
  onError?(node: string, error: string): void;
  /** The driver's address provider (RaftDeps.resolveAddress) for this node. */
  resolveAddress?(node: string): ((id: string) => string | undefined) | undefined;
  /** Wrap the node's transport (tests hide hello frames here). */
  wrapTransport?(transport: Transport): Transport;
  /** Replace the node's store (checker self-tests inject broken durability here). */
  wrapStore?(store: DurableStore, ports: NodePorts): DurableStore;
}

/** Records every apply, then hands the entry to the real FSM. */
class ObservedFsm implements FSM {
  constructor(
    readonly kv: KvFsm,
    private readonly onApply: (entry: AppliedEntry) => void,
  ) {}
  apply(entry: AppliedEntry): unknown {
    this.onApply(entry);
    return this.kv.apply(entry);
  }
  snapshot() {
    return this.kv.snapshot();
  }
  restore(data: Uint8Array): void {
    this.kv.restore(data);
  }
}

/**
 * One incarnation of a Raft server in the simulator: the real driver, stream transport and
 * durable stores on the node's simulated ports, with a KV FSM. Built again on every restart.
 */
export class RaftSimNode {
  raft: Raft | undefined;
  readonly fsm: KvFsm = new KvFsm();
  readonly started: Promise<void>;

  constructor(
    readonly ports: NodePorts,
    servers: readonly Server[],
    hooks: RaftNodeHooks = {},
    config: Partial<RaftConfig> = {},
  ) {
    this.started = this.start(servers, hooks, config).catch((e: unknown) => hooks.onError?.(ports.nodeName, String((e as Error)?.stack ?? e)));
  }

  private async start(servers: readonly Server[], hooks: RaftNodeHooks, config: Partial<RaftConfig>): Promise<void> {
    const p = this.ports;
    const cfg = { ...RAFT_DEFAULTS, ...config };
    const inner = await StreamTransport.listen(p.stream, `${p.nodeName}:${RAFT_PORT}`, p.clock, p.logger, p.metrics, {
      id: p.nodeName,
      connectTimeoutMs: cfg.connectTimeoutMs,
      minBackoffMs: cfg.minBackoffMs,
      maxBackoffMs: cfg.maxBackoffMs,
      maxQueued: cfg.maxQueuedPerPeer,
    });
    const faults = hooks.messageFaults;
    const faulty = faults ? new FaultyTransport(inner, p.clock, p.random.fork('msg-faults'), faults) : inner;
    const transport = hooks.wrapTransport ? hooks.wrapTransport(faulty) : faulty;
    const resolveAddress = hooks.resolveAddress?.(p.nodeName);
    const fsm = new ObservedFsm(this.fsm, (e) => hooks.onApply?.(p.nodeName, e));
    const r = await Raft.create({
      id: p.nodeName,
      clock: p.clock,
      random: p.random.fork('raft'),
      store: hooks.wrapStore ? hooks.wrapStore(p.store, p) : p.store,
      blobs: p.blobs,
      transport,
      fsm,
      logger: p.logger,
      metrics: p.metrics,
      config,
      ...(resolveAddress ? { resolveAddress } : {}),
    });
    if (!r.ok) throw new Error(r.error);
    const raft = r.value;
    if (hooks.observer) raft.observe(hooks.observer(p.nodeName, raft));
    // Every server is bootstrapped with the same list; on restart there is state and this is refused.
    if (servers.length > 0) await raft.bootstrap(servers);
    this.raft = raft;
  }
}

export function raftAddress(node: string): string {
  return `${node}:${RAFT_PORT}`;
}
