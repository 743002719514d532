import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { TOKENS, type NodePorts } from './tokens.js';

/**
 * One child container per node, holding that node's ports as instances. Nothing is registered in
 * the root container and no class uses @singleton(): a singleton would be shared by every
 * simulated node in the process.
 */
export function createNodeContainer(ports: NodePorts, parent: DependencyContainer = rootContainer): DependencyContainer {
  const c = parent.createChildContainer();
  c.registerInstance(TOKENS.NodeName, ports.nodeName);
  c.registerInstance(TOKENS.Clock, ports.clock);
  c.registerInstance(TOKENS.Random, ports.random);
  c.registerInstance(TOKENS.DatagramNetwork, ports.datagram);
  c.registerInstance(TOKENS.StreamNetwork, ports.stream);
  c.registerInstance(TOKENS.ProcessRunner, ports.processes);
  c.registerInstance(TOKENS.DurableStore, ports.store);
  c.registerInstance(TOKENS.BlobStore, ports.blobs);
  c.registerInstance(TOKENS.Logger, ports.logger);
  c.registerInstance(TOKENS.Metrics, ports.metrics);
  return c;
}
