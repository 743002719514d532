/**
 * Fast lookups over an immutable AmfModel, built once per model object (WeakMap cache): the
 * engine runs on every event and must not scan the whole model each time.
 */
import type { AmfModel, CompConfig, CsiAttribute, ServerGroupConfig, SgConfig, SiConfig, SuConfig } from '../model/types.js';

export interface SuEntry {
  readonly cfg: SuConfig;
  readonly sg: SgConfig;
  /** Position in the SG's unit list: ties after rank are broken by config order. */
  readonly order: number;
}

export interface SiEntry {
  readonly cfg: SiConfig;
  readonly sg: SgConfig;
  readonly order: number;
  /** Dependency depth: 0 without sponsors, else 1 + the deepest sponsor's depth. */
  readonly depth: number;
}

/** One CSI of an SI as held by one component of an SU. */
export interface CsiHolder {
  readonly comp: CompConfig;
  readonly csi: string;
  readonly csiType: string;
  readonly attributes: readonly CsiAttribute[];
}

export interface ModelIndex {
  readonly model: AmfModel;
  readonly sus: ReadonlyMap<string, SuEntry>;
  readonly sis: ReadonlyMap<string, SiEntry>;
  readonly sgs: ReadonlyMap<string, SgConfig>;
  /** Per SG: its SUs by rank then config order. */
  readonly rankedSus: ReadonlyMap<string, readonly string[]>;
  /** Per SG: its SIs by dependency depth, rank, config order (sponsors before dependants). */
  readonly rankedSis: ReadonlyMap<string, readonly string[]>;
  /** Per SG: the other SGs with SIs that depend on its SIs (reconciled after it changes). */
  readonly dependantSgs: ReadonlyMap<string, readonly string[]>;
  /** Per SU: the server groups its components are members of, with the other member SUs (placement policy). */
  readonly placementGroups: ReadonlyMap<string, readonly PlacementGroup[]>;
  /** Nodes an SU may use when it names none: the model's nodes (empty: any node that is up). */
  readonly nodeNames: readonly string[];
  /** Which component of `su` holds each CSI of `si`; null if the SU cannot take the SI. */
  holders(su: string, si: string): readonly CsiHolder[] | null;
}

/** A server group as placement sees it: its policy and the SUs of its other members. */
export interface PlacementGroup {
  readonly name: string;
  readonly policy: ServerGroupConfig['policy'];
  readonly peers: readonly string[];
}

const cache = new WeakMap<AmfModel, ModelIndex>();

export function indexModel(model: AmfModel): ModelIndex {
  let idx = cache.get(model);
  if (!idx) {
    idx = build(model);
    cache.set(model, idx);
  }
  return idx;
}

function build(model: AmfModel): ModelIndex {
  const sus = new Map<string, SuEntry>();
  const sis = new Map<string, SiEntry>();
  const sgs = new Map<string, SgConfig>();
  const rankedSus = new Map<string, string[]>();
  const rankedSis = new Map<string, string[]>();
  for (const sg of model.groups) {
    sgs.set(sg.name, sg);
    sg.units.forEach((cfg, order) => sus.set(cfg.name, { cfg, sg, order }));
    rankedSus.set(
      sg.name,
      sg.units
        .map((u, i) => ({ u, i }))
        .sort((a, b) => a.u.rank - b.u.rank || a.i - b.i)
        .map((x) => x.u.name),
    );
    const byName = new Map(sg.sis.map((si) => [si.name, si]));
    const depth = new Map<string, number>();
    const depthOf = (si: SiConfig, seen: Set<string>): number => {
      const known = depth.get(si.name);
      if (known !== undefined) return known;
      if (seen.has(si.name)) return 0; // a cycle is the parser's to refuse; do not loop here
      seen.add(si.name);
      let d = 0;
      for (const dep of si.dependsOn) {
        const sponsor = byName.get(dep);
        if (sponsor) d = Math.max(d, 1 + depthOf(sponsor, seen));
      }
      depth.set(si.name, d);
      return d;
    };
    sg.sis.forEach((cfg, order) => sis.set(cfg.name, { cfg, sg, order, depth: depthOf(cfg, new Set()) }));
    rankedSis.set(
      sg.name,
      sg.sis
        .map((s, i) => ({ s, i, d: depth.get(s.name) ?? 0 }))
        .sort((a, b) => a.d - b.d || a.s.rank - b.s.rank || a.i - b.i)
        .map((x) => x.s.name),
    );
  }
  const dependantSgs = new Map<string, string[]>();
  for (const e of sis.values()) {
    for (const dep of e.cfg.dependsOn) {
      const sponsor = sis.get(dep)?.sg.name;
      if (sponsor === undefined || sponsor === e.sg.name) continue;
      const list = dependantSgs.get(sponsor) ?? [];
      if (!list.includes(e.sg.name)) list.push(e.sg.name);
      dependantSgs.set(sponsor, list);
    }
  }
  const holderCache = new Map<string, Map<string, readonly CsiHolder[] | null>>();
  const holders = (su: string, si: string): readonly CsiHolder[] | null => {
    let bySi = holderCache.get(su);
    if (bySi === undefined) holderCache.set(su, (bySi = new Map()));
    let h = bySi.get(si);
    if (h === undefined) {
      h = computeHolders(sus.get(su)?.cfg, sis.get(si)?.cfg);
      bySi.set(si, h);
    }
    return h;
  };
  return { model, sus, sis, sgs, rankedSus, rankedSis, dependantSgs, placementGroups: placementGroups(model), nodeNames: model.nodes.map((n) => n.name), holders };
}

function placementGroups(model: AmfModel): Map<string, PlacementGroup[]> {
  const out = new Map<string, PlacementGroup[]>();
  for (const g of model.serverGroups) {
    const sus = [...new Set(g.members.map((m) => m.unit))];
    for (const su of sus) out.set(su, [...(out.get(su) ?? []), { name: g.name, policy: g.policy, peers: sus.filter((x) => x !== su) }]);
  }
  return out;
}

/**
 * Each CSI goes to the first component (config order) that accepts its CS type. An SI given by
 * name only (openais B.01.01 files, no csi_descriptor) goes to the SU as a whole: every component
 * holds an implicit CSI of it, named after the component, of no CS type.
 */
function computeHolders(su: SuConfig | undefined, si: SiConfig | undefined): readonly CsiHolder[] | null {
  if (!su || !si) return null;
  if (si.csis.length === 0) return su.components.map((comp) => ({ comp, csi: comp.name, csiType: '', attributes: [] }));
  const out: CsiHolder[] = [];
  for (const csi of si.csis) {
    const comp = su.components.find((c) => c.csiTypes.includes(csi.typeName));
    if (!comp) return null;
    out.push({ comp, csi: csi.name, csiType: csi.typeName, attributes: csi.attributes });
  }
  return out;
}
