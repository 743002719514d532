/**
 * What may appear where in a groups.conf: blocks, their keys and the type of each value. The
 * checker walks a document against this table; the model builder gives the values meaning.
 */
import { COMP_CATEGORIES, CONFIG_ADMIN_STATES, HEALTHCHECK_INVOCATIONS, RECOVERIES, REDUNDANCY_MODELS } from './vocabulary.js';

export type ValueType =
  /** Any text (one quoted string, or the rest of the line). */
  | { readonly kind: 'string' }
  /** One word: no spaces, quotes, braces or `#`. */
  | { readonly kind: 'name' }
  /** One or more names separated by spaces. */
  | { readonly kind: 'names' }
  /** A command line: words, quotes group. */
  | { readonly kind: 'argv' }
  | { readonly kind: 'int'; readonly min: number }
  /** Milliseconds; `ms`, `s`, `m` and `h` suffixes accepted. */
  | { readonly kind: 'duration'; readonly min: number }
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  /** `provider:agent`. */
  | { readonly kind: 'ocf' };

export interface KeySpec {
  readonly type: ValueType;
  readonly required?: boolean;
}

export interface BlockSpec {
  readonly keys: Readonly<Record<string, KeySpec>>;
  readonly blocks: Readonly<Record<string, BlockSpec>>;
  /** Free-form `NAME = value` entries (env, attributes, reserved option blocks). */
  readonly freeform?: 'env' | 'attribute';
  /** At most one such block per parent. */
  readonly single?: boolean;
}

export const INT_MAX = 1_000_000;
/** Node's timers hold at most 2^31-1 ms (about 24.8 days). */
export const DURATION_MAX = 2_147_483_647;

const str: KeySpec = { type: { kind: 'string' } };
const name: KeySpec = { type: { kind: 'name' } };
const names: KeySpec = { type: { kind: 'names' } };
const bool: KeySpec = { type: { kind: 'bool' } };
const int = (min: number): KeySpec => ({ type: { kind: 'int', min } });
const duration = (min: number): KeySpec => ({ type: { kind: 'duration', min } });
const oneOf = (...values: string[]): KeySpec => ({ type: { kind: 'enum', values } });
const required = (spec: KeySpec): KeySpec => ({ ...spec, required: true });

const adminState = oneOf(...CONFIG_ADMIN_STATES);
const freeform = (kind: 'env' | 'attribute'): BlockSpec => ({ keys: {}, blocks: {}, freeform: kind, single: true });
const escalation = { node_failover_probation: duration(0), node_failover_max: int(0) };

const csiTypeName: BlockSpec = { keys: { name: required(name) }, blocks: {} };

const componentHealthcheck: BlockSpec = {
  keys: {
    key: required(name),
    period: duration(1),
    maximum_duration: duration(1),
    invocation: oneOf(...HEALTHCHECK_INVOCATIONS),
    // Run by the agent through the shell, so it stays one string.
    command: str,
  },
  blocks: {},
};

const component: BlockSpec = {
  keys: {
    name: required(name),
    comptype: oneOf(...COMP_CATEGORIES),
    bn: str,
    instantiate: str,
    terminate: str,
    cleanup: str,
    am_start: str,
    am_stop: str,
    clccli_path: str,
    binary_path: str,
    instantiate_timeout: duration(1),
    terminate_timeout: duration(1),
    cleanup_timeout: duration(1),
    instantiate_retries: int(0),
    instantiate_retry_delay: duration(0),
    recovery_on_error: oneOf(...RECOVERIES),
    disable_restart: bool,
    command: { type: { kind: 'argv' } },
    ocf: { type: { kind: 'ocf' } },
    pidfile: str,
  },
  blocks: {
    csi_type_name: csiTypeName,
    healthcheck: componentHealthcheck,
    env: freeform('env'),
    guest_heartbeat: freeform('attribute'),
    server_group: freeform('attribute'),
  },
};

const unit: BlockSpec = {
  keys: {
    name: required(name),
    clccli_path: str,
    binary_path: str,
    node: name,
    nodes: names,
    rank: int(0),
    admin_state: adminState,
    su_failover: bool,
  },
  blocks: { component },
};

const nameValue: BlockSpec = { keys: { name: required(name), value: str }, blocks: {} };

const csiDescriptor: BlockSpec = {
  keys: { csi_name: required(name), type_name: required(name) },
  blocks: { name_value: nameValue },
};

const serviceInstance: BlockSpec = {
  keys: {
    name: required(name),
    rank: int(0),
    admin_state: adminState,
    depends_on: names,
    'preferred-active-assignments': int(1),
    'preferred-standby-assignments': int(0),
  },
  blocks: { csi_descriptor: csiDescriptor },
};

const group: BlockSpec = {
  keys: {
    name: required(name),
    model: oneOf(...REDUNDANCY_MODELS),
    'preferred-active-units': int(1),
    'maximum-active-instances': int(1),
    'preferred-standby-units': int(0),
    'maximum-standby-instances': int(1),
    'preferred-assigned-units': int(1),
    clccli_path: str,
    binary_path: str,
    component_restart_probation: duration(0),
    component_restart_max: int(0),
    unit_restart_probation: duration(0),
    unit_restart_max: int(0),
    admin_state: adminState,
  },
  blocks: { unit, serviceinstance: serviceInstance },
};

const globalHealthcheck: BlockSpec = {
  keys: { key: required(name), period: duration(1), maximum_duration: duration(1) },
  blocks: {},
};

export const ROOT: BlockSpec = {
  keys: {},
  blocks: {
    cluster: { keys: { name: name, ...escalation }, blocks: { attributes: freeform('attribute') }, single: true },
    node: { keys: { name: required(name), admin_state: adminState, ...escalation }, blocks: { attributes: freeform('attribute') } },
    group,
    healthcheck: globalHealthcheck,
  },
};

/** Every block path in the schema, for "did you mean" and "belongs in" hints. */
export function walkSchema(visit: (blockName: string, spec: BlockSpec) => void): void {
  const seen = new Set<BlockSpec>();
  const walk = (blockName: string, spec: BlockSpec): void => {
    if (seen.has(spec)) return;
    seen.add(spec);
    visit(blockName, spec);
    for (const [child, childSpec] of Object.entries(spec.blocks)) walk(child, childSpec);
  };
  walk('', ROOT);
}
