/** Starts the API on 127.0.0.1:0 over a backend, with NDJSON and request helpers for tests. */
import { pino } from 'pino';
import { ApiServer, type ApiServerOptions } from '../../src/api/server.js';
import type { ApiBackend } from '../../src/api/backend.js';
import { NodeClock } from '../../src/runtime/node/clock.js';
import { NodeHttpServerFactory } from '../../src/runtime/node/http.js';

export const TOKEN = 'test-token-0123456789';

export interface Running {
  readonly base: string;
  readonly server: ApiServer;
  /** fetch with the bearer token. */
  req(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startApi(backend: ApiBackend, opts: Partial<ApiServerOptions> = {}): Promise<Running> {
  const server = new ApiServer({ backend, clock: new NodeClock(), logger: pino({ level: 'silent' }), token: TOKEN, ...opts });
  const listener = await new NodeHttpServerFactory().listen({ host: '127.0.0.1', port: 0 }, server.handler);
  const base = `http://${listener.address}`;
  return {
    base,
    server,
    req: (path, init = {}) => fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) } }),
    close: async () => {
      server.close();
      await listener.close();
    },
  };
}

/** Reads NDJSON lines from a streaming response until `stop` says enough (or the stream ends). */
export async function readLines(res: Response, stop: (line: Record<string, unknown>, all: Record<string, unknown>[]) => boolean): Promise<Record<string, unknown>[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const out: Record<string, unknown>[] = [];
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      out.push(line);
      if (stop(line, out)) {
        await reader.cancel();
        return out;
      }
    }
  }
  return out;
}

/**
 * A one-node groups.conf for tests that run a real amfd: node n1 and a 2N group of SU_1 (rank 1)
 * and SU_2 (rank 2), each with one component, serving one SI of one CSI. `body(unit)` gives the
 * component's own lines (name, command, …) at the component block's indentation.
 */
export function oneNode2nConf(o: { group: string; si: string; csi: string; type: string; body: (unit: string) => string }): string {
  const unit = (name: string, rank: number): string =>
    `\tunit {\n\t\tname = ${name}\n\t\tnode = n1\n\t\trank = ${rank}\n\t\tcomponent {\n${o.body(name)}\t\t\tcsi_type_name {\n\t\t\t\tname = ${o.type}\n\t\t\t}\n\t\t}\n\t}\n`;
  return `node {\n\tname = n1\n}\ngroup {\n\tname = ${o.group}\n\tmodel = 2n\n${unit('SU_1', 1)}${unit('SU_2', 2)}\tserviceinstance {\n\t\tname = ${o.si}\n\t\tcsi_descriptor {\n\t\t\tcsi_name = ${o.csi}\n\t\t\ttype_name = ${o.type}\n\t\t}\n\t}\n}\n`;
}
