/**
 * One cluster node composed from its ports: SWIM membership, Raft with the cluster FSM, the
 * director (active on the leader), the node runtime (lease, command execution, reports), the
 * formation driver, and the node services with their gossip channels (node-service.ts). Used by
 * the simulator and by the daemon (src/daemon), which only bind ports and supply the executor
 * (node agent), its hooks and the fencer.
 */
import { Counter } from 'prom-client';
import type { Veto } from '../agent/drivers/driver.js';
import type { AgentHooks } from '../agent/hooks.js';
import type { AdminTarget } from '../amf/commands.js';
import type { AdminOp, Recovery } from '../model/vocabulary.js';
import { resolveRaftConfig, type RaftConfig } from '../raft/config.js';
import { Raft } from '../raft/driver/raft.js';
import type { LeaderInfo } from '../raft/driver/types.js';
import { StreamTransport } from '../raft/transport/stream-transport.js';
import type { DatagramSocket } from '../runtime/ports/datagram.js';
import type { StreamListener, StreamNetwork } from '../runtime/ports/stream.js';
import type { Logger } from '../runtime/ports/observability.js';
import type { TimerHandle } from '../runtime/ports/clock.js';
import type { NodePorts } from '../runtime/node-ports.js';
import { DEFAULT_SWIM_PROFILE, Keyring, Memberlist, PROFILES, type SwimConfig } from '../swim/index.js';
import { err, ok, type Result } from '../util/result.js';
import type { ChangeRecord } from './changelog.js';
import { changesSince } from './changelog.js';
import { Director } from './director.js';
import type { ClusterEntry } from './entries.js';
import type { CommandExecutor, Fencer } from './executor.js';
import { forward, notDone, RPC_LISTEN_OPTIONS, serveForwarded, type ClientRequest, type ClientResult } from './forward.js';
import { askVote, describeTarget, intentOf, type VoteAnswer, type VoteRequest } from './votes.js';
import { affectedComponents } from '../amf/affected.js';
import { heartbeatKey, heartbeatedComponents } from '../heartbeat/config.js';
import { GossipMux } from './gossip.js';
import { bootstrapServers, configuredNodes, nextMembershipChange, type MemberInfo, type SeatPolicy } from './formation.js';
import { type AmfStepObserver, ClusterFsm } from './fsm.js';
import { protectionGroupMembers } from './protection-groups.js';
import { NodeRuntime, type NodePhase } from './node-runtime.js';
import { CommittedFeed, ServiceHost, type NodeService, type ServiceContext, type ServiceState } from './node-service.js';
import { resolveClusterSettings, type ClusterSettings } from './options.js';
import { nonLoopback, SealContext } from './sealed-channel.js';
import { sealedDatagramNetwork } from './sealed-datagram.js';
import { sealedStreamNetwork } from './sealed-stream.js';
import { decodeMeta, decodeWire, encodeMeta } from './wire.js';
import { must } from '../util/assert.js';

export interface ClusterNodeOptions {
  /** Bind addresses ("host:port") of the three endpoints. */
  readonly bind: { readonly swim: string; readonly raft: string; readonly rpc: string };
  /** Addresses announced to peers when they differ from the bound ones (NAT, 0.0.0.0 binds). */
  readonly advertise?: { readonly swim?: string; readonly raft?: string; readonly rpc?: string };
  /**
   * The cluster keyring (AES-256-GCM, 32 bytes each, the first one primary): seals gossip, lease
   * datagrams, forwarded writes and Raft. None: all of it in clear.
   */
  readonly swimKeys?: readonly Uint8Array[];
  /** SWIM addresses of members to join through (empty: wait to be joined). */
  readonly join: readonly string[];
  /**
   * The nodes of the configuration this node starts with (a daemon's groups_conf): only they may
   * bootstrap Raft, and until a configuration is committed they are the configured nodes
   * (formation.ts). Absent: any member may bootstrap, and nobody else joins before a configuration.
   */
  readonly bootstrapNodes?: readonly string[];
  readonly executor: CommandExecutor;
  readonly fencer?: Fencer;
  readonly settings?: Partial<ClusterSettings>;
  /** Default: the DEFAULT_SWIM_PROFILE (`lan-fast`). */
  readonly swim?: SwimConfig;
  readonly raft?: Partial<RaftConfig>;
  /** Sees every engine step of this replica (the simulator's invariant checks). */
  readonly onAmfStep?: AmfStepObserver;
  /** The node agent's hooks, lent to the node services (required with services). */
  readonly agent?: AgentHooks;
  /** Optional services this node hosts (started in this order once it runs, stopped in reverse). */
  readonly services?: readonly NodeService[];
}

