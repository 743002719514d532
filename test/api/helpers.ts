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
