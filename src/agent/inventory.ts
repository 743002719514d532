import type { AmfModel, CompConfig, HealthcheckConfig, SgConfig, SuConfig } from '../model/types.js';

/** One component of the model as the agent sees it: its config and where it sits. */
export interface CompEntry {
  readonly sg: SgConfig;
  readonly su: SuConfig;
  readonly config: CompConfig;
  /** The AMF DN, `safComp=C,safSu=U,safSg=G`: the component's name on the component API. */
  readonly dn: string;
}

/** `su/comp`: the agent's key for a component (SU names are unique in the cluster). */
export function compKey(su: string, comp: string): string {
  return `${su}/${comp}`;
}

export function compDn(sg: string, su: string, comp: string): string {
  return `safComp=${comp},safSu=${su},safSg=${sg}`;
}

/** Every component of the model, by key and by DN. Rebuilt when the configuration changes. */
export class Inventory {
  private readonly byKey = new Map<string, CompEntry>();
  private readonly byDn = new Map<string, CompEntry>();

  constructor(readonly model: AmfModel) {
    for (const sg of model.groups) {
      for (const su of sg.units) {
        for (const config of su.components) {
          const entry: CompEntry = { sg, su, config, dn: compDn(sg.name, su.name, config.name) };
          this.byKey.set(compKey(su.name, config.name), entry);
          this.byDn.set(entry.dn, entry);
        }
      }
    }
  }

  get(su: string, comp: string): CompEntry | undefined {
    return this.byKey.get(compKey(su, comp));
  }

  getByDn(dn: string): CompEntry | undefined {
    return this.byDn.get(dn);
  }

  /**
   * A healthcheck by key: the component's own first, then the model's global keys (openais keys
   * are global; a global key has no invocation type of its own and is AMF-invoked).
   */
  healthcheck(entry: CompEntry, key: string): HealthcheckConfig | undefined {
    const own = entry.config.healthchecks.find((h) => h.key === key);
    if (own) return own;
    const global = this.model.healthchecks.find((h) => h.key === key);
    return global && { ...global, invocation: 'amf' };
  }
}