export interface ClusterStatus {
  readonly node: string;
  readonly incarnation: string;
  readonly phase: NodePhase;
  readonly holdsLease: boolean;
  readonly raftState: string;
  readonly leader: LeaderInfo | undefined;
  readonly term: number;
  readonly appliedIndex: number;
  readonly epoch: number;
  readonly members: ReadonlyArray<{ readonly name: string; readonly state: string }>;
  readonly nodes: Readonly<Record<string, { readonly up: boolean; readonly inc: string }>>;
}


const SWIM_JOIN_RETRY_MS = 1000;
const FORMATION_TICK_MS = 100;

export class ClusterNode {
  readonly fsm: ClusterFsm;
  raft: Raft | undefined;
  members: Memberlist | undefined;
  readonly director: Director;
  readonly runtime: NodeRuntime;
  readonly settings: ClusterSettings;
  private socket: DatagramSocket | undefined;
  /** The rpc channel's streams (sealed under the keyring when there is one). */
  private rpcStream: StreamNetwork | undefined;
  private rpcListener: StreamListener | undefined;
  private transport: StreamTransport | undefined;
  private readonly deadSince = new Map<string, number>();
  private readonly appliedListeners: Array<() => void> = [];
  private readonly statusListeners: Array<() => void> = [];
  private readonly committed: CommittedFeed;
  private readonly services: ServiceHost | undefined;
  private gossip: GossipMux | undefined;
  private formationTimer: TimerHandle | undefined;
  private bootstrapCandidate: { key: string; since: number } | undefined;
  private changingMembership = false;
  private formed = false;
  private stopped = false;
  private readonly log: Logger;
  private readonly dropped: Counter<'reason'>;

  constructor(
    private readonly ports: NodePorts,
    private readonly options: ClusterNodeOptions,
    settings: ClusterSettings,
  ) {
    this.settings = settings;
    this.log = ports.logger.child({ module: 'cluster' });
    this.dropped = new Counter({ name: 'amf_cluster_datagrams_dropped_total', help: 'Malformed or unexpected cluster datagrams', labelNames: ['reason'], registers: [ports.metrics] });
    this.fsm = new ClusterFsm({
      changeLogCapacity: settings.changeLogCapacity,
      ...(options.onAmfStep ? { onStep: options.onAmfStep } : {}),
      onApplied: (entry, index) => {
        if (entry === null) this.log.error({ index }, 'a log entry failed validation and was skipped');
        this.runtime.onApplied();
        this.director.onApplied();
        this.options.agent?.protectionGroupsChanged();
        this.committed.applied();
        for (const l of this.appliedListeners) l();
      },
    });
    this.committed = new CommittedFeed(this.fsm);
    options.agent?.setProtectionGroups((csi) => protectionGroupMembers(this.fsm.model, this.fsm.state.amf, csi));
    const services = options.services ?? [];
    this.services = services.length > 0 ? new ServiceHost(services, (s) => this.serviceContext(s), ports.clock, ports.logger, ports.metrics) : undefined;
    const send = (to: string, data: Uint8Array): void => {
      const r = this.socket?.send(to, data);
      if (r && !r.ok) this.dropped.inc({ reason: `send-${r.error.kind}` });
    };
    this.director = new Director({
      clock: ports.clock,
      logger: ports.logger,
      metrics: ports.metrics,
      raft: () => this.raft,
      fsm: this.fsm,
      settings,
      send,
      isDead: (node) => this.deadSince.has(node),
      isMember: (node) => {
        const st = this.members?.member(node)?.state;
        return st === 'alive' || st === 'suspect';
      },
      ...(options.fencer ? { fencer: options.fencer } : {}),
    });
    this.runtime = new NodeRuntime({
      nodeName: ports.nodeName,
      clock: ports.clock,
      random: ports.random.fork('cluster.inc'),
      logger: ports.logger,
      metrics: ports.metrics,
      fsm: this.fsm,
      executor: options.executor,
      settings,
      leaderRpc: () => this.leaderRpc(),
      send,
    });
    this.runtime.onPhase(() => this.statusChanged());
  }

