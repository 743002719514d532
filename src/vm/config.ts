/**
 * groups.conf: the `vm { … }` block that makes a component a virtual machine run through libvirt
 * (issue 17). The keys and their defaults, the typed settings the agent's vm driver gets
 * (`host.kind`), and how they are built and printed. Part of the model layer (imports model/
 * primitives only): every node parses groups.conf the same way. Whether the domain XML exists and
 * names a domain is checked by the vm driver when it runs, as clccli_path scripts and OCF agents are.
 */
import { absolutePath, locOf, num, optStr, optional, type BuildContext, type CheckedBlock } from '../model/checked.js';
import type { ItemList } from '../model/items.js';
import { durationKey, intKey, required, textKey, type BlockSpec } from '../model/spec.js';

export interface VmKind {
  readonly type: 'vm';
  /** The libvirt domain XML file, given to `virsh create` (never `define`). */
  readonly domainXml: string;
  /** The libvirt connection URI. */
  readonly uri: string;
  /** After `virsh shutdown`, how long to wait before `virsh destroy`. */
  readonly shutdownTimeoutMs: number;
  /** The libvirt URI of a migration destination, `{node}` standing for its node name. Unset: no live migration. */
  readonly migrationUri?: string;
  /** Attempts of a migration after the first, each checked by `virsh dominfo` on both ends. */
  readonly migrationRetries: number;
  /** Where the vm driver keeps its state files. */
  readonly stateDir: string;
}

export const VM_DEFAULTS = {
  uri: 'qemu:///system',
  migrationRetries: 3,
  stateDir: '/var/lib/amfd/vm',
} as const;

/** shutdown_timeout when unset: half the component's terminate_timeout, so `virsh destroy` still runs within it. */
export function defaultShutdownTimeout(terminateTimeoutMs: number): number {
  return Math.max(1, Math.floor(terminateTimeoutMs / 2));
}

/** The placeholder of migration_uri. */
export const MIGRATION_NODE = '{node}';

export const VM_BLOCK: BlockSpec = {
  keys: {
    domain_xml: required(textKey),
    uri: textKey,
    shutdown_timeout: durationKey(1),
    migration_uri: textKey,
    migration_retries: intKey(0),
    state_dir: textKey,
  },
  blocks: {},
  single: true,
};

/** `scheme:…` as libvirt URIs are (qemu:///system, qemu+ssh://host/system, test:///default). */
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\S*$/;

/** The typed settings of a component's `vm` block; `comp` names the component in errors. */
export function buildVmKind(ctx: BuildContext, b: CheckedBlock, comp: string, terminateTimeoutMs: number): VmKind {
  const what = `component ${comp}: vm`;
  const uriOf = (key: string): string | undefined => {
    const u = optStr(b, key);
    if (u !== undefined && !URI.test(u)) ctx.error(locOf(b, key), `${what}: "${key}" must be a libvirt URI (e.g. ${VM_DEFAULTS.uri}), not ${JSON.stringify(u)}`);
    return u;
  };
  const uri = uriOf('uri') ?? VM_DEFAULTS.uri;
  const migrationUri = uriOf('migration_uri');
  if (migrationUri !== undefined && !migrationUri.includes(MIGRATION_NODE)) {
    ctx.error(locOf(b, 'migration_uri'), `${what}: "migration_uri" must name the destination with ${MIGRATION_NODE} (e.g. qemu+ssh://${MIGRATION_NODE}/system)`);
  }
  const shutdown = num(b, 'shutdown_timeout');
  if (shutdown !== undefined && shutdown > terminateTimeoutMs) {
    ctx.error(locOf(b, 'shutdown_timeout'), `${what}: "shutdown_timeout" (${shutdown} ms) must not exceed the component's terminate_timeout (${terminateTimeoutMs} ms), within which destroy follows it`);
  }
  return {
    type: 'vm',
    domainXml: absolutePath(ctx, b, 'domain_xml', what) ?? '',
    uri,
    shutdownTimeoutMs: shutdown ?? defaultShutdownTimeout(terminateTimeoutMs),
    ...optional('migrationUri', migrationUri),
    migrationRetries: num(b, 'migration_retries') ?? VM_DEFAULTS.migrationRetries,
    stateDir: absolutePath(ctx, b, 'state_dir', what) ?? VM_DEFAULTS.stateDir,
  };
}

export function printVmKind(k: VmKind, terminateTimeoutMs: number, l: ItemList): ItemList {
  return l
    .set('domain_xml', k.domainXml)
    .set('uri', k.uri, VM_DEFAULTS.uri)
    .set('shutdown_timeout', k.shutdownTimeoutMs, defaultShutdownTimeout(terminateTimeoutMs))
    .set('migration_uri', k.migrationUri)
    .set('migration_retries', k.migrationRetries, VM_DEFAULTS.migrationRetries)
    .set('state_dir', k.stateDir, VM_DEFAULTS.stateDir);
}
