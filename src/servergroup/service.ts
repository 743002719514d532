/**
 * Server-group messaging as a node service (docs/architecture.md, "adding a node service"): every
 * amfd runs the host side (host.ts) for the members placed on it, fed by the committed state, and
 * relays broadcasts to the other nodes over the `servergroup` gossip channel (SWIM user messages,
 * sealed under the keyring when one is set).
 */
import type { ChangeRecord } from '../cluster/changelog.js';
import type { GossipChannel as ClusterGossipChannel } from '../cluster/gossip.js';
import type { CommittedState, NodeService, ServiceContext } from '../cluster/node-service.js';
import type { AmfModel } from '../model/types.js';
import type { ChannelNetwork } from '../runtime/ports/channel.js';
import type { FileSystem } from '../runtime/ports/files.js';
import type { Logger } from '../runtime/ports/observability.js';
import { err, ok, type Result } from '../util/result.js';
import { unixChannelOf } from '../vm/parse.js';
import { MESSAGING_CHANNEL, resolveServerGroups, type ServerGroup } from './group.js';
import { ServerGroupHost, type GossipChannel, type MemberChannelView } from './host.js';
import type { Applied } from './notify.js';
import type { MemberStatus } from './status.js';

export const SERVER_GROUP_GOSSIP = 'servergroup';
/** A domain XML larger than this is not one. */
const MAX_DOMAIN_XML = 1024 * 1024;

export interface ServerGroupServiceOptions {
  readonly channels: ChannelNetwork;
  /** Reads a vm member's domain XML for its messaging channel when the member names none. */
  readonly files: FileSystem;
}

/** What the API shows of the server groups, from this node. */
export interface ServerGroupsView {
  readonly node: string;
  readonly groups: readonly ServerGroup[];
  readonly statuses: ReadonlyMap<string, MemberStatus>;
  /** The member channels this node holds. */
  readonly channels: readonly MemberChannelView[];
  /** Members whose channel could not be found (their domain XML), as sentences. */
  readonly problems: readonly string[];
}

export class ServerGroupService implements NodeService {
  readonly name = 'server-groups';
  private host: ServerGroupHost | undefined;
  private channel: ClusterGossipChannel | undefined;
  private unsubscribe: (() => void) | undefined;
  private node = '';
  private resolvedFor: AmfModel | undefined;
  private groups: ServerGroup[] = [];
  private problems: string[] = [];

  constructor(private readonly opts: ServerGroupServiceOptions) {}

  start(ctx: ServiceContext): Promise<Result<void, string>> {
    const channel = ctx.gossip.channel(SERVER_GROUP_GOSSIP);
    if (!channel.ok) return Promise.resolve(err(channel.error));
    this.channel = channel.value;
    this.node = ctx.node;
    const gossip: GossipChannel = {
      send: (node, payload) => {
        const r = channel.value.send(payload, [node]);
        if (!r.ok) ctx.logger.debug({ node, error: r.error }, 'server-group packet not sent');
      },
      onMessage: (h) => channel.value.onMessage((m) => h(m.from, m.body)),
    };
    const host = new ServerGroupHost({ node: ctx.node, clock: ctx.clock, channels: this.opts.channels, gossip, logger: ctx.logger, metrics: ctx.metrics, maxPeerPayload: channel.value.maxBody });
    this.host = host;
    const committed = ctx.committed;
    host.onCommitted(this.applied(committed, committed.state().changes.records, ctx.logger));
    this.unsubscribe = committed.onChange((changes) => host.onCommitted(this.applied(committed, changes, ctx.logger)));
    return Promise.resolve(ok(undefined));
  }

  stop(): Promise<void> {
    this.unsubscribe?.();
    this.host?.stop();
    this.channel?.close();
    return Promise.resolve();
  }

  /** Undefined until the service started. */
  view(): ServerGroupsView | undefined {
    const host = this.host;
    if (!host) return undefined;
    return { node: this.node, groups: host.serverGroups(), statuses: host.statuses(), channels: host.channels(), problems: this.problems };
  }

  private applied(committed: CommittedState, changes: readonly ChangeRecord[], log: Logger): Applied {
    const model = committed.model();
    if (model !== this.resolvedFor) {
      this.resolvedFor = model;
      const r = resolveServerGroups(model, (xml) => this.domainChannel(xml));
      this.groups = r.groups;
      this.problems = r.problems;
      for (const p of r.problems) log.warn({ problem: p }, 'server-group member without a messaging channel');
    }
    const state = committed.state();
    return { groups: this.groups, amf: state.amf, time: state.time, changes, recoveries: recoveriesOf(changes) };
  }

  private domainChannel(xml: string): Result<string, string> {
    const text = this.opts.files.readText(xml, MAX_DOMAIN_XML);
    if (!text.ok) return err(`cannot read the domain XML: ${text.error.kind === 'failed' ? text.error.detail : text.error.kind}`);
    return unixChannelOf(text.value, MESSAGING_CHANNEL);
  }
}

/** The recoveries an entry decided (`comp/SU/c` recovery records), by SU: a member failed. */
function recoveriesOf(changes: readonly ChangeRecord[]): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const c of changes) {
    if (c.field !== 'recovery' || c.new === null || !c.entity.startsWith('comp/')) continue;
    const su = c.entity.split('/')[1];
    if (su !== undefined) out.set(su, c.new);
  }
  return out;
}
