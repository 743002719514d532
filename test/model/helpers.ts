import type { AmfModel } from '../../src/model/index.js';

/** A model without source locations: what must survive print → parse. */
export function withoutLocs(model: AmfModel): unknown {
  return JSON.parse(JSON.stringify(model, (key, value: unknown) => (key === 'loc' ? undefined : value)));
}
