import type { InjectionToken } from 'tsyringe';
import type { Clock } from './ports/clock.js';
import type { DatagramNetwork } from './ports/datagram.js';
import type { Logger, Registry } from './ports/observability.js';
import type { ProcessRunner } from './ports/process.js';
import type { Random } from './ports/random.js';
import type { BlobStore, DurableStore } from './ports/storage.js';
import type { StreamNetwork } from './ports/stream.js';

/**
 * One injection token per port. Every constructor parameter carries an explicit `@inject(TOKEN)`:
 * tsx (esbuild) emits no decorator metadata, so implicit injection would fail or, worse, inject
 * undefined silently.
 */
export const TOKENS = {
  Clock: Symbol('Clock') as InjectionToken<Clock>,
  Random: Symbol('Random') as InjectionToken<Random>,
  DatagramNetwork: Symbol('DatagramNetwork') as InjectionToken<DatagramNetwork>,
  StreamNetwork: Symbol('StreamNetwork') as InjectionToken<StreamNetwork>,
  ProcessRunner: Symbol('ProcessRunner') as InjectionToken<ProcessRunner>,
  DurableStore: Symbol('DurableStore') as InjectionToken<DurableStore>,
  BlobStore: Symbol('BlobStore') as InjectionToken<BlobStore>,
  Logger: Symbol('Logger') as InjectionToken<Logger>,
  Metrics: Symbol('Metrics') as InjectionToken<Registry>,
  NodeName: Symbol('NodeName') as InjectionToken<string>,
} as const;

/** Everything a node needs from the outside world: real in the daemon, simulated in amf-sim. */
export interface NodePorts {
  readonly nodeName: string;
  readonly clock: Clock;
  readonly random: Random;
  readonly datagram: DatagramNetwork;
  readonly stream: StreamNetwork;
  readonly processes: ProcessRunner;
  readonly store: DurableStore;
  readonly blobs: BlobStore;
  readonly logger: Logger;
  readonly metrics: Registry;
}
