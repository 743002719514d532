/**
 * Random valid models for property tests. Raw random data is generated freely, then shaped into a
 * model that obeys every rule the validator enforces (unique names, model constraints, accepted
 * CSI types, acyclic dependencies), so print → parse must give it back exactly.
 */
import fc from 'fast-check';
import { DURATION_MAX, INT_MAX } from '../../src/model/spec.js';
import { groupDefaults, siStandbyDefault } from '../../src/model/build.js';
import type { AmfModel, CompConfig, CompKind, HealthcheckConfig, NodeConfig, SgConfig, SiConfig, SourceLoc, SuConfig } from '../../src/model/types.js';
import type { AdminState, CompCategory, Recovery, RedundancyModel } from '../../src/model/vocabulary.js';
import { SERVER_GROUP_POLICIES, type ServerGroupConfig } from '../../src/servergroup/config.js';
import { defaultShutdownTimeout } from '../../src/vm/config.js';

const loc: SourceLoc = { file: 'gen', line: 1, col: 1 };

const nameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,7}$/);
const envNameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/);
/** Free text: spaces, quotes, #, backslashes, braces, tabs, newlines and non-ASCII included. */
const textArb = fc
  .array(fc.constantFrom('a', 'Z', '0', ' ', '  ', '"', '#', ' #', '\\', '{', '}', '=', '\t', '\n', 'é', '€', '/', ':', '-', 'x y'), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(''));
const optText = fc.option(textArb, { nil: undefined });
const intArb = (min: number) => fc.integer({ min, max: INT_MAX });
const msArb = (min: number) => fc.oneof(fc.integer({ min, max: 100_000 }), fc.integer({ min, max: DURATION_MAX }));
const recordArb = (keyArb: fc.Arbitrary<string>) => fc.dictionary(keyArb, fc.oneof(textArb, fc.constant('')), { maxKeys: 3 });
const adminArb = fc.constantFrom<AdminState>('unlocked', 'locked', 'locked-instantiation');
const pathArb = textArb.map((t) => `/${t}`);
const optPath = fc.option(pathArb, { nil: undefined });

/** Makes names unique by suffixing a counter; the suffix keeps them valid names. */
function uniq(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((n, i) => {
    const v = seen.has(n) ? `${n}_${i}` : n;
    seen.add(v);
    return v;
  });
}

const healthcheckArb = fc.record({
  key: nameArb,
  periodMs: msArb(1),
  maximumDurationMs: msArb(1),
  invocation: fc.constantFrom<HealthcheckConfig['invocation']>('amf', 'component', 'command'),
  command: textArb,
});

const kindArb: fc.Arbitrary<CompKind> = fc.oneof(
  fc.constant<CompKind>({ type: 'clccli' }),
  fc.array(fc.oneof(nameArb, textArb, fc.constant('')), { minLength: 1, maxLength: 4 }).map((argv): CompKind => ({ type: 'command', argv })),
  fc.record({ provider: nameArb, agent: nameArb }).map((o): CompKind => ({ type: 'ocf', ...o })),
  // shutdownTimeoutMs is a fraction of terminate_timeout, fixed in shapeComponent.
  fc
    .record({
      domainXml: pathArb,
      uri: fc.constantFrom('qemu:///system', 'test:///default', 'qemu+tcp://h1/system'),
      shutdownTimeoutMs: fc.double({ min: 0, max: 1, noNaN: true }),
      migrationUri: fc.option(fc.constantFrom('qemu+ssh://{node}/system', 'qemu+tls://{node}.example/system'), { nil: undefined }),
      migrationRetries: intArb(0),
      stateDir: pathArb,
    })
    .map((o): CompKind => {
      const { migrationUri, ...rest } = o;
      return { type: 'vm', ...rest, ...(migrationUri === undefined ? {} : { migrationUri }) };
    }),
);

const componentArb = fc.record({
  name: nameArb,
  category: fc.constantFrom<CompCategory>('sa_aware', 'non_proxied_non_sa_aware'),
  kind: kindArb,
  binaryName: optText,
  instantiate: optText,
  terminate: optText,
  cleanup: optText,
  amStart: optText,
  amStop: optText,
  clccliPath: optText,
  binaryPath: optText,
  csiTypes: fc.array(nameArb, { maxLength: 3 }),
  instantiateTimeoutMs: msArb(1),
  terminateTimeoutMs: msArb(1),
  cleanupTimeoutMs: msArb(1),
  quiescingCompleteTimeoutMs: msArb(1),
  instantiateRetries: intArb(0),
  instantiateRetryDelayMs: msArb(0),
  recoveryOnError: fc.constantFrom<Recovery>('no-recommendation', 'component-restart', 'component-failover', 'node-switchover', 'node-failover', 'node-failfast', 'cluster-reset', 'application-restart'),
  disableRestart: fc.boolean(),
  healthchecks: fc.array(healthcheckArb, { maxLength: 2 }),
  env: recordArb(envNameArb),
  pidfile: optText,
  guestHeartbeat: fc.option(fc.record({ channel: optPath }), { nil: undefined }),
  /** A server group to join (by index), and the member's channel. */
  serverGroup: fc.option(fc.record({ pick: fc.nat(), channel: optPath }), { nil: undefined }),
});

