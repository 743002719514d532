/** The entity an admin operation names, checked against the state (one home for every backend). */
import type { AdminTarget } from '../amf/commands.js';
import type { AmfState } from '../amf/state.js';
import type { AdminKind } from '../model/vocabulary.js';
import { err, ok, type Result } from '../util/result.js';
import type { BackendError } from './backend.js';

/** The kinds an admin operation takes: the named entities and components (`su/comp`). */
export type AdminEntityKind = AdminKind | 'comp';

export function adminTarget(s: AmfState, kind: AdminEntityKind, name: string): Result<AdminTarget, BackendError> {
  if (kind === 'comp') {
    const slash = name.indexOf('/');
    const su = name.slice(0, slash);
    const comp = name.slice(slash + 1);
    if (slash > 0 && s.sus[su]?.comps[comp] !== undefined) return ok({ type: 'comp', su, comp });
    return err({ code: 'not-found', message: `no component ${name}; amfctl status lists them` });
  }
  const known = { node: s.nodes, sg: s.sgs, su: s.sus, si: s.sis }[kind];
  return name in known ? ok({ type: kind, name }) : err({ code: 'not-found', message: `no ${kind} named ${name}; amfctl status lists them` });
}
