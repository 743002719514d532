import { createSocket, type Socket } from 'node:dgram';
import { assert } from '../../util/assert.js';
import { err, ok, type Result } from '../../util/result.js';
import type { DatagramAddress, DatagramHandler, DatagramNetwork, DatagramSendError, DatagramSocket } from '../ports/datagram.js';
import type { Logger, Registry } from '../ports/observability.js';
import { formatInet, parseAddress } from './address.js';
import { counter } from './metrics.js';

/** The largest UDP/IPv4 payload: 65535 - 20 (IP header) - 8 (UDP header). */
export const MAX_UDP_PAYLOAD = 65507;

export interface NodeDatagramOptions {
  readonly logger: Logger;
  readonly metrics: Registry;
  /** Lower than 65507 to stay under the path MTU (SWIM budgets ~1400 B). */
  readonly maxDatagramSize?: number;
}

/** UDP over node:dgram (udp4, unconnected sockets). */
export class NodeDatagramNetwork implements DatagramNetwork {
  private readonly log: Logger;
  private readonly maxDatagramSize: number;

  constructor(private readonly options: NodeDatagramOptions) {
    this.log = options.logger.child({ module: 'udp' });
    this.maxDatagramSize = options.maxDatagramSize ?? MAX_UDP_PAYLOAD;
    assert(Number.isInteger(this.maxDatagramSize) && this.maxDatagramSize > 0 && this.maxDatagramSize <= MAX_UDP_PAYLOAD, `bad maxDatagramSize ${this.maxDatagramSize}`);
  }

  async bind(address: DatagramAddress): Promise<DatagramSocket> {
    const parsed = parseAddress(address, false);
    if (parsed?.kind !== 'inet') throw new Error(`udp: cannot bind ${JSON.stringify(address)}: expected "a.b.c.d:port"`);
    const socket = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (e) => {
        socket.close();
        reject(e);
      });
      socket.bind(parsed.port, parsed.host, () => {
        socket.removeAllListeners('error');
        resolve();
      });
    });
    const bound = socket.address();
    return new NodeDatagramSocket(socket, formatInet(bound.address, bound.port), this.maxDatagramSize, this.log, this.options.metrics);
  }
}

class NodeDatagramSocket implements DatagramSocket {
  private handler: DatagramHandler | undefined;
  private isClosed = false;
  private readonly log: Logger;
  private readonly errors;

  constructor(
    private readonly socket: Socket,
    readonly address: DatagramAddress,
    readonly maxDatagramSize: number,
    logger: Logger,
    metrics: Registry,
  ) {
    this.log = logger.child({ socket: address });
    this.errors = counter(metrics, 'amfd_udp_errors_total', 'UDP socket errors, refused sends and throwing handlers', ['kind']);
    // An 'error' event without a listener would throw and kill the daemon.
    socket.on('error', (e) => {
      this.errors.inc({ kind: 'socket' });
      this.log.warn({ err: e }, 'udp socket error');
    });
    socket.on('message', (msg, rinfo) => this.deliver(msg, formatInet(rinfo.address, rinfo.port)));
  }

  private deliver(msg: Buffer, from: DatagramAddress): void {
    const h = this.handler;
    if (h === undefined) return;
    try {
      h(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), from);
    } catch (e) {
      this.errors.inc({ kind: 'handler' });
      this.log.error({ err: e, from }, 'udp message handler threw');
    }
  }

  send(to: DatagramAddress, data: Uint8Array): Result<void, DatagramSendError> {
    if (this.isClosed) return err({ kind: 'closed' });
    if (data.byteLength > this.maxDatagramSize) {
      this.errors.inc({ kind: 'too-large' });
      return err({ kind: 'too-large', size: data.byteLength, max: this.maxDatagramSize });
    }
    const dest = parseAddress(to, false);
    // Port 0 is valid to bind but not to send to: node:dgram would throw ERR_SOCKET_BAD_PORT.
    if (dest?.kind !== 'inet' || dest.port === 0) {
      this.errors.inc({ kind: 'bad-address' });
      return err({ kind: 'bad-address', address: to });
    }
    // Node holds the buffer until the callback; callers must not reuse it before then (we copy to be safe).
    this.socket.send(Buffer.from(data), dest.port, dest.host, (e) => {
      if (e) {
        this.errors.inc({ kind: 'send' });
        this.log.debug({ err: e, to }, 'udp send failed');
      }
    });
    return ok(undefined);
  }

  onMessage(handler: DatagramHandler): void {
    this.handler = handler;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.handler = undefined;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