type RawComp = typeof componentArb extends fc.Arbitrary<infer T> ? T : never;

function shapeComponent(raw: RawComp, name: string): CompConfig {
  const clc = raw.kind.type === 'clccli';
  const keys = uniq(raw.healthchecks.map((h) => h.key));
  const c: Record<string, unknown> = {
    ...raw,
    name,
    csiTypes: [...new Set(raw.csiTypes)],
    healthchecks: raw.healthchecks.map((h, i): HealthcheckConfig => {
      const base = { key: keys[i] as string, periodMs: h.periodMs, maximumDurationMs: h.maximumDurationMs, invocation: h.invocation, loc };
      return h.invocation === 'command' ? { ...base, command: h.command } : base;
    }),
    loc,
  };
  delete c.serverGroup;
  const vm = raw.kind.type === 'vm';
  if (raw.kind.type === 'vm') {
    const k = raw.kind;
    c.kind = { ...k, shutdownTimeoutMs: k.shutdownTimeoutMs < 0.5 ? defaultShutdownTimeout(raw.terminateTimeoutMs) : Math.max(1, Math.floor(k.shutdownTimeoutMs * raw.terminateTimeoutMs)) };
  }
  // Only a vm component's heartbeat channel may default (to its domain's).
  if (raw.guestHeartbeat) {
    const channel = raw.guestHeartbeat.channel ?? (vm ? undefined : '/run/hb.sock');
    c.guestHeartbeat = { ...(channel === undefined ? {} : { channel }), loc };
  }
  // CLC-CLI scripts only belong to CLC-CLI components.
  for (const k of ['instantiate', 'terminate', 'cleanup'] as const) if (!clc) delete c[k];
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c as unknown as CompConfig;
}

const unitArb = fc.record({
  name: nameArb,
  rank: intArb(0),
  nodePicks: fc.array(fc.nat(), { maxLength: 3 }),
  adminState: adminArb,
  failover: fc.boolean(),
  components: fc.array(componentArb, { minLength: 1, maxLength: 2 }),
});

const siArb = fc.record({
  name: nameArb,
  rank: intArb(0),
  adminState: fc.constantFrom<AdminState>('unlocked', 'locked'),
  csis: fc.array(fc.record({ name: nameArb, typePick: fc.nat(), attributes: fc.array(fc.record({ name: nameArb, value: fc.oneof(textArb, fc.constant('')) }), { maxLength: 2 }) }), { maxLength: 2 }),
  depPicks: fc.array(fc.nat(), { maxLength: 2 }),
  active: intArb(1),
  standby: intArb(0),
});

const groupArb = fc.record({
  name: nameArb,
  model: fc.constantFrom<RedundancyModel>('2n', 'nplusm', 'nway', 'nwayactive', 'noredundancy'),
  pa: intArb(1),
  ma: intArb(1),
  ps: intArb(0),
  ms: intArb(1),
  assigned: intArb(1),
  adminState: adminArb,
  crp: msArb(0),
  crm: intArb(0),
  urp: msArb(0),
  urm: intArb(0),
  useDefaults: fc.boolean(),
  units: fc.array(unitArb, { maxLength: 3 }),
  sis: fc.array(siArb, { maxLength: 3 }),
});

