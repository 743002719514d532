import { join } from 'node:path';
import type { DestinationStream, Level } from 'pino';
import { createLogger, createMetricsRegistry } from '../observability.js';
import type { NodePorts } from '../node-ports.js';
import { FileBlobStore } from './blob-store.js';
import { NodeClock } from './clock.js';
import { NodeDatagramNetwork } from './datagram.js';
import { LmdbDurableStore } from './lmdb-store.js';
import { NodeProcessRunner } from './process.js';
import { createNodeRandom } from './random.js';
import { NodeStreamNetwork } from './stream.js';

export { FileBlobStore } from './blob-store.js';
export { NodeClock } from './clock.js';
export { MAX_UDP_PAYLOAD, NodeDatagramNetwork } from './datagram.js';
export { LmdbDurableStore } from './lmdb-store.js';
export { NodeProcessRunner } from './process.js';
export { createNodeRandom } from './random.js';
export { DEFAULT_MAX_FRAME_SIZE, NodeStreamNetwork } from './stream.js';

export interface NodePortsOptions {
  readonly nodeName: string;
  /** The node's state directory: LMDB in `<dataDir>/store`, blobs in `<dataDir>/blobs`. */
  readonly dataDir: string;
  readonly logLevel?: Level | 'silent';
  readonly logDestination?: DestinationStream;
  readonly maxDatagramSize?: number;
  readonly maxFrameSize?: number;
}

/** The real ports of one daemon process, each with the node's logger and metrics registry. */
export function createNodePorts(options: NodePortsOptions): NodePorts {
  const logger = createLogger({
    node: options.nodeName,
    ...(options.logLevel === undefined ? {} : { level: options.logLevel }),
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
  });
  const metrics = createMetricsRegistry(options.nodeName);
  return {
    nodeName: options.nodeName,
    clock: new NodeClock(),
    random: createNodeRandom(),
    datagram: new NodeDatagramNetwork({ logger, metrics, ...(options.maxDatagramSize === undefined ? {} : { maxDatagramSize: options.maxDatagramSize }) }),
    stream: new NodeStreamNetwork({ logger, metrics, ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }) }),
    processes: new NodeProcessRunner({ logger, metrics }),
    store: new LmdbDurableStore({ path: join(options.dataDir, 'store') }),
    blobs: new FileBlobStore(join(options.dataDir, 'blobs')),
    logger,
    metrics,
  };
}
