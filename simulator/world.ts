import type { SimFileSystem } from './files.js';
import type { LinkModel } from './network.js';
import type { Domain, Scheduler } from './scheduler.js';
import type { Trace } from './trace.js';

/** What the simulated networks, disks and processes share: time, the fault model and the trace. */
export interface World {
  readonly scheduler: Scheduler;
  readonly links: LinkModel;
  readonly trace: Trace;
  /** The running incarnation's domain of a node; undefined when it does not exist or is down. */
  appDomain(node: string): Domain | undefined;
  /** A machine's file system (where `unix:` sockets live); it outlives the daemon's incarnations. */
  files(node: string): SimFileSystem | undefined;
  /**
   * An app callback (message/frame handler) threw. As the Node implementations do, the port
   * reports it and keeps delivering; the simulation counts and traces it.
   */
  handlerError(node: string, where: string, error: unknown): void;
}

/** Ephemeral ports handed out for port 0, per host, skipping ports in use. */
export class PortAllocator {
  private readonly next = new Map<string, number>();

  allocate(host: string, inUse: (port: number) => boolean): number {
    let port = this.next.get(host) ?? 49152;
    for (let tries = 0; tries < 16384; tries++) {
      const candidate = port;
      port = port >= 65535 ? 49152 : port + 1;
      if (!inUse(candidate)) {
        this.next.set(host, port);
        return candidate;
      }
    }
    throw new Error(`simulator: no free ephemeral port on ${host}`);
  }
}