  get name(): string {
    return this.ports.nodeName;
  }

  /** Bind every endpoint, open Raft from its stores, start SWIM, join, start directing and renewing. */
  async start(): Promise<Result<void, string>> {
    const p = this.ports;
    const o = this.options;
    const raftCfg = resolveRaftConfig(o.raft);
    if (!raftCfg.ok) return raftCfg;
    // One keyring (SWIM's) seals every channel; without keys every channel is in clear.
    const ring = Keyring.create(p.random.fork('cluster.seal.iv'), o.swimKeys ?? []);
    if (!ring.ok) return err(`cluster: ${ring.error}`);
    const seal = new SealContext(ring.value, p.random.fork('cluster.seal.nonce'), p.clock, p.logger, p.metrics);
    const exposed = nonLoopback([o.bind.swim, o.bind.raft, o.bind.rpc]);
    if (!seal.enabled && exposed.length > 0) this.log.warn({ binds: exposed }, 'no swim.keyring: gossip, leases, forwarded writes and Raft are unauthenticated and in clear on non-loopback addresses');
    this.rpcStream = sealedStreamNetwork(p.stream, seal, 'rpc');
    this.socket = await sealedDatagramNetwork(p.datagram, seal, 'lease').bind(o.bind.rpc);
    this.socket.onMessage((data, from) => this.onDatagram(data, from));
    this.rpcListener = await this.rpcStream.listen(o.bind.rpc, RPC_LISTEN_OPTIONS);
    this.rpcListener.onConnection((conn) =>
      serveForwarded(
        conn,
        (req) => this.proposeHere(req),
        (why) => {
          this.dropped.inc({ reason: 'bad-request' });
          this.log.warn({ from: conn.remoteAddress, why }, 'refused a malformed forwarded request');
        },
        (req) => this.localVote(req),
      ),
    );
    const rc = raftCfg.value;
    this.transport = await StreamTransport.listen(sealedStreamNetwork(p.stream, seal, 'raft'), o.bind.raft, p.clock, p.logger, p.metrics, {
      id: p.nodeName,
      connectTimeoutMs: rc.connectTimeoutMs,
      minBackoffMs: rc.minBackoffMs,
      maxBackoffMs: rc.maxBackoffMs,
      maxQueued: rc.maxQueuedPerPeer,
    });
    const raft = await Raft.create({
      id: p.nodeName,
      clock: p.clock,
      random: p.random.fork('raft'),
      store: p.store,
      blobs: p.blobs,
      transport: this.transport,
      fsm: this.fsm,
      logger: p.logger,
      metrics: p.metrics,
      // Where SWIM says a peer's Raft listens (its advertised address), before the address book.
      resolveAddress: (id) => this.raftAddressOf(id),
      ...(o.raft ? { config: o.raft } : {}),
    });
    if (!raft.ok) return raft;
    this.raft = raft.value;
    this.raft.observe((o) => {
      this.director.setLeader(this.raft?.state() === 'leader');
      if (o.type === 'leader' || o.type === 'state' || o.type === 'peer') this.statusChanged();
    });
    this.formed = this.raft.getConfiguration().length > 0;
    const swim = o.swim ?? PROFILES[DEFAULT_SWIM_PROFILE];
    const ml = await Memberlist.start(p, {
      name: p.nodeName,
      bind: o.bind.swim,
      config: swim,
      meta: this.meta(),
      ...(o.advertise?.swim ? { advertise: o.advertise.swim } : {}),
      ...(o.swimKeys ? { keys: o.swimKeys } : {}),
    });
    if (!ml.ok) return ml;
    this.members = ml.value;
    const members = ml.value;
    this.gossip = new GossipMux(
      {
        sendUserMessage: (payload, to) => members.sendUserMessage(payload, to),
        onUserMessage: (l) => members.onUserMessage(l),
        peers: () => members.members().filter((m) => m.name !== p.nodeName && (m.state === 'alive' || m.state === 'suspect')).map((m) => m.name),
      },
      swim.maxUserMessageSize,
      p.clock,
      p.logger,
      p.metrics,
    );
    this.members.onEvent((e) => {
      if (e.kind === 'dead' || e.kind === 'leave') this.deadSince.set(e.member.name, e.at);
      else if (e.kind === 'join' || e.kind === 'alive') this.deadSince.delete(e.member.name);
      this.statusChanged();
    });
    this.director.start();
    this.runtime.start();
    this.formationTimer = p.clock.setPeriodic(FORMATION_TICK_MS, () => this.formationTick());
    this.director.setLeader(this.raft.state() === 'leader');
    void this.joinLoop();
    // A node without services resolves exactly as before (an `await` is a turn of the event loop).
    if (this.services) await this.services.start();
    return ok(undefined);
  }

