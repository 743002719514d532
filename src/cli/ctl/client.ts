/**
 * The HTTP client amfctl uses to talk to one amfd node: where (`--addr`, AMFCTL_ADDR, default the
 * local node), with which token (`--token-file`, AMFCTL_TOKEN, AMFCTL_TOKEN_FILE, the default
 * token file), and how failures turn into a message that says what to do next plus an exit status.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type Command, Option } from 'commander';
import { DEFAULT_API_BIND } from '../../api/http.js';
import { EXIT } from './exit.js';
import type { CtlIo } from './io.js';
import { type Result, err, ok } from '../../util/result.js';

/** The api.token_file of the packaged conf/amfd.json. */
export const DEFAULT_TOKEN_FILE = '/etc/amfd/api-token';

export type ClientError =
  | { readonly kind: 'connect'; readonly message: string }
  | { readonly kind: 'http'; readonly status: number; readonly code: string; readonly message: string; readonly details: unknown }
  | { readonly kind: 'local'; readonly message: string };

export interface Reply<T> {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: T;
}

export interface ConnectionOptions {
  readonly addr?: string;
  readonly tokenFile?: string;
  readonly ca?: string;
}

/**
 * Adds the connection options every command that talks to amfd takes, and makes argument errors
 * exit with EXIT.usage (commander would exit 1, which amfctl reserves for refusals).
 */
export function withConnection(cmd: Command): Command {
  return cmd
    .exitOverride((e) => {
      if (e.exitCode !== 0) process.exit(EXIT.usage);
    })
    .addOption(new Option('--addr <addr>', `the amfd API, host:port or an http(s):// URL (env AMFCTL_ADDR; default ${DEFAULT_API_BIND})`))
    .addOption(new Option('--token-file <path>', `file holding the API token (env AMFCTL_TOKEN or AMFCTL_TOKEN_FILE; default ${DEFAULT_TOKEN_FILE})`))
    .addOption(new Option('--ca <path>', 'CA certificate (PEM) to trust for an https:// address (env AMFCTL_CACERT)'));
}

const CONNECTION_KEYS = ['addr', 'tokenFile', 'ca'] as const;

/**
 * Lets the connection options come before the command as well (`amfctl --addr n2:7950 status`):
 * the program takes them wherever they are and hands them to the command that runs.
 */
export function withGlobalConnection(program: Command): Command {
  return withConnection(program).hook('preAction', (root, action) => {
    for (const key of CONNECTION_KEYS) {
      const v: unknown = root.getOptionValue(key);
      if (v !== undefined && action !== root && action.getOptionValue(key) === undefined) action.setOptionValueWithSource(key, v, 'cli');
    }
  });
}

export class ApiClient {
  private constructor(
    readonly base: URL,
    private readonly token: string,
    private readonly ca: string | undefined,
  ) {}

  /** Resolves the address and token; a failure is a message that says how to fix it. */
  static async create(opts: ConnectionOptions, io: CtlIo): Promise<Result<ApiClient, ClientError>> {
    const raw = opts.addr ?? io.env['AMFCTL_ADDR'] ?? DEFAULT_API_BIND;
    let base: URL;
    try {
      base = new URL(/^https?:\/\//.test(raw) ? raw : `http://${raw}`);
    } catch {
      return err({ kind: 'local', message: `bad address ${JSON.stringify(raw)}: give host:port or http(s)://host:port (--addr or AMFCTL_ADDR)` });
    }
    let token = opts.tokenFile === undefined ? io.env['AMFCTL_TOKEN'] : undefined;
    if (token === undefined) {
      const file = opts.tokenFile ?? io.env['AMFCTL_TOKEN_FILE'] ?? DEFAULT_TOKEN_FILE;
      try {
        token = (await io.readFile(file)).trim();
      } catch (e) {
        return err({
          kind: 'local',
          message: `cannot read the API token from ${file} (${e instanceof Error ? e.message : String(e)}): pass --token-file, or set AMFCTL_TOKEN or AMFCTL_TOKEN_FILE`,
        });
      }
    }
    if (token === '') return err({ kind: 'local', message: 'the API token is empty: check --token-file, AMFCTL_TOKEN or AMFCTL_TOKEN_FILE' });
    const caFile = opts.ca ?? io.env['AMFCTL_CACERT'];
    let ca: string | undefined;
    if (caFile !== undefined) {
      try {
        ca = await io.readFile(caFile);
      } catch (e) {
        return err({ kind: 'local', message: `cannot read the CA certificate ${caFile}: ${e instanceof Error ? e.message : String(e)}` });
      }
    }
    return ok(new ApiClient(base, token, ca));
  }

  get<T>(path: string): Promise<Result<Reply<T>, ClientError>> {
    return this.call<T>('GET', path);
  }

  send<T>(method: 'PUT' | 'POST', path: string, body: unknown, headers: Record<string, string> = {}): Promise<Result<Reply<T>, ClientError>> {
    return this.call<T>(method, path, JSON.stringify(body), headers);
  }

  private open(method: string, path: string, headers: Record<string, string>, onResponse: (res: IncomingMessage) => void, onError: (e: Error) => void) {
    const url = new URL(path, this.base);
    const options = { method, headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...headers }, ...(this.ca === undefined ? {} : { ca: this.ca }) };
    const req = url.protocol === 'https:' ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
    req.on('error', onError);
    return req;
  }

