/**
 * The canonical text form. `printDocument` lays out a parsed file (tab indentation, `key = value`,
 * comments and single blank lines kept, values as written). `printModel` writes a model as a
 * document: values that equal their default are left out unless `explicit` is set (the diff uses
 * the explicit form so that a changed default is still a change).
 */
import { printGuestHeartbeat } from '../heartbeat/config.js';
import { printServerGroup } from '../servergroup/config.js';
import { printVmKind } from '../vm/config.js';
import { groupDefaults, siStandbyDefault } from './build.js';
import { DEFAULTS } from './defaults.js';
import type { ConfigDocument, DocItem } from './document.js';
import { ItemList, NO_LOC } from './items.js';
import type { AmfModel, CompConfig, GlobalHealthcheck, HealthcheckConfig, NodeConfig, SgConfig, SiConfig, SuConfig } from './types.js';

export function printDocument(doc: ConfigDocument): string {
  const out: string[] = [];
  const emit = (items: readonly DocItem[], depth: number): void => {
    const indent = '\t'.repeat(depth);
    for (const item of items) {
      switch (item.kind) {
        case 'blank':
          out.push('');
          break;
        case 'comment':
          out.push(`${indent}#${item.text}`);
          break;
        case 'entry':
          out.push(`${indent}${item.key} =${item.raw === '' ? '' : ` ${item.raw}`}${trailing(item.trailing)}`);
          break;
        case 'block':
          out.push(`${indent}${item.name} {${trailing(item.trailing)}`);
          emit(item.items, depth + 1);
          out.push(`${indent}}${trailing(item.closeTrailing)}`);
          break;
      }
    }
  };
  emit(doc.items, 0);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

const trailing = (comment: string | undefined): string => (comment === undefined ? '' : ` #${comment}`);

export interface PrintOptions {
  /** Write every value, defaults included, and each component's effective paths. */
  readonly explicit?: boolean;
}

export function printModel(model: AmfModel, options: PrintOptions = {}): string {
  return printDocument(modelToDocument(model, options));
}

export function modelToDocument(model: AmfModel, options: PrintOptions = {}): ConfigDocument {
  const explicit = options.explicit ?? false;
  const list = (): ItemList => new ItemList(explicit);
  const top: DocItem[] = [];
  const add = (name: string, inner: ItemList): void => {
    if (top.length > 0) top.push({ kind: 'blank' });
    top.push({ kind: 'block', name, items: inner.items, loc: NO_LOC });
  };

  const c = model.cluster;
  const cluster = list()
    .set('name', c.name, DEFAULTS.clusterName)
    .set('node_failover_probation', c.nodeFailoverProbationMs, DEFAULTS.nodeFailoverProbationMs)
    .set('node_failover_max', c.nodeFailoverMax, DEFAULTS.nodeFailoverMax)
    .set('allow_joins', c.allowJoins, DEFAULTS.allowJoins)
    .record('attributes', c.attributes);
  if (cluster.items.length > 0 || explicit) add('cluster', cluster);
  for (const n of model.nodes) add('node', nodeItems(list(), n, model));
  for (const g of model.groups) add('group', groupItems(list, g, explicit));
  for (const h of model.healthchecks) add('healthcheck', globalHealthcheckItems(list(), h));
  for (const sg of model.serverGroups) add('server_group', printServerGroup(sg, list()));
  return { file: '<model>', items: top };
}

function nodeItems(l: ItemList, n: NodeConfig, model: AmfModel): ItemList {
  return l
    .set('name', n.name)
    .set('admin_state', n.adminState, DEFAULTS.adminState)
    .set('node_failover_probation', n.nodeFailoverProbationMs, model.cluster.nodeFailoverProbationMs)
    .set('node_failover_max', n.nodeFailoverMax, model.cluster.nodeFailoverMax)
    .record('attributes', n.attributes);
}

function globalHealthcheckItems(l: ItemList, h: GlobalHealthcheck): ItemList {
  return l
    .set('key', h.key)
    .set('period', h.periodMs, DEFAULTS.healthcheckPeriodMs)
    .set('maximum_duration', h.maximumDurationMs, DEFAULTS.healthcheckMaximumDurationMs);
}

/** The value every item shares, if they all have the same defined one (to write it once, higher up). */
function shared(values: readonly (string | undefined)[]): string | undefined {
  const first = values[0];
  return first !== undefined && values.every((v) => v === first) ? first : undefined;
}

interface Paths {
  readonly clccliPath?: string | undefined;
  readonly binaryPath?: string | undefined;
}

function groupItems(list: () => ItemList, g: SgConfig, explicit: boolean): ItemList {
  const d = groupDefaults(g.model, g.units.length, g.sis.length);
  const comps = g.units.flatMap((u) => u.components);
  // Effective paths are hoisted to the highest level that holds them for every component below.
  const paths: Paths = explicit
    ? {}
    : { clccliPath: shared(comps.map((x) => x.clccliPath)), binaryPath: shared(comps.map((x) => x.binaryPath)) };
  const l = list()
    .set('name', g.name)
    .set('model', g.model)
    .set('preferred-active-units', g.preferredActiveUnits, d.preferredActiveUnits)
    .set('maximum-active-instances', g.maximumActiveInstances, d.maximumActiveInstances)
    // N-Way-Active ignores its standby keys (with a warning): never write them.
    .set('preferred-standby-units', g.model === 'nwayactive' ? undefined : g.preferredStandbyUnits, d.preferredStandbyUnits)
    .set('maximum-standby-instances', g.model === 'nwayactive' ? undefined : g.maximumStandbyInstances, d.maximumStandbyInstances)
    .set('preferred-assigned-units', g.preferredAssignedUnits, d.preferredAssignedUnits)
    .set('clccli_path', paths.clccliPath)
    .set('binary_path', paths.binaryPath)
    .set('component_restart_probation', g.componentRestartProbationMs, DEFAULTS.componentRestartProbationMs)
    .set('component_restart_max', g.componentRestartMax, DEFAULTS.componentRestartMax)
    .set('unit_restart_probation', g.unitRestartProbationMs, DEFAULTS.unitRestartProbationMs)
    .set('unit_restart_max', g.unitRestartMax, DEFAULTS.unitRestartMax)
    .set('admin_state', g.adminState, DEFAULTS.adminState);
  for (const u of g.units) l.block('unit', unitItems(list, u, paths, explicit));
  for (const si of g.sis) l.block('serviceinstance', siItems(list(), si, g, d.preferredActiveAssignments));
  return l;
}

function unitItems(list: () => ItemList, u: SuConfig, above: Paths, explicit: boolean): ItemList {
  const here = (pick: (c: CompConfig) => string | undefined, inherited: string | undefined): string | undefined => {
    if (explicit) return undefined;
    const v = shared(u.components.map(pick));
    return v === inherited ? undefined : v;
  };
  const paths: Paths = {
    clccliPath: here((c) => c.clccliPath, above.clccliPath),
    binaryPath: here((c) => c.binaryPath, above.binaryPath),
  };
  const effective: Paths = {
    clccliPath: paths.clccliPath ?? above.clccliPath,
    binaryPath: paths.binaryPath ?? above.binaryPath,
  };
  const l = list()
    .set('name', u.name)
    .set('clccli_path', paths.clccliPath)
    .set('binary_path', paths.binaryPath);
  if (u.nodes.length === 1) l.set('node', u.nodes[0]);
  else l.words('nodes', u.nodes);
  l.set('rank', u.rank, DEFAULTS.rank)
    .set('admin_state', u.adminState, DEFAULTS.adminState)
    .set('su_failover', u.failover, DEFAULTS.suFailover);
  for (const c of u.components) l.block('component', componentItems(list, c, effective));
  return l;
}

function componentItems(list: () => ItemList, c: CompConfig, inherited: Paths): ItemList {
  const l = list()
    .set('name', c.name)
    .set('comptype', c.category, c.kind.type === 'clccli' ? 'sa_aware' : 'non_proxied_non_sa_aware');
  if (c.kind.type === 'command') l.words('command', c.kind.argv);
  if (c.kind.type === 'ocf') l.set('ocf', `${c.kind.provider}:${c.kind.agent}`);
  if (c.kind.type === 'vm') l.block('vm', printVmKind(c.kind, c.terminateTimeoutMs, list()));
  l.set('bn', c.binaryName)
    .set('instantiate', c.instantiate)
    .set('terminate', c.terminate)
    .set('cleanup', c.cleanup)
    .set('am_start', c.amStart)
    .set('am_stop', c.amStop)
    .set('clccli_path', c.clccliPath === inherited.clccliPath ? undefined : c.clccliPath)
    .set('binary_path', c.binaryPath === inherited.binaryPath ? undefined : c.binaryPath)
    .set('instantiate_timeout', c.instantiateTimeoutMs, DEFAULTS.instantiateTimeoutMs)
    .set('terminate_timeout', c.terminateTimeoutMs, DEFAULTS.terminateTimeoutMs)
    .set('cleanup_timeout', c.cleanupTimeoutMs, DEFAULTS.cleanupTimeoutMs)
    .set('quiescing_complete_timeout', c.quiescingCompleteTimeoutMs, DEFAULTS.quiescingCompleteTimeoutMs)
    .set('instantiate_retries', c.instantiateRetries, DEFAULTS.instantiateRetries)
    .set('instantiate_retry_delay', c.instantiateRetryDelayMs, DEFAULTS.instantiateRetryDelayMs)
    .set('recovery_on_error', c.recoveryOnError, DEFAULTS.recoveryOnError)
    .set('disable_restart', c.disableRestart, DEFAULTS.disableRestart)
    .set('pidfile', c.pidfile);
  for (const t of c.csiTypes) l.block('csi_type_name', list().set('name', t));
  for (const h of c.healthchecks) l.block('healthcheck', healthcheckItems(list(), h));
  l.record('env', c.env);
  if (c.guestHeartbeat) l.block('guest_heartbeat', printGuestHeartbeat(c.guestHeartbeat, list()));
  return l;
}

function healthcheckItems(l: ItemList, h: HealthcheckConfig): ItemList {
  // Without its own timing a component healthcheck would take a global key's; writing the
  // timing always keeps the meaning whatever the global blocks say.
  return l
    .set('key', h.key)
    .set('period', h.periodMs)
    .set('maximum_duration', h.maximumDurationMs)
    .set('invocation', h.invocation, h.command !== undefined ? 'command' : 'amf')
    .set('command', h.command);
}

function siItems(l: ItemList, si: SiConfig, g: SgConfig, activeDefault: number): ItemList {
  l.set('name', si.name)
    .set('rank', si.rank, DEFAULTS.rank)
    .set('admin_state', si.adminState, DEFAULTS.adminState)
    .words('depends_on', si.dependsOn);
  // These two only exist in the models that use them (the parser refuses them elsewhere).
  if (g.model === 'nwayactive') l.set('preferred-active-assignments', si.preferredActiveAssignments, activeDefault);
  if (g.model === 'nway') l.set('preferred-standby-assignments', si.preferredStandbyAssignments, siStandbyDefault(g));
  for (const csi of si.csis) {
    const inner = new ItemList(true).set('csi_name', csi.name).set('type_name', csi.typeName);
    for (const a of csi.attributes) inner.block('name_value', new ItemList(true).set('name', a.name).set('value', a.value));
    l.block('csi_descriptor', inner);
  }
  return l;
}