  /** The node services and their states (empty without services). */
  serviceStatus(): ReadonlyArray<{ readonly name: string; readonly state: ServiceState; readonly error?: string }> {
    return this.services?.status() ?? [];
  }

  private serviceContext(s: NodeService): ServiceContext {
    const p = this.ports;
    return {
      node: p.nodeName,
      clock: p.clock,
      random: p.random.fork(`service.${s.name}`),
      stream: p.stream,
      logger: p.logger.child({ module: `service.${s.name}` }),
      metrics: p.metrics,
      gossip: {
        channel: (name) => must(this.gossip, 'services start after SWIM').channel(name),
        peers: () => this.gossip?.peers() ?? [],
      },
      committed: this.committed,
      agent: must(this.options.agent, 'createClusterNode refuses services without the agent'),
      submit: (req) => this.submit(req),
    };
  }

  private async joinLoop(): Promise<void> {
    const seeds = this.options.join.filter((s) => s !== this.members?.address);
    while (!this.stopped && seeds.length > 0 && this.members && this.members.liveCount() <= 1) {
      await this.members.join(seeds);
      if (this.members.liveCount() > 1) break;
      await new Promise<void>((resolve) => this.ports.clock.setTimer(SWIM_JOIN_RETRY_MS, resolve));
    }
  }

  /** Leave SWIM, stop directing and renewing, close Raft and the endpoints. Components keep running. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Services first, while they can still reach their peers.
    if (this.services) await this.services.stop();
    this.formationTimer?.cancel();
    this.runtime.stop();
    this.director.stop();
    await this.members?.leave(500);
    await this.members?.shutdown();
    await this.raft?.shutdown();
    await this.transport?.close();
    await this.rpcListener?.close();
    await this.socket?.close();
  }

  onApplied(listener: () => void): void {
    this.appliedListeners.push(listener);
  }

  /**
   * Called when this node's own view changes outside the replicated state: its Raft role, term,
   * leader or voters, a gossip member's state, its lease phase (the API's live status lines).
   */
  onStatusChange(listener: () => void): void {
    this.statusListeners.push(listener);
  }

  private statusChanged(): void {
    for (const l of this.statusListeners) l();
  }

  status(): ClusterStatus {
    const raft = this.raft;
    return {
      node: this.name,
      incarnation: this.runtime.inc,
      phase: this.runtime.phase,
      holdsLease: this.runtime.holdsLease(),
      raftState: raft?.state() ?? 'starting',
      leader: raft?.leader(),
      term: raft?.currentTerm ?? 0,
      appliedIndex: raft?.appliedIndex ?? 0,
      epoch: this.fsm.state.epoch,
      members: (this.members?.members() ?? []).map((m) => ({ name: m.name, state: m.state })),
      nodes: Object.fromEntries(Object.entries(this.fsm.state.nodes).map(([n, s]) => [n, { up: s.up, inc: s.inc }])),
    };
  }

  /** The change log after `seq` (the source of the HTTP event stream). */
  changes(afterSeq: number): readonly ChangeRecord[] {
    return changesSince(this.fsm.state.changes, afterSeq);
  }

  /** Compare-and-set of the configuration, from any node (forwarded to the leader). */
  setConfig(text: string, expectEpoch: number): Promise<ClientResult> {
    return this.submit({ type: 'config-set', text, expectEpoch });
  }

  /**
   * An administrative operation, from any node. What it would stop, restart or take out of service
   * is asked first (votes.ts): a veto refuses it before anything is proposed. A migration is asked
   * by the source's agent when it begins (intent move), not here.
   */
  async admin(op: AdminOp, target: AdminTarget, to?: string): Promise<ClientResult> {
    const veto = op === 'migrate' ? undefined : await this.votes(op, target);
    if (veto !== undefined) return notDone('vetoed', veto);
    return this.submit({ type: 'admin', op, target, ...(to === undefined ? {} : { to }) });
  }

  /** `amfctl members admit|revoke`: a Raft seat for a node the configuration does not name (or none). */
  admit(node: string, seat: 'voter' | 'nonvoter' | 'none'): Promise<ClientResult> {
    return this.submit({ type: 'admit', node, seat });
  }

