/**
 * The partition fault hook of the real-process tests (not in amfd: test/e2e/amfd-faults.ts runs
 * amfd with it): with AMFD_FAULT_FILE=<path>, the daemon reads a JSON array of peer addresses ("host:port") from that
 * file every 100 ms and cuts itself off from them: datagrams to and from them are dropped,
 * connections to them are refused, and open connections to them are closed. A connection a
 * blocked peer opened to us is cut by that peer's own hook, so a partition is written to the files
 * of both sides. It works on any machine, on 127.0.0.1; where network namespaces are allowed
 * (root), test/e2e/partition-netns.test.ts makes the same split below the process.
 */
import { readFileSync } from 'node:fs';
import type { PortsHook } from '../../src/daemon/daemon.js';
import type { DatagramNetwork, DatagramSocket } from '../../src/runtime/ports/datagram.js';
import type { StreamConnection, StreamNetwork } from '../../src/runtime/ports/stream.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { err, ok } from '../../src/util/result.js';

const POLL_MS = 100;

export class PartitionHook implements PortsHook {
  private blocked = new Set<string>();
  private readonly outgoing = new Set<StreamConnection>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string) {
    this.reload();
    this.timer = setInterval(() => this.reload(), POLL_MS);
    this.timer.unref();
  }

  isBlocked(addr: string): boolean {
    return this.blocked.has(addr);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private reload(): void {
    let list: unknown;
    try {
      list = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      list = [];
    }
    this.blocked = new Set(Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : []);
    for (const c of [...this.outgoing]) if (this.blocked.has(c.remoteAddress)) c.close();
  }

  /** The node's ports with the datagram and stream networks behind this hook. */
  wrap(ports: NodePorts): NodePorts {
    ports.logger.warn({ faultFile: this.file }, 'test fault hook enabled: traffic to the peers listed in AMFD_FAULT_FILE is cut');
    return { ...ports, datagram: this.datagram(ports.datagram), stream: this.stream(ports.stream) };
  }

  private datagram(inner: DatagramNetwork): DatagramNetwork {
    return {
      bind: async (address): Promise<DatagramSocket> => {
        const s = await inner.bind(address);
        return {
          get address() {
            return s.address;
          },
          maxDatagramSize: s.maxDatagramSize,
          send: (to, data) => (this.isBlocked(to) ? ok(undefined) : s.send(to, data)),
          onMessage: (h) => s.onMessage((data, from) => (this.isBlocked(from) ? undefined : h(data, from))),
          close: () => s.close(),
        };
      },
    };
  }

  private stream(inner: StreamNetwork): StreamNetwork {
    return {
      listen: (address, options) => inner.listen(address, options),
      connect: async (address, options) => {
        if (this.isBlocked(address)) return err({ kind: 'unreachable', address, detail: 'partitioned by AMFD_FAULT_FILE' });
        const r = await inner.connect(address, options);
        if (!r.ok) return r;
        const conn = r.value;
        if (this.isBlocked(address)) {
          conn.close();
          return err({ kind: 'unreachable', address, detail: 'partitioned by AMFD_FAULT_FILE' });
        }
        this.outgoing.add(conn);
        conn.onClose(() => this.outgoing.delete(conn));
        return ok(conn);
      },
    };
  }
}
