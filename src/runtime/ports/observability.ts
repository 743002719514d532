import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

/**
 * Logging and metrics handed to every module. Modules log through child loggers
 * (`logger.child({ module: 'raft' })`) and register metrics on the node's own Registry, never
 * prom-client's global one (the simulator hosts many nodes in one process).
 */
export type { Logger, Registry };