  /** The first veto of the operation, as the refusal's text; undefined: go ahead. */
  private async votes(op: AdminOp, target: AdminTarget): Promise<string | undefined> {
    const voting = heartbeatedComponents(this.fsm.model);
    if (voting.size === 0) return undefined;
    // What it affects is read from this replica: caught up with the leader first (best effort; a
    // replica that cannot catch up cannot get the operation committed either).
    if (this.raft && this.raft.state() !== 'leader') await this.raft.readBarrier(this.settings.proposeTimeoutMs);
    const affected = affectedComponents(this.fsm.model, this.fsm.state.amf, this.fsm.state.time, { kind: 'admin', op, target }).filter((a) => voting.has(heartbeatKey(a.su, a.comp)));
    const answers = await Promise.all(
      affected.map(async (a) => {
        const req: VoteRequest = { type: 'pre-terminate', su: a.su, comp: a.comp, ...intentOf(a, op) };
        const r = a.node === this.name ? await this.askLocal(req) : await this.askRemote(a.node, req);
        if (!r.ok) this.log.warn({ su: a.su, comp: a.comp, node: a.node, error: r.error }, `no vote from ${a.su}/${a.comp} on ${a.node}; going ahead`);
        return { a, veto: r.ok ? r.value : undefined };
      }),
    );
    const first = answers.find((x) => x.veto !== undefined);
    if (first?.veto === undefined) return undefined;
    return `${op} on ${describeTarget(target)} refused: ${first.a.su}/${first.a.comp} on ${first.a.node} vetoed it (${first.veto.by}): ${first.veto.reason}`;
  }

  private async askLocal(req: VoteRequest): Promise<Result<Veto | undefined, string>> {
    const agent = this.options.agent;
    if (agent === undefined) return ok(undefined);
    return agent.preTerminate(req.su, req.comp, { action: req.action, reason: req.reason });
  }

  private askRemote(node: string, req: VoteRequest): Promise<Result<Veto | undefined, string>> {
    const m = this.members?.member(node);
    const rpc = m ? decodeMeta(m.meta)?.rpc : undefined;
    if (rpc === undefined || !this.rpcStream) return Promise.resolve(err(`no rpc address for ${node}`));
    return askVote(this.rpcStream, this.ports.clock, rpc, req);
  }

  /** A vote request from another node, answered by this node's agent. */
  private async localVote(req: VoteRequest): Promise<VoteAnswer> {
    const r = await this.askLocal(req);
    return r.ok ? { ok: true, ...(r.value === undefined ? {} : { veto: { by: r.value.by, reason: r.value.reason } }) } : { ok: false, error: r.error };
  }

  /** `amfctl report-error`: an error report on a component, as the component itself would send it. */
  reportError(su: string, comp: string, recovery: Recovery, reason: string): Promise<ClientResult> {
    return this.submit({ type: 'operator-report', input: { kind: 'error-report', su, comp, recovery, source: 'error-report', reason } });
  }

  /** A client write: proposed here on the leader, else forwarded to the leader. */
  submit(req: ClientRequest): Promise<ClientResult> {
    if (this.raft?.state() === 'leader') return this.proposeHere(req);
    const to = this.leaderRpc();
    if (to === undefined) return Promise.resolve(notDone('no-leader'));
    if (!this.rpcStream) return Promise.resolve(notDone('not-started', 'not started'));
    return forward(this.rpcStream, this.ports.clock, to, req, this.settings.proposeTimeoutMs);
  }

  private proposeHere(req: ClientRequest): Promise<ClientResult> {
    if (this.raft?.state() !== 'leader') return Promise.resolve(notDone('not-leader'));
    return this.director.propose({ ...req, time: this.ports.clock.wallTime() } as ClusterEntry);
  }

  // Internals --------------------------------------------------------------------------------

  private memberInfos(): MemberInfo[] {
    return (this.members?.members() ?? []).map((m) => ({
      name: m.name,
      alive: m.state === 'alive' || m.state === 'suspect',
      meta: decodeMeta(m.meta),
    }));
  }

  private meta(): Uint8Array {
    const adv = this.options.advertise;
    return encodeMeta({ raft: adv?.raft ?? must(this.transport, 'meta() after start: the transport is listening').localAddress, rpc: adv?.rpc ?? must(this.socket, 'meta() after start: the socket is bound').address, formed: this.formed });
  }

