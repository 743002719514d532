/**
 * From checked blocks to the semantic model: defaults, inheritance (clccli_path/binary_path go
 * component → unit → group), cross-references (nodes, CSI types, SI dependencies) and the
 * constraints of each redundancy model. Every problem is collected; nothing throws.
 */
import { buildGuestHeartbeat } from '../heartbeat/config.js';
import { buildServerGroups } from '../servergroup/config.js';
import { err, ok, type Result } from '../util/result.js';
import { buildVmKind } from '../vm/config.js';
import { checkDocument } from './check.js';
import { bool, children, get, isOcf, list, locOf, num, optional, optStr, record, str, type BuildContext, type CheckedBlock } from './checked.js';
import { DEFAULTS } from './defaults.js';
import type { ConfigDocument } from './document.js';
import { ConfigError, sortErrors } from './errors.js';
import { closest } from './suggest.js';
import type { AmfModel, ClusterConfig, CompConfig, CompKind, CsiConfig, GlobalHealthcheck, HealthcheckConfig, NodeConfig, SgConfig, SiConfig, SourceLoc, SuConfig } from './types.js';
import type { AdminState, CompCategory, HealthcheckInvocation, Recovery, RedundancyModel } from './vocabulary.js';

export function toModel(doc: ConfigDocument, warnings?: ConfigError[]): Result<AmfModel, ConfigError[]> {
  const errors: ConfigError[] = [];
  const root = checkDocument(doc, errors);
  const found: ConfigError[] = [];
  const model = new Builder(errors, found).model(root);
  if (errors.length > 0) return err(sortErrors(errors));
  warnings?.push(...sortErrors(found));
  return ok(deepFreeze(model));
}

/** Standby keys N-Way-Active has no use for: OpenSAF files set them anyway (to 0). */
const NWAY_ACTIVE_IGNORED = 'N-Way-Active has no standby';

class Builder implements BuildContext {
  /** Names already used, per namespace, for duplicate detection. */
  private readonly seen = new Map<string, Map<string, SourceLoc>>();
  /** Where each SI's depends_on was written, for dependency errors. */
  private readonly dependsOnLoc = new Map<string, SourceLoc>();

  constructor(
    private readonly errors: ConfigError[],
    private readonly warnings: ConfigError[],
  ) {}

  error(loc: SourceLoc, message: string): void {
    this.errors.push(ConfigError.at(loc, message));
  }

  /** A key given but of no use here: accepted, its value ignored, the user told. */
  private ignored(b: CheckedBlock, key: string, what: string, why: string): void {
    this.warnings.push(ConfigError.at(locOf(b, key), `${what}: "${key}" is ignored: ${why}`));
  }

  /** Records a name in a namespace, or reports it as a duplicate. */
  claim(namespace: string, what: string, name: string, loc: SourceLoc, scope = ''): void {
    const names = this.seen.get(namespace) ?? new Map<string, SourceLoc>();
    this.seen.set(namespace, names);
    const first = names.get(name);
    if (first) this.error(loc, `duplicate ${what} "${name}"${scope} (first defined at line ${first.line})`);
    else names.set(name, loc);
  }

  model(root: CheckedBlock): AmfModel {
    const cluster = this.cluster(children(root, 'cluster')[0]);
    const nodes = children(root, 'node').map((b) => this.node(b, cluster));
    const healthchecks = children(root, 'healthcheck').map((b) => this.globalHealthcheck(b));
    const groups = children(root, 'group').map((b) => this.group(b, nodes, healthchecks));
    this.checkDependencies(groups);
    const units = new Map(groups.flatMap((g) => g.units.map((u) => [u.name, new Map(u.components.map((c) => [c.name, c.kind.type === 'vm']))] as const)));
    const serverGroups = buildServerGroups(this, children(root, 'server_group'), { units });
    return { cluster, nodes, groups, healthchecks, serverGroups };
  }

