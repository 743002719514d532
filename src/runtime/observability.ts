import { pino, type DestinationStream, type Level } from 'pino';
import { Registry } from 'prom-client';
import type { Logger } from './ports/observability.js';

export interface LoggerOptions {
  readonly node: string;
  readonly level?: Level | 'silent';
  /** Where lines go; stdout by default. The simulator passes a sink or silences logging. */
  readonly destination?: DestinationStream;
}

/** The node's root logger; modules take `logger.child({ module })`. */
export function createLogger(options: LoggerOptions): Logger {
  const base = { node: options.node };
  const opts = { level: options.level ?? 'info', base };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A metrics registry of the node's own, labelled with the node name. */
export function createMetricsRegistry(node: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ node });
  return registry;
}