  private raftAddressOf(id: string): string | undefined {
    const m = this.members?.member(id);
    return m ? decodeMeta(m.meta)?.raft : undefined;
  }

  private leaderRpc(): string | undefined {
    const id = this.raft?.leader()?.id;
    if (id === undefined || id === '') return undefined;
    if (id === this.name) return this.options.advertise?.rpc ?? this.socket?.address;
    const m = this.members?.member(id);
    return m ? decodeMeta(m.meta)?.rpc : undefined;
  }

  private onDatagram(data: Uint8Array, from: string): void {
    const m = decodeWire(data);
    if (!m.ok) {
      this.dropped.inc({ reason: 'malformed' });
      this.log.debug({ from, error: m.error }, 'dropped a malformed cluster datagram');
      return;
    }
    const msg = m.value;
    if (msg.t === 'renew') this.director.onRenew(msg, from);
    else if (msg.t === 'grant') this.runtime.onGrant(msg);
    else this.runtime.onDeny(msg);
  }

  private formationTick(): void {
    const raft = this.raft;
    const ml = this.members;
    if (!raft || !ml || this.stopped) return;
    const formed = raft.getConfiguration().length > 0;
    if (formed !== this.formed) {
      this.formed = formed;
      ml.setMeta(this.meta());
    }
    const members = this.memberInfos();
    if (!formed) return this.maybeBootstrap(raft, members);
    if (raft.state() !== 'leader' || this.changingMembership) return;
    const fsm = this.fsm;
    const configured = fsm.state.epoch > 0 ? configuredNodes(fsm.model) : new Set(this.options.bootstrapNodes ?? []);
    const policy: SeatPolicy = { configured, admitted: fsm.state.admitted, allowJoins: fsm.model.cluster.allowJoins };
    const change = nextMembershipChange(raft.getConfiguration(), members, this.deadSince, this.name, this.settings.maxVoters, this.settings.deadVoterGraceMs, this.ports.clock.now(), policy);
    if (!change) return;
    this.changingMembership = true;
    this.log.info({ change }, 'raft membership change');
    const t = this.settings.proposeTimeoutMs;
    const done =
      change.kind === 'removeServer' ? raft.removeServer(change.id, t) : change.kind === 'addVoter' ? raft.addVoter(change.id, change.address, t) : raft.addNonvoter(change.id, change.address, t);
    void done.then((r) => {
      this.changingMembership = false;
      if (!r.ok) this.log.warn({ change, error: r.error }, 'raft membership change failed');
    });
  }

  private maybeBootstrap(raft: Raft, members: readonly MemberInfo[]): void {
    const servers = bootstrapServers(this.name, members, this.settings.bootstrapExpect, new Set(this.options.bootstrapNodes ?? []));
    if (!servers) {
      this.bootstrapCandidate = undefined;
      return;
    }
    const key = servers.map((s) => `${s.id}@${s.address}`).join(',');
    const now = this.ports.clock.now();
    if (this.bootstrapCandidate?.key !== key) {
      this.bootstrapCandidate = { key, since: now };
      if (this.settings.bootstrapExpect > 1) return;
    }
    if (now - this.bootstrapCandidate.since < this.settings.bootstrapSettleMs && this.settings.bootstrapExpect > 1) return;
    this.bootstrapCandidate = undefined;
    this.log.info({ servers }, 'bootstrapping raft');
    void raft.bootstrap(servers).then((r) => {
      if (!r.ok) this.log.warn({ error: r.error }, 'raft bootstrap refused');
    });
  }
}

/** Validate the options and build a node (not started). */
export function createClusterNode(ports: NodePorts, options: ClusterNodeOptions): Result<ClusterNode, string[]> {
  const settings = resolveClusterSettings(options.settings);
  if (!settings.ok) return settings;
  if (!options.bind.swim || !options.bind.raft || !options.bind.rpc) return err(['cluster: bind.swim, bind.raft and bind.rpc are required']);
  const names = (options.services ?? []).map((s) => s.name);
  if (names.length > 0 && !options.agent) return err([`cluster: node services (${names.join(', ')}) need the node agent's hooks`]);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0) return err([`cluster: node service names must be unique (${[...new Set(twice)].join(', ')} given twice)`]);
  return ok(new ClusterNode(ports, options, settings.value));
}