  private cluster(b: CheckedBlock | undefined): ClusterConfig {
    return {
      name: (b && str(b, 'name')) ?? DEFAULTS.clusterName,
      nodeFailoverProbationMs: (b && num(b, 'node_failover_probation')) ?? DEFAULTS.nodeFailoverProbationMs,
      nodeFailoverMax: (b && num(b, 'node_failover_max')) ?? DEFAULTS.nodeFailoverMax,
      allowJoins: (b && bool(b, 'allow_joins')) ?? DEFAULTS.allowJoins,
      attributes: record(b && children(b, 'attributes')[0]),
    };
  }

  private node(b: CheckedBlock, cluster: ClusterConfig): NodeConfig {
    const name = str(b, 'name') ?? '';
    if (name) this.claim('node', 'node', name, locOf(b, 'name'));
    return {
      name,
      adminState: this.adminState(b),
      attributes: record(children(b, 'attributes')[0]),
      nodeFailoverProbationMs: num(b, 'node_failover_probation') ?? cluster.nodeFailoverProbationMs,
      nodeFailoverMax: num(b, 'node_failover_max') ?? cluster.nodeFailoverMax,
      loc: b.loc,
    };
  }

  private globalHealthcheck(b: CheckedBlock): GlobalHealthcheck {
    const key = str(b, 'key') ?? '';
    if (key) this.claim('healthcheck', 'healthcheck key', key, locOf(b, 'key'));
    return {
      key,
      periodMs: num(b, 'period') ?? DEFAULTS.healthcheckPeriodMs,
      maximumDurationMs: num(b, 'maximum_duration') ?? DEFAULTS.healthcheckMaximumDurationMs,
      loc: b.loc,
    };
  }

  private adminState(b: CheckedBlock): AdminState {
    return (str(b, 'admin_state') as AdminState | undefined) ?? DEFAULTS.adminState;
  }

  private group(b: CheckedBlock, nodes: readonly NodeConfig[], globals: readonly GlobalHealthcheck[]): SgConfig {
    const name = str(b, 'name') ?? '';
    if (name) this.claim('group', 'group', name, locOf(b, 'name'));
    const model = (str(b, 'model') as RedundancyModel | undefined) ?? DEFAULTS.redundancyModel;
    const paths = { clccliPath: optStr(b, 'clccli_path'), binaryPath: optStr(b, 'binary_path') };
    const units = children(b, 'unit').map((u) => this.unit(u, paths, nodes, globals));
    const defaults = groupDefaults(model, units.length, children(b, 'serviceinstance').length);
    const standbyKey = (key: string, fallback: number, relevant: (n: number) => boolean): number => {
      const n = num(b, key);
      if (n === undefined) return fallback;
      if (model !== 'nwayactive' || relevant(n)) return n;
      this.ignored(b, key, `group ${name}`, NWAY_ACTIVE_IGNORED);
      return fallback;
    };
    const sg: SgConfig = {
      name,
      model,
      preferredActiveUnits: num(b, 'preferred-active-units') ?? defaults.preferredActiveUnits,
      maximumActiveInstances: num(b, 'maximum-active-instances') ?? defaults.maximumActiveInstances,
      preferredStandbyUnits: standbyKey('preferred-standby-units', defaults.preferredStandbyUnits, (n) => n === 0),
      maximumStandbyInstances: standbyKey('maximum-standby-instances', defaults.maximumStandbyInstances, () => false),
      preferredAssignedUnits: num(b, 'preferred-assigned-units') ?? defaults.preferredAssignedUnits,
      adminState: this.adminState(b),
      componentRestartProbationMs: num(b, 'component_restart_probation') ?? DEFAULTS.componentRestartProbationMs,
      componentRestartMax: num(b, 'component_restart_max') ?? DEFAULTS.componentRestartMax,
      unitRestartProbationMs: num(b, 'unit_restart_probation') ?? DEFAULTS.unitRestartProbationMs,
      unitRestartMax: num(b, 'unit_restart_max') ?? DEFAULTS.unitRestartMax,
      units,
      sis: [],
      loc: b.loc,
    };
    this.checkModelConstraints(b, sg);
    const sis = children(b, 'serviceinstance').map((s) => this.serviceInstance(s, sg, defaults));
    return { ...sg, sis };
  }

