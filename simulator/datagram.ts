import type {
  DatagramAddress,
  DatagramHandler,
  DatagramNetwork,
  DatagramSendError,
  DatagramSocket,
} from '../src/runtime/ports/datagram.js';
import { err, ok, type Result } from '../src/util/result.js';
import { parseAddress } from './network.js';
import type { Domain } from './scheduler.js';
import { fingerprint } from './trace.js';
import { PortAllocator, type World } from './world.js';

/** The largest UDP payload over IPv4, as the Node implementation reports. */
export const DEFAULT_MAX_DATAGRAM = 65507;

/**
 * Every simulated datagram socket of the run, by address "<node>:<port>". Delivery draws its fate
 * (loss, duplication, delay, reordering, cuts) from the LinkModel and runs in the receiver's
 * domain, so a paused receiver gets it late and a crashed one never.
 */
export class DatagramFabric {
  private readonly sockets = new Map<string, SimDatagramSocket>();
  private readonly ports = new PortAllocator();

  constructor(
    private readonly world: World,
    readonly maxDatagramSize = DEFAULT_MAX_DATAGRAM,
  ) {}

  /** The DatagramNetwork port of one node incarnation. */
  network(node: string, domain: Domain): DatagramNetwork {
    return { bind: (address) => this.bind(node, domain, address) };
  }

  /** Close every socket of a node (it crashed). */
  closeNode(node: string): void {
    for (const s of [...this.sockets.values()]) if (s.node === node) s.closeNow();
  }

  private bind(node: string, domain: Domain, address: DatagramAddress): Promise<DatagramSocket> {
    const hp = parseAddress(address);
    if (!hp) return Promise.reject(new Error(`datagram bind: bad address '${address}'`));
    if (hp.host !== node) {
      return Promise.reject(new Error(`datagram bind: '${address}' is not an address of node ${node}`));
    }
    if (!domain.alive) return Promise.reject(new Error(`datagram bind: node ${node} is down`));
    const port = hp.port !== 0 ? hp.port : this.ports.allocate(node, (p) => this.sockets.has(`${node}:${p}`));
    const bound = `${node}:${port}`;
    if (this.sockets.has(bound)) return Promise.reject(new Error(`datagram bind: ${bound} is in use (EADDRINUSE)`));
    const socket = new SimDatagramSocket(this, node, bound);
    this.sockets.set(bound, socket);
    this.world.trace.record('dgram.bind', bound);
    return Promise.resolve(socket);
  }

  unbind(socket: SimDatagramSocket): void {
    if (this.sockets.get(socket.address) === socket) this.sockets.delete(socket.address);
    this.world.trace.record('dgram.close', socket.address);
  }

  send(from: SimDatagramSocket, to: DatagramAddress, data: Uint8Array): Result<void, DatagramSendError> {
    if (data.length > this.maxDatagramSize) return err({ kind: 'too-large', size: data.length, max: this.maxDatagramSize });
    const hp = parseAddress(to);
    if (!hp || hp.port === 0) return err({ kind: 'bad-address', address: to });
    const { trace, links, scheduler } = this.world;
    const fp = fingerprint(data);
    const fate = links.datagramFate(from.node, hp.host);
    if (fate.dropped) {
      trace.record('dgram.drop', from.address, to, fp, fate.dropped);
      return ok(undefined);
    }
    const domain = this.world.appDomain(hp.host);
    if (!domain) {
      trace.record('dgram.drop', from.address, to, fp, 'host-down');
      return ok(undefined);
    }
    const copy = data.slice();
    trace.record('dgram.send', from.address, to, fp, fate.delays.length);
    for (const delay of fate.delays) {
      scheduler.schedule(delay, domain, () => this.deliver(from.address, to, copy, fp));
    }
    return ok(undefined);
  }

  private deliver(from: string, to: string, data: Uint8Array, fp: string): void {
    const socket = this.sockets.get(to);
    const handler = socket?.handler;
    if (!socket || !handler) {
      this.world.trace.record('dgram.drop', from, to, fp, socket ? 'no-handler' : 'no-socket');
      return;
    }
    this.world.trace.record('dgram.deliver', from, to, fp);
    try {
      // Each receiver gets its own bytes, as from a real socket (duplicates included).
      handler(data.slice(), from);
    } catch (e) {
      this.world.handlerError(socket.node, `datagram handler on ${to}`, e);
    }
  }
}

class SimDatagramSocket implements DatagramSocket {
  handler: DatagramHandler | undefined;
  private closed = false;

  constructor(
    private readonly fabric: DatagramFabric,
    readonly node: string,
    readonly address: DatagramAddress,
  ) {}

  get maxDatagramSize(): number {
    return this.fabric.maxDatagramSize;
  }

  send(to: DatagramAddress, data: Uint8Array): Result<void, DatagramSendError> {
    if (this.closed) return err({ kind: 'closed' });
    return this.fabric.send(this, to, data);
  }

  onMessage(handler: DatagramHandler): void {
    this.handler = handler;
  }

  close(): Promise<void> {
    this.closeNow();
    return Promise.resolve();
  }

  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.handler = undefined;
    this.fabric.unbind(this);
  }
}