  private connectError(e: Error): ClientError {
    return { kind: 'connect', message: `cannot reach amfd at ${this.base.host} (${e.message}): is amfd running there? point amfctl at a node with --addr or AMFCTL_ADDR` };
  }

  private call<T>(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Result<Reply<T>, ClientError>> {
    return new Promise((resolve) => {
      const h = body === undefined ? headers : { 'content-type': 'application/json', ...headers };
      const req = this.open(
        method,
        path,
        h,
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => resolve(err(this.connectError(e))));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            const isJson = /json/.test(String(res.headers['content-type'] ?? ''));
            let parsed: unknown = text;
            if (isJson) {
              try {
                parsed = JSON.parse(text);
              } catch {
                resolve(err({ kind: 'http', status, code: 'bad-reply', message: `amfd at ${this.base.host} sent malformed JSON (HTTP ${status}); is that address really amfd?`, details: null }));
                return;
              }
            }
            if (status >= 200 && status < 300) resolve(ok({ status, headers: res.headers, body: parsed as T }));
            else resolve(err(httpError(status, parsed, this.base.host)));
          });
        },
        (e) => resolve(err(this.connectError(e))),
      );
      req.end(body);
    });
  }

  /**
   * Follows an NDJSON stream, calling onLine for each parsed line, until the server ends it or
   * `signal` aborts (then it resolves ok).
   */
  stream(path: string, onLine: (line: Record<string, unknown>) => void, signal?: AbortSignal): Promise<Result<'ended', ClientError>> {
    return new Promise((resolve) => {
      const req = this.open(
        'GET',
        path,
        { accept: 'application/x-ndjson' },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              let parsed: unknown = null;
              try {
                parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
              } catch {
                // Not JSON: httpError reports the bare status.
              }
              resolve(err(httpError(status, parsed, this.base.host)));
            });
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const text = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              try {
                onLine(JSON.parse(text) as Record<string, unknown>);
              } catch {
                // A torn line cannot happen over HTTP; skip anything unparseable rather than die.
              }
            }
          });
          res.on('end', () => resolve(ok('ended')));
          res.on('error', () => resolve(ok('ended')));
        },
        (e) => resolve(signal?.aborted ? ok('ended') : err(this.connectError(e))),
      );
      signal?.addEventListener('abort', () => req.destroy(), { once: true });
      req.end();
    });
  }
}

function httpError(status: number, body: unknown, host: string): ClientError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (e && typeof e.code === 'string' && typeof e.message === 'string') return { kind: 'http', status, code: e.code, message: e.message, details: e.details ?? null };
  return { kind: 'http', status, code: 'http-error', message: `amfd at ${host} answered HTTP ${status}`, details: null };
}

/** Prints a failure as `amfctl: …` and returns the exit status for it. */
export function fail(e: ClientError, io: CtlIo): number {
  io.stderr(`amfctl: ${e.message}\n`);
  if (e.kind === 'local') return EXIT.usage;
  if (e.kind === 'connect') return EXIT.unreachable;
  if (e.status === 401) return EXIT.unauthorized;
  if (e.code === 'stale-epoch') return EXIT.conflict;
  if (e.status >= 500) return EXIT.unreachable;
  if (e.status === 400 || e.status === 413 || e.status === 415 || e.status === 428) return EXIT.usage;
  return EXIT.refused;
}

/** Runs a command body with a client built from the command's options; failures print and exit. */
export async function withClient(opts: ConnectionOptions, io: CtlIo, body: (client: ApiClient) => Promise<number>): Promise<number> {
  const c = await ApiClient.create(opts, io);
  if (!c.ok) return fail(c.error, io);
  return body(c.value);
}