export const modelArb: fc.Arbitrary<AmfModel> = fc
  .record({
    cluster: fc.record({ name: nameArb, nodeFailoverProbationMs: msArb(0), nodeFailoverMax: intArb(0), allowJoins: fc.boolean(), attributes: recordArb(nameArb) }),
    nodes: fc.array(fc.record({ name: nameArb, adminState: adminArb, attributes: recordArb(nameArb), p: fc.option(msArb(0), { nil: undefined }), m: fc.option(intArb(0), { nil: undefined }) }), { maxLength: 3 }),
    groups: fc.array(groupArb, { maxLength: 3 }),
    healthchecks: fc.array(fc.record({ key: nameArb, periodMs: msArb(1), maximumDurationMs: msArb(1) }), { maxLength: 3 }),
    serverGroups: fc.array(fc.record({ name: nameArb, policy: fc.constantFrom(...SERVER_GROUP_POLICIES), rate: fc.oneof(fc.constant(100), fc.integer({ min: 1, max: 5000 })), burst: fc.oneof(fc.constant(100), fc.integer({ min: 1, max: 5000 })) }), { maxLength: 2 }),
  })
  .map((raw): AmfModel => {
    const nodeNames = uniq(raw.nodes.map((n) => n.name));
    const nodes: NodeConfig[] = raw.nodes.map((n, i) => ({
      name: nodeNames[i] as string,
      adminState: n.adminState,
      attributes: n.attributes,
      nodeFailoverProbationMs: n.p ?? raw.cluster.nodeFailoverProbationMs,
      nodeFailoverMax: n.m ?? raw.cluster.nodeFailoverMax,
      loc,
    }));
    const unitNames = uniq(raw.groups.flatMap((g) => g.units.map((u) => u.name)));
    const siNames = uniq(raw.groups.flatMap((g) => g.sis.map((s) => s.name)));
    let unitIndex = 0;
    let siIndex = 0;
    const groupNames = uniq(raw.groups.map((g) => g.name));
    const groups = raw.groups.map((g, gi): SgConfig => {
      const units: SuConfig[] = g.units.map((u) => {
        const compNames = uniq(u.components.map((c) => c.name));
        const pool = nodeNames.length > 0 ? nodeNames : ['anywhere1', 'anywhere2', 'anywhere3'];
        return {
          name: unitNames[unitIndex++] as string,
          rank: u.rank,
          nodes: [...new Set(u.nodePicks.map((p) => pool[p % pool.length] as string))],
          adminState: u.adminState,
          failover: u.failover,
          components: u.components.map((c, i) => shapeComponent(c, compNames[i] as string)),
          loc,
        };
      });
      const d = groupDefaults(g.model, g.units.length, g.sis.length);
      const pick = (value: number, byDefault: number): number => (g.useDefaults ? byDefault : value);
      const sg: SgConfig = {
        name: groupNames[gi] as string,
        model: g.model,
        preferredActiveUnits: g.model === '2n' ? 1 : pick(g.pa, d.preferredActiveUnits),
        maximumActiveInstances: g.model === 'noredundancy' ? 1 : pick(g.ma, d.maximumActiveInstances),
        preferredStandbyUnits: g.model === '2n' ? 1 : g.model === 'nwayactive' || g.model === 'noredundancy' ? 0 : pick(g.ps, d.preferredStandbyUnits),
        maximumStandbyInstances: g.model === 'nwayactive' ? d.maximumStandbyInstances : pick(g.ms, d.maximumStandbyInstances),
        preferredAssignedUnits: pick(g.assigned, d.preferredAssignedUnits),
        adminState: g.adminState,
        componentRestartProbationMs: g.crp,
        componentRestartMax: g.crm,
        unitRestartProbationMs: g.urp,
        unitRestartMax: g.urm,
        units,
        sis: [],
        loc,
      };
      const accepted = [...new Set(units.flatMap((u) => u.components.flatMap((c) => c.csiTypes)))];
      const sis = g.sis.map((s): SiConfig => {
        const index = siIndex++;
        const csiNames = uniq(s.csis.map((c) => c.name));
        return {
          name: siNames[index] as string,
          rank: s.rank,
          adminState: s.adminState,
          // Without an accepted type a CSI is invalid, so such groups get none.
          csis: accepted.length === 0 ? [] : s.csis.map((c, i) => ({ name: csiNames[i] as string, typeName: accepted[c.typePick % accepted.length] as string, attributes: c.attributes, loc })),
          // Only on earlier SIs: no cycles.
          dependsOn: index === 0 ? [] : [...new Set(s.depPicks.map((p) => siNames[p % index] as string))],
          preferredActiveAssignments: g.model === 'nwayactive' ? s.active : d.preferredActiveAssignments,
          preferredStandbyAssignments: g.model === 'nway' ? s.standby : siStandbyDefault(sg),
          loc,
        };
      });
      return { ...sg, sis };
    });
    const hcKeys = uniq(raw.healthchecks.map((h) => h.key));
    // Each component that asked joins one server group; groups nobody joined are left out.
    const sgNames = uniq(raw.serverGroups.map((g) => g.name));
    const joins = raw.groups.flatMap((g, gi) =>
      g.units.flatMap((u, ui) =>
        u.components.flatMap((c, ci) => {
          const unit = groups[gi]!.units[ui]!;
          const comp = unit.components[ci]!;
          const want = c.serverGroup;
          if (!want || sgNames.length === 0) return [];
          const channel = want.channel ?? (comp.kind.type === 'vm' ? undefined : '/run/sg.sock');
          return [{ group: want.pick % sgNames.length, member: { unit: unit.name, component: comp.name, instance: `${unit.name}.${comp.name}`, displayName: `${unit.name}.${comp.name}`, ...(channel === undefined ? {} : { channel }), loc } }];
        }),
      ),
    );
    const serverGroups: ServerGroupConfig[] = raw.serverGroups
      .map((g, i) => ({ name: sgNames[i] as string, policy: g.policy, broadcastRate: g.rate, broadcastBurst: g.burst, members: joins.filter((j) => j.group === i).map((j) => j.member), loc }))
      .filter((g) => g.members.length > 0);
    return {
      cluster: raw.cluster,
      nodes,
      groups,
      healthchecks: raw.healthchecks.map((h, i) => ({ ...h, key: hcKeys[i] as string, loc })),
      serverGroups,
    };
  });
