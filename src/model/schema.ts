/**
 * What may appear where in a groups.conf: blocks, their keys and the type of each value. The
 * checker walks a document against this table; the model builder gives the values meaning.
 */
import { GUEST_HEARTBEAT_BLOCK } from '../heartbeat/config.js';
import { SERVER_GROUP_BLOCK } from '../servergroup/config.js';
import { VM_BLOCK } from '../vm/config.js';
import { boolKey as bool, durationKey as duration, intKey as int, nameKey as name, namesKey as names, oneOf, required, textKey as str, type BlockSpec } from './spec.js';
import { COMP_CATEGORIES, CONFIG_ADMIN_STATES, HEALTHCHECK_INVOCATIONS, RECOVERIES, REDUNDANCY_MODELS } from './vocabulary.js';

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
    quiescing_complete_timeout: duration(1),
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
    vm: VM_BLOCK,
    guest_heartbeat: GUEST_HEARTBEAT_BLOCK,
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
    // 0 is OpenSAF's value for N-Way-Active (ignored there); other models need at least 1 (build.ts).
    'maximum-standby-instances': int(0),
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
    cluster: { keys: { name: name, ...escalation, allow_joins: bool }, blocks: { attributes: freeform('attribute') }, single: true },
    node: { keys: { name: required(name), admin_state: adminState, ...escalation }, blocks: { attributes: freeform('attribute') } },
    group,
    healthcheck: globalHealthcheck,
    server_group: SERVER_GROUP_BLOCK,
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
