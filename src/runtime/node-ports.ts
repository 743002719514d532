import type { Clock } from './ports/clock.js';
import type { DatagramNetwork } from './ports/datagram.js';
import type { Logger, Registry } from './ports/observability.js';
import type { ProcessRunner } from './ports/process.js';
import type { Random } from './ports/random.js';
import type { BlobStore, DurableStore } from './ports/storage.js';
import type { StreamNetwork } from './ports/stream.js';

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
