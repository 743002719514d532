/** The pure Raft protocol core: inputs in (tick, step, propose…), a Ready out. See docs/raft.md. */
export * from './types.js';
export { CONFIG_DEFAULTS, resolveConfig, type Config, type ResolvedConfig } from './config.js';
export { validateMessage } from './validate.js';
export { encodeConfChange, decodeConfChange, applyConfChange, bootstrapLog } from './confchange.js';
export { MemoryStorage } from './memory-storage.js';
export { RawNode } from './rawnode.js';