  private checkModelConstraints(b: CheckedBlock, sg: SgConfig): void {
    const must = (key: string, actual: number, expected: number, why: string): void => {
      if (actual !== expected) this.error(locOf(b, key), `group ${sg.name}: "${key}" must be ${expected} for model ${sg.model} (${why}), not ${actual}`);
    };
    switch (sg.model) {
      case '2n':
        must('preferred-active-units', sg.preferredActiveUnits, 1, '2N has one active and one standby SU');
        must('preferred-standby-units', sg.preferredStandbyUnits, 1, '2N has one active and one standby SU');
        break;
      case 'nwayactive':
        // Its standby keys were ignored with a warning (standbyKey in group()).
        break;
      case 'noredundancy':
        must('preferred-standby-units', sg.preferredStandbyUnits, 0, 'No-Redundancy has no standby');
        must('maximum-active-instances', sg.maximumActiveInstances, 1, 'a No-Redundancy SU serves at most one SI');
        break;
      case 'nplusm':
      case 'nway':
        break;
    }
    // The schema lets 0 through for N-Way-Active's sake; every other model needs a standby slot.
    if (sg.model !== 'nwayactive' && sg.maximumStandbyInstances < 1) {
      this.error(locOf(b, 'maximum-standby-instances'), `"maximum-standby-instances" must be at least 1, not ${sg.maximumStandbyInstances}`);
    }
  }

  private unit(
    b: CheckedBlock,
    inherited: { clccliPath: string | undefined; binaryPath: string | undefined },
    nodes: readonly NodeConfig[],
    globals: readonly GlobalHealthcheck[],
  ): SuConfig {
    const name = str(b, 'name') ?? '';
    if (name) this.claim('unit', 'unit', name, locOf(b, 'name'));
    const paths = {
      clccliPath: optStr(b, 'clccli_path') ?? inherited.clccliPath,
      binaryPath: optStr(b, 'binary_path') ?? inherited.binaryPath,
    };
    const one = str(b, 'node');
    const many = list(b, 'nodes');
    if (one !== undefined && many !== undefined) {
      this.error(locOf(b, 'nodes'), `unit ${name}: give either "node" or "nodes", not both`);
    }
    const placement = many ?? (one !== undefined ? [one] : []);
    if (nodes.length > 0) {
      const declared = nodes.map((n) => n.name);
      for (const n of placement) {
        if (declared.includes(n)) continue;
        const near = closest(n, declared);
        const hint = near !== undefined ? `; did you mean "${near}"?` : ` (declared: ${declared.join(', ')})`;
        this.error(locOf(b, many ? 'nodes' : 'node'), `unit ${name}: node "${n}" is not declared${hint}`);
      }
    }
    const components = children(b, 'component').map((c) => this.component(c, name, paths, globals));
    if (components.length === 0) this.error(b.loc, `unit ${name} has no component`);
    return {
      name,
      rank: num(b, 'rank') ?? DEFAULTS.rank,
      nodes: placement,
      adminState: this.adminState(b),
      failover: bool(b, 'su_failover') ?? DEFAULTS.suFailover,
      components,
      loc: b.loc,
    };
  }

