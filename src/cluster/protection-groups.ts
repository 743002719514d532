/**
 * Protection groups from the replicated state: the members of a CSI's group are the components
 * of every SU in the cluster holding an assignment with that CSI, with the HA state the AMF gave
 * it (as OpenSAF's amfd reports them), whichever node runs them. Each node computes them from its
 * own replica, so every node answers `pg-track` alike.
 */
import { compDn } from '../agent/inventory.js';
import type { PgMember } from '../agent/protocol.js';
import { indexModel } from '../amf/model-index.js';
import type { AmfState } from '../amf/state.js';
import type { AmfModel } from '../model/types.js';

export function protectionGroupMembers(model: AmfModel, state: AmfState, csi: string): PgMember[] {
  const idx = indexModel(model);
  const members: PgMember[] = [];
  for (const [su, st] of Object.entries(state.sus)) {
    const entry = idx.sus.get(su);
    if (!entry) continue;
    for (const [si, a] of Object.entries(st.assignments)) {
      // The CSI → component map taken at assignment time, else the model's (older states).
      const comp = a.csis?.[csi] ?? idx.holders(su, si)?.find((h) => h.csi === csi)?.comp.name;
      if (comp !== undefined) members.push({ comp: compDn(entry.sg.name, su, comp), haState: a.ha });
    }
  }
  return members.sort((x, y) => (x.comp < y.comp ? -1 : x.comp > y.comp ? 1 : 0));
}
