/** The AMF engine's public surface. */
export type * from './commands.js';
export { step, type StepResult } from './engine.js';
export { initialState, type AmfState } from './state.js';
export { reduce, type Reduction, type ReductionLevel } from './reduction.js';