  private component(
    b: CheckedBlock,
    unitName: string,
    inherited: { clccliPath: string | undefined; binaryPath: string | undefined },
    globals: readonly GlobalHealthcheck[],
  ): CompConfig {
    const name = str(b, 'name') ?? '';
    if (name) this.claim(`component:${unitName}`, 'component', name, locOf(b, 'name'), ` in unit ${unitName}`);
    const terminateTimeoutMs = num(b, 'terminate_timeout') ?? DEFAULTS.terminateTimeoutMs;
    const kind = this.compKind(b, name, terminateTimeoutMs);
    const csiTypes: string[] = [];
    for (const t of children(b, 'csi_type_name')) {
      const type = str(t, 'name');
      if (type === undefined) continue;
      if (csiTypes.includes(type)) this.error(locOf(t, 'name'), `component ${name}: CSI type "${type}" is listed twice`);
      else csiTypes.push(type);
    }
    const hcKeys = new Set<string>();
    const healthchecks: HealthcheckConfig[] = [];
    for (const h of children(b, 'healthcheck')) {
      const hc = this.componentHealthcheck(h, name, globals);
      if (hcKeys.has(hc.key)) this.error(locOf(h, 'key'), `component ${name}: duplicate healthcheck key "${hc.key}"`);
      hcKeys.add(hc.key);
      healthchecks.push(hc);
    }
    const heartbeat = children(b, 'guest_heartbeat')[0];
    const category = (str(b, 'comptype') as CompCategory | undefined) ?? (kind.type === 'clccli' ? 'sa_aware' : 'non_proxied_non_sa_aware');
    if (category === 'proxied_pre' || category === 'proxied_non_pre') {
      this.error(
        locOf(b, 'comptype'),
        `component ${name}: comptype ${category} is not supported: amfd has no proxy components (a proxy registering the proxied component and answering its CSI callbacks); run the program as non_proxied_non_sa_aware (CLC-CLI scripts, a command or an OCF agent) or make it sa_aware`,
      );
    }
    return {
      name,
      category,
      kind,
      ...optional('binaryName', optStr(b, 'bn')),
      ...optional('instantiate', optStr(b, 'instantiate')),
      ...optional('terminate', optStr(b, 'terminate')),
      ...optional('cleanup', optStr(b, 'cleanup')),
      ...optional('amStart', optStr(b, 'am_start')),
      ...optional('amStop', optStr(b, 'am_stop')),
      ...optional('clccliPath', optStr(b, 'clccli_path') ?? inherited.clccliPath),
      ...optional('binaryPath', optStr(b, 'binary_path') ?? inherited.binaryPath),
      csiTypes,
      instantiateTimeoutMs: num(b, 'instantiate_timeout') ?? DEFAULTS.instantiateTimeoutMs,
      terminateTimeoutMs,
      cleanupTimeoutMs: num(b, 'cleanup_timeout') ?? DEFAULTS.cleanupTimeoutMs,
      quiescingCompleteTimeoutMs: num(b, 'quiescing_complete_timeout') ?? DEFAULTS.quiescingCompleteTimeoutMs,
      instantiateRetries: num(b, 'instantiate_retries') ?? DEFAULTS.instantiateRetries,
      instantiateRetryDelayMs: num(b, 'instantiate_retry_delay') ?? DEFAULTS.instantiateRetryDelayMs,
      recoveryOnError: (str(b, 'recovery_on_error') as Recovery | undefined) ?? DEFAULTS.recoveryOnError,
      disableRestart: bool(b, 'disable_restart') ?? DEFAULTS.disableRestart,
      healthchecks,
      env: record(children(b, 'env')[0]),
      ...optional('pidfile', optStr(b, 'pidfile')),
      ...optional('guestHeartbeat', heartbeat && buildGuestHeartbeat(this, heartbeat, name, kind.type === 'vm')),
      loc: b.loc,
    };
  }

