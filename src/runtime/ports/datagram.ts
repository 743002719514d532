import type { Result } from '../../util/result.js';

/** Addresses are "host:port" strings (IPv4 dotted quad, or a simulated node name and port). */
export type DatagramAddress = string;

export type DatagramSendError =
  | { readonly kind: 'too-large'; readonly size: number; readonly max: number }
  | { readonly kind: 'closed' }
  | { readonly kind: 'bad-address'; readonly address: string };

export type DatagramHandler = (data: Uint8Array, from: DatagramAddress) => void;

/**
 * An unconnected datagram socket (UDP). Delivery is best effort: datagrams may be lost, duplicated
 * or reordered, and a send that returned ok may still never arrive.
 */
export interface DatagramSocket {
  /** The bound address, with the real port when 0 was asked for. */
  readonly address: DatagramAddress;
  /** The largest payload send() accepts. */
  readonly maxDatagramSize: number;
  /** Queue one datagram. Errors known at once (size, closed socket, bad address) come back as values. */
  send(to: DatagramAddress, data: Uint8Array): Result<void, DatagramSendError>;
  /**
   * Set the receiver. Datagrams arriving while no handler is set are dropped. A handler that throws
   * is logged and counted; the socket keeps delivering.
   */
  onMessage(handler: DatagramHandler): void;
  close(): Promise<void>;
}

export interface DatagramNetwork {
  /** Bind a socket; port 0 picks a free port. Fails (rejects) if the address is taken. */
  bind(address: DatagramAddress): Promise<DatagramSocket>;
}
