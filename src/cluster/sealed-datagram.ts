/**
 * A DatagramNetwork whose sockets seal every datagram under the cluster keyring and deliver only
 * those that open (the lease channel: renew / grant / deny). Sealing authenticates but does not
 * stop replay; the lease protocol itself makes a replayed datagram harmless (docs/split-brain.md,
 * "Replayed lease datagrams").
 */
import type { DatagramAddress, DatagramHandler, DatagramNetwork, DatagramSendError, DatagramSocket } from '../runtime/ports/datagram.js';
import { err, type Result } from '../util/result.js';
import { SEAL_OVERHEAD, type SealContext, type SealedChannelName } from './sealed-channel.js';

const DATAGRAM = 1;
const NO_CONTEXT: readonly Uint8Array[] = [];

class SealedDatagramSocket implements DatagramSocket {
  readonly maxDatagramSize: number;

  constructor(
    private readonly inner: DatagramSocket,
    private readonly seal: SealContext,
    private readonly channel: SealedChannelName,
  ) {
    this.maxDatagramSize = inner.maxDatagramSize - SEAL_OVERHEAD;
  }

  get address(): DatagramAddress {
    return this.inner.address;
  }

  send(to: DatagramAddress, data: Uint8Array): Result<void, DatagramSendError> {
    if (data.length > this.maxDatagramSize) return err({ kind: 'too-large', size: data.length, max: this.maxDatagramSize });
    return this.inner.send(to, this.seal.seal(this.channel, DATAGRAM, NO_CONTEXT, data));
  }

  onMessage(handler: DatagramHandler): void {
    this.inner.onMessage((data, from) => {
      const plain = this.seal.open(this.channel, DATAGRAM, NO_CONTEXT, data);
      if (plain.ok) handler(plain.value, from);
      else this.seal.refuse(this.channel, 'datagram', from, plain.error);
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** `inner` with sealed sockets; `inner` itself when the keyring is empty (traffic in clear). */
export function sealedDatagramNetwork(inner: DatagramNetwork, seal: SealContext, channel: SealedChannelName): DatagramNetwork {
  if (!seal.enabled) return inner;
  return { bind: async (address) => new SealedDatagramSocket(await inner.bind(address), seal, channel) };
}
