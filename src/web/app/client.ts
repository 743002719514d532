/**
 * The console's HTTP client: same-origin requests with the bearer token, JSON replies, the API's
 * error shape turned into a message a person can act on, and the NDJSON event stream read with
 * fetch and a stream reader (EventSource cannot send an Authorization header).
 */
import { type Result, err, ok } from '../../util/result.js';

/** Why a request failed: the API's `{error: {code, message}}`, or what went wrong before it. */
export interface Problem {
  /** HTTP status; 0 when the node could not be reached. */
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** A line of the event stream, parsed: an event (it has a seq), a status or heartbeat line, or an error. */
export type StreamLine = Record<string, unknown>;

export const TOKEN_REFUSED = 'amfd refused this token (401 unauthorized). Use the node’s API token: the file named by api.token_file (npm start prints its path).';

function describe(status: number, body: unknown): Problem {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (status === 401) return { status, code: 'unauthorized', message: TOKEN_REFUSED };
  if (e && typeof e.code === 'string' && typeof e.message === 'string') return { status, code: e.code, message: e.message, details: e.details };
  return { status, code: `http-${status}`, message: `amfd answered ${status} without an explanation` };
}

function unreachable(base: string, e: unknown): Problem {
  const why = e instanceof Error ? e.message : String(e);
  return { status: 0, code: 'unreachable', message: `cannot reach amfd at ${base || 'this address'} (${why}); it may be stopped or restarting` };
}

export class ApiClient {
  constructor(
    /** '' for the page's own origin (the node serving it). */
    readonly base: string,
    private readonly token: string,
    private readonly fetchFn: Fetch = (input, init) => fetch(input, init),
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...extra };
  }

  async request<T>(method: 'GET' | 'POST', path: string, signal?: AbortSignal): Promise<Result<T, Problem>> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, { method, headers: this.headers(method === 'POST' ? { 'content-type': 'application/json' } : {}), ...(method === 'POST' ? { body: '{}' } : {}), ...(signal ? { signal } : {}) });
    } catch (e) {
      return err(unreachable(this.base, e));
    }
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      // no JSON body: said below by status
    }
    return res.ok ? ok(body as T) : err(describe(res.status, body));
  }

  get<T>(path: string, signal?: AbortSignal): Promise<Result<T, Problem>> {
    return this.request<T>('GET', path, signal);
  }

  post<T>(path: string): Promise<Result<T, Problem>> {
    return this.request<T>('POST', path);
  }

  /**
   * Reads an NDJSON stream, one parsed line at a time, until it ends (ok) or fails (the HTTP error
   * or the broken connection). Aborting `signal` ends it as ok.
   */
  async stream(path: string, onLine: (line: StreamLine) => void, signal: AbortSignal): Promise<Result<void, Problem>> {
    let res: Response;
    try {
      res = await this.fetchFn(`${this.base}${path}`, { headers: this.headers(), signal });
    } catch (e) {
      return signal.aborted ? ok(undefined) : err(unreachable(this.base, e));
    }
    if (!res.ok || !res.body) {
      let body: unknown = null;
      try {
        body = await res.json();
      } catch {
        // said by status
      }
      return err(describe(res.status, body));
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return ok(undefined);
        buf += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const text = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (text.trim() === '') continue;
          let line: unknown;
          try {
            line = JSON.parse(text);
          } catch {
            return err({ status: 200, code: 'bad-stream', message: `the event stream sent a line that is not JSON: ${text.slice(0, 80)}` });
          }
          if (typeof line === 'object' && line !== null) onLine(line as StreamLine);
        }
      }
    } catch (e) {
      return signal.aborted ? ok(undefined) : err(unreachable(this.base, e));
    }
  }
}