  private compKind(b: CheckedBlock, name: string, terminateTimeoutMs: number): CompKind {
    const command = list(b, 'command');
    const ocf = get(b, 'ocf', isOcf);
    const vm = children(b, 'vm')[0];
    const given = [command && 'command', ocf && 'ocf', vm && 'vm'].filter((k): k is string => typeof k === 'string');
    if (given.length > 1) this.error(vm ? vm.loc : locOf(b, 'ocf'), `component ${name}: give one of "command", "ocf" or "vm", not ${given.map((k) => `"${k}"`).join(' and ')}`);
    const kind: CompKind = command
      ? { type: 'command', argv: command }
      : ocf
        ? { type: 'ocf', provider: ocf.provider, agent: ocf.agent }
        : vm
          ? buildVmKind(this, vm, name, terminateTimeoutMs)
          : { type: 'clccli' };
    if (kind.type !== 'clccli') {
      for (const key of ['instantiate', 'terminate', 'cleanup']) {
        if (optStr(b, key) === undefined) continue;
        this.error(locOf(b, key), `component ${name}: "${key}" is for CLC-CLI components; a "${kind.type}" component is started and stopped by amfd`);
      }
    }
    return kind;
  }

  private componentHealthcheck(b: CheckedBlock, compName: string, globals: readonly GlobalHealthcheck[]): HealthcheckConfig {
    const key = str(b, 'key') ?? '';
    // A component's healthcheck takes its timing from the global key of the same name (openais
    // style) unless it gives its own.
    const global = globals.find((g) => g.key === key);
    const command = optStr(b, 'command');
    const invocation = (str(b, 'invocation') as HealthcheckInvocation | undefined) ?? (command ? 'command' : 'amf');
    if (invocation === 'command' && !command) {
      this.error(locOf(b, 'invocation'), `component ${compName}: healthcheck ${key} with invocation = command needs "command"`);
    }
    if (invocation !== 'command' && command) {
      this.error(locOf(b, 'command'), `component ${compName}: healthcheck ${key} has a "command" but invocation = ${invocation}`);
    }
    return {
      key,
      periodMs: num(b, 'period') ?? global?.periodMs ?? DEFAULTS.healthcheckPeriodMs,
      maximumDurationMs: num(b, 'maximum_duration') ?? global?.maximumDurationMs ?? DEFAULTS.healthcheckMaximumDurationMs,
      invocation,
      ...optional('command', command),
      loc: b.loc,
    };
  }

  private serviceInstance(b: CheckedBlock, sg: SgConfig, defaults: GroupDefaults): SiConfig {
    const name = str(b, 'name') ?? '';
    if (name) this.claim('serviceinstance', 'serviceinstance', name, locOf(b, 'name'));
    const adminState = this.adminState(b);
    if (adminState === 'locked-instantiation') {
      this.error(locOf(b, 'admin_state'), `serviceinstance ${name}: admin_state must be unlocked or locked (locked-instantiation applies to groups, units and nodes)`);
    }
    const onlyFor = (key: string, models: readonly RedundancyModel[]): void => {
      if (b.values.has(key) && !models.includes(sg.model)) {
        this.error(locOf(b, key), `serviceinstance ${name}: "${key}" applies only to model ${models.join(' or ')} (group ${sg.name} is ${sg.model})`);
      }
    };
    if (b.values.has('depends_on')) this.dependsOnLoc.set(name, locOf(b, 'depends_on'));
    onlyFor('preferred-active-assignments', ['nwayactive']);
    if (sg.model === 'nwayactive' && b.values.has('preferred-standby-assignments')) {
      this.ignored(b, 'preferred-standby-assignments', `serviceinstance ${name}`, NWAY_ACTIVE_IGNORED);
    } else onlyFor('preferred-standby-assignments', ['nway']);
    const accepted = new Set(sg.units.flatMap((u) => u.components.flatMap((c) => c.csiTypes)));
    const csiNames = new Set<string>();
    const csis: CsiConfig[] = [];
    for (const c of children(b, 'csi_descriptor')) {
      const csiName = str(c, 'csi_name') ?? '';
      const typeName = str(c, 'type_name') ?? '';
      if (csiNames.has(csiName)) this.error(locOf(c, 'csi_name'), `serviceinstance ${name}: duplicate CSI "${csiName}"`);
      csiNames.add(csiName);
      if (typeName && !accepted.has(typeName)) {
        const near = closest(typeName, accepted);
        const hint = near !== undefined ? `; did you mean "${near}"?` : accepted.size > 0 ? ` (accepted: ${[...accepted].join(', ')})` : '';
        this.error(locOf(c, 'type_name'), `CSI ${csiName} of ${name}: no component of group ${sg.name} accepts CSI type "${typeName}"${hint}`);
      }
      const attributes = children(c, 'name_value').map((nv) => ({ name: str(nv, 'name') ?? '', value: str(nv, 'value') ?? '' }));
      csis.push({ name: csiName, typeName, attributes, loc: c.loc });
    }
    return {
      name,
      rank: num(b, 'rank') ?? DEFAULTS.rank,
      adminState,
      csis,
      dependsOn: list(b, 'depends_on') ?? [],
      preferredActiveAssignments: num(b, 'preferred-active-assignments') ?? defaults.preferredActiveAssignments,
      preferredStandbyAssignments: (sg.model === 'nwayactive' ? undefined : num(b, 'preferred-standby-assignments')) ?? siStandbyDefault(sg),
      loc: b.loc,
    };
  }

  /** Every SI a dependency names exists, and dependencies form no cycle. */
  private checkDependencies(groups: readonly SgConfig[]): void {
    const sis = new Map(groups.flatMap((g) => g.sis.map((si) => [si.name, si] as const)));
    const depLoc = (si: SiConfig): SourceLoc => this.dependsOnLoc.get(si.name) ?? si.loc;
    for (const si of sis.values()) {
      for (const dep of si.dependsOn) {
        if (dep === si.name) this.error(depLoc(si), `serviceinstance ${si.name} depends on itself`);
        else if (!sis.has(dep)) {
          const near = closest(dep, sis.keys());
          this.error(depLoc(si), `serviceinstance ${si.name} depends on unknown serviceinstance "${dep}"${near !== undefined ? `; did you mean "${near}"?` : ''}`);
        }
      }
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: string[]): void => {
      const si = sis.get(name);
      if (!si || state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') {
        const cycle = [...path.slice(path.indexOf(name)), name];
        this.error(depLoc(si), `serviceinstance dependencies form a cycle: ${cycle.join(' -> ')}`);
        return;
      }
      state.set(name, 'visiting');
      for (const dep of si.dependsOn) if (dep !== name) visit(dep, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of sis.keys()) visit(name, []);
  }
}

export interface GroupDefaults {
  readonly preferredActiveUnits: number;
  readonly preferredStandbyUnits: number;
  readonly maximumActiveInstances: number;
  readonly maximumStandbyInstances: number;
  readonly preferredAssignedUnits: number;
  readonly preferredActiveAssignments: number;
}

/**
 * Defaults that depend on the redundancy model and the size of the group. Maxima default to the
 * number of SIs (no limit); N-Way-Active and No-Redundancy use every SU actively.
 */
export function groupDefaults(model: RedundancyModel, unitCount: number, siCount: number): GroupDefaults {
  const allUnits = Math.max(1, unitCount);
  const allSis = Math.max(1, siCount);
  const everyUnitActive = model === 'nwayactive' || model === 'noredundancy';
  return {
    preferredActiveUnits: everyUnitActive ? allUnits : 1,
    preferredStandbyUnits: everyUnitActive ? 0 : 1,
    maximumActiveInstances: model === 'noredundancy' ? 1 : allSis,
    maximumStandbyInstances: allSis,
    preferredAssignedUnits: allUnits,
    preferredActiveAssignments: model === 'nwayactive' ? allUnits : 1,
  };
}

/** Standby assignments per SI: one where the model has standbys, none otherwise. */
export function siStandbyDefault(sg: Pick<SgConfig, 'model' | 'preferredStandbyUnits'>): number {
  if (sg.model === 'nwayactive' || sg.model === 'noredundancy') return 0;
  return Math.min(1, sg.preferredStandbyUnits);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
