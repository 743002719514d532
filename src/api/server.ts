/**
 * The node's HTTP API (docs/api.md): routes, bearer-token auth, validation, and the mapping of
 * backend outcomes to statuses. The socket is opened by the runtime's HttpServerFactory with
 * `server.handler`; this module only sees requests, so the simulator or a test can drive it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { ApiBackend, BackendError, GroupView, ReadOptions } from './backend.js';
import { type ApiError, apiError, readJson, sendError, sendJson, validate } from './http.js';
import { AdminParams, EntityName, EpochTag, MigrateBody, NoBody, PutConfigBody, ReportErrorBody, SeatBody, Seq, flag } from './schemas.js';
import type { AdminEntityKind } from './admin-target.js';
import { AdminOp } from '../model/vocabulary.js';
import { EventStream } from './stream.js';
import { compList, nodeCondition, nodeList, siList, suList, type ViewFilter } from './entity-views.js';
import type { Clock } from '../runtime/ports/clock.js';
import type { Logger } from '../runtime/ports/observability.js';
import { ok, type Result } from '../util/result.js';

export interface ApiServerOptions {
  readonly backend: ApiBackend;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Every request but /ping must carry `Authorization: Bearer <token>`. */
  readonly token: string;
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Default 15 s. */
  readonly heartbeatMs?: number;
  /** Unread output a stream reader may accumulate before it is dropped. Default 1 MiB. */
  readonly maxStreamBufferBytes?: number;
  /** The web console served under `/ui/` (src/web); none: `/ui/` answers 404. */
  readonly ui?: UiSite;
}

/** A reply of the web console's static files. */
export interface UiReply {
  readonly status: 200 | 304 | 503;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string;
}

/** Static files under `/ui/`, served without the token: they hold no data (docs/web.md). */
export interface UiSite {
  /** The reply for `/ui/<path>` (`''`: the page), or null when there is no such file. */
  get(path: string, ifNoneMatch: string | undefined): UiReply | null;
}

interface Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
}

type Outcome =
  | { status: number; body: unknown; headers?: Record<string, string> }
  /** A non-JSON reply (Prometheus text). */
  | { status: number; text: string; contentType: string }
  | ApiError
  | 'streaming'
  /** Answered already (the web console's files). */
  | 'served';

interface Route {
  readonly method: string;
  /** Path segments; `:x` matches one segment (URL-decoded) into params, in order. */
  readonly path: readonly string[];
  /** Metric label. */
  readonly name: string;
  readonly auth: boolean;
  readonly run: (r: Request) => Promise<Outcome>;
}

function isApiError(o: Outcome): o is ApiError {
  return typeof o === 'object' && 'code' in o;
}

const STATUS_OF: Readonly<Record<BackendError['code'], number>> = { 'not-found': 404, 'invalid-state': 409, 'no-leader': 503, unavailable: 503 };

function fromBackend(e: BackendError): ApiError {
  return apiError(STATUS_OF[e.code], e.code, e.message);
}

function ok200(body: unknown, headers?: Record<string, string>): Outcome {
  return { status: 200, body, ...(headers ? { headers } : {}) };
}

function unwrap<T>(r: Result<T, BackendError>, then: (v: T) => Outcome): Outcome {
  return r.ok ? then(r.value) : fromBackend(r.error);
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class ApiServer {
  private readonly backend: ApiBackend;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly tokenHash: Buffer;
  private readonly maxBody: number;
  private readonly streamOpts: { heartbeatMs: number; maxBufferedBytes: number; lingerMs: number };
  private readonly routes: readonly Route[];
  private readonly ui: UiSite | undefined;
  private readonly streams = new Set<EventStream>();
  private closing = false;
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'route'>;
  private readonly openStreams: Gauge;
  private readonly dropped: Counter;

  constructor(opts: ApiServerOptions) {
    this.backend = opts.backend;
    this.clock = opts.clock;
    this.log = opts.logger.child({ module: 'api' });
    this.tokenHash = sha256(opts.token);
    this.maxBody = opts.maxBodyBytes ?? 1024 * 1024;
    this.streamOpts = { heartbeatMs: opts.heartbeatMs ?? 15_000, maxBufferedBytes: opts.maxStreamBufferBytes ?? 1024 * 1024, lingerMs: 5_000 };
    const registers = [opts.backend.metrics];
    this.requests = new Counter({ name: 'amfd_api_requests_total', help: 'API requests by route and status', labelNames: ['method', 'route', 'status'], registers });
    this.duration = new Histogram({ name: 'amfd_api_request_duration_seconds', help: 'API request time until the reply (streams: until headers)', labelNames: ['route'], registers });
    this.openStreams = new Gauge({ name: 'amfd_api_event_streams', help: 'open GET /v1/events streams', registers });
    this.dropped = new Counter({ name: 'amfd_api_event_streams_dropped_total', help: 'event streams dropped for reading too slowly', registers });
    this.routes = this.buildRoutes();
    this.ui = opts.ui;
  }

  /** The request handler to give the HTTP listener. Never throws. */
  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    void this.dispatch(req, res);
  };

  /** Ends every event stream with a final line; call before closing the listener. */
  close(): void {
    this.closing = true;
    for (const s of [...this.streams]) s.shutdown();
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = this.clock.now();
    const method = req.method ?? 'GET';
    let routeName = 'unknown';
    let outcome: Outcome;
    try {
      const url = new URL(req.url ?? '/', 'http://amfd');
      const segments = url.pathname.split('/').filter((s) => s !== '');
      const found = this.match(method, segments);
      const page = this.uiPath(url.pathname);
      if (page !== null) {
        routeName = 'ui';
        outcome = this.serveUi(req, res, method, page);
      } else if ('error' in found) {
        outcome = found.error;
      } else {
        routeName = found.route.name;
        if (found.route.auth && !this.authorized(req)) {
          outcome = apiError(401, 'unauthorized', 'missing or wrong bearer token: send Authorization: Bearer <token> (amfctl reads --token-file, AMFCTL_TOKEN or AMFCTL_TOKEN_FILE)');
        } else if (this.closing) {
          outcome = apiError(503, 'shutting-down', 'the node is shutting down; retry on another node or after it restarts');
        } else {
          outcome = await found.route.run({ req, res, params: found.params, query: url.searchParams });
        }
      }
    } catch (e) {
      this.log.error({ err: e, method, url: req.url }, 'API request failed');
      outcome = apiError(500, 'internal', 'internal error (logged on the node); retry, and report it if it persists');
    }
    const status = outcome === 'streaming' ? 200 : outcome === 'served' ? res.statusCode : outcome.status;
    if (outcome !== 'streaming' && outcome !== 'served' && !res.headersSent) {
      if (isApiError(outcome)) {
        const extra: Record<string, string> = {};
        if (outcome.status === 401) extra['www-authenticate'] = 'Bearer realm="amfd"';
        // The unread rest of a refused body must not be parsed as the next request.
        if (outcome.status === 413) extra['connection'] = 'close';
        if (outcome.status === 405 && Array.isArray(outcome.details)) extra['allow'] = (outcome.details as string[]).join(', ');
        sendError(res, outcome, extra);
      } else if ('text' in outcome) {
        res.writeHead(outcome.status, { 'content-type': outcome.contentType, 'cache-control': 'no-store' });
        res.end(outcome.text);
      } else {
        sendJson(res, outcome.status, outcome.body, outcome.headers);
      }
    }
    this.requests.inc({ method, route: routeName, status: String(status) });
    this.duration.observe({ route: routeName }, (this.clock.now() - started) / 1000);
    if (status >= 500) this.log.warn({ method, url: req.url, status }, 'API request failed');
    else this.log.debug({ method, url: req.url, status }, 'API request');
  }

  /** `/` and `/ui` lead to the page; `/ui/<path>` is a file of it: the path, else null. */
  private uiPath(pathname: string): string | null {
    if (pathname === '/' || pathname === '/ui') return '/';
    if (!pathname.startsWith('/ui/')) return null;
    try {
      return decodeURIComponent(pathname.slice('/ui/'.length));
    } catch {
      return pathname.slice('/ui/'.length);
    }
  }

  private serveUi(req: IncomingMessage, res: ServerResponse, method: string, path: string): Outcome {
    if (method !== 'GET' && method !== 'HEAD') return apiError(405, 'method-not-allowed', `${method} is not allowed here; use GET or HEAD`, ['GET', 'HEAD']);
    if (path === '/') {
      // Relative links in the page need the trailing slash.
      res.writeHead(308, { location: '/ui/', 'cache-control': 'no-store' });
      res.end();
      return 'served';
    }
    if (!this.ui) return apiError(404, 'not-found', 'this node serves no web console; see docs/web.md');
    const ifNoneMatch = req.headers['if-none-match'];
    const r = this.ui.get(path, ifNoneMatch);
    if (!r) return apiError(404, 'not-found', `no such file of the web console: /ui/${path}; open /ui/`);
    res.writeHead(r.status, r.headers);
    res.end(r.status === 304 ? undefined : r.body);
    return 'served';
  }

  private match(method: string, segments: readonly string[]): { route: Route; params: string[] } | { error: ApiError } {
    const allowed: string[] = [];
    for (const route of this.routes) {
      if (route.path.length !== segments.length) continue;
      const params: string[] = [];
      let hit = true;
      for (let i = 0; i < route.path.length && hit; i++) {
        const want = route.path[i]!;
        const got = segments[i]!;
        if (want.startsWith(':')) {
          try {
            params.push(decodeURIComponent(got));
          } catch {
            hit = false;
          }
        } else hit = want === got;
      }
      if (!hit) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0) return { error: apiError(405, 'method-not-allowed', `${method} is not allowed here; use ${allowed.join(' or ')}`, allowed) };
    return { error: apiError(404, 'not-found', `no such endpoint: /${segments.join('/')}; see docs/api.md for the endpoints`) };
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    // Hashes have equal length, so timingSafeEqual never throws and leaks nothing about the token.
    return m !== null && timingSafeEqual(sha256(m[1]!), this.tokenHash);
  }

  private readOpts(q: URLSearchParams): Result<ReadOptions, ApiError> {
    const consistent = flag(q.get('consistent'));
    if (consistent === undefined) return { ok: false, error: apiError(400, 'invalid-request', 'consistent must be given bare or as 1/true/0/false') };
    return { ok: true, value: { consistent } };
  }

  private name(raw: string, what: string): Result<string, ApiError> {
    return validate(EntityName, raw, `${what} name`);
  }

  private buildRoutes(): Route[] {
    const b = this.backend;
    const r = (method: string, path: string, name: string, run: (r: Request) => Promise<Outcome>, auth = true): Route => ({
      method,
      path: path.split('/').filter((s) => s !== ''),
      name,
      auth,
      run,
    });
    const reads = <T>(load: (o: ReadOptions) => Promise<Result<T, BackendError>>, then: (v: T, req: Request) => Outcome) => async (req: Request): Promise<Outcome> => {
      const o = this.readOpts(req.query);
      if (!o.ok) return o.error;
      return unwrap(await load(o.value), (v) => then(v, req));
    };
    return [
      r('GET', '/ping', 'ping', async () => ok200({ ping: 'pong' }), false),
      r('GET', '/status', 'status', async () => {
        const s = await b.status();
        return ok200({ state: nodeCondition(s), ...s });
      }),
      r('GET', '/metrics', 'metrics', async () => ({ status: 200, text: await b.metrics.metrics(), contentType: b.metrics.contentType })),
      r('GET', '/v1/nodes', 'nodes', (req) => this.list(req, async (o, f) => {
        const [nodes, groups] = await Promise.all([b.nodes(o), f.group === undefined ? Promise.resolve(ok([])) : b.groups(o)]);
        if (!nodes.ok) return nodes;
        return groups.ok ? ok({ nodes: nodeList(nodes.value, groups.value, f) }) : groups;
      })),
      r('GET', '/v1/nodes/:node', 'node', (req) => this.one(req, 'node', '/v1/nodes', async (o, name) => {
        const nodes = await b.nodes(o);
        return nodes.ok ? ok(nodes.value.find((n) => n.name === name)) : nodes;
      })),
      r('GET', '/v1/sus', 'sus', (req) => this.list(req, async (o, f) => mapGroups(await b.groups(o), (g) => ({ sus: suList(g, f) })))),
      r('GET', '/v1/sus/:su', 'su', (req) => this.one(req, 'SU', '/v1/sus', async (o, name) => mapGroups(await b.groups(o), (g) => suList(g, {}).find((u) => u.name === name)))),
      r('GET', '/v1/components', 'components', (req) => this.list(req, async (o, f) => mapGroups(await b.groups(o), (g) => ({ components: compList(g, f) })))),
      r('GET', '/v1/components/:su/:comp', 'component', (req) => {
        const comp = this.name(req.params[1]!, 'component');
        if (!comp.ok) return Promise.resolve(comp.error);
        return this.one(req, 'component', '/v1/components', async (o, su) => mapGroups(await b.groups(o), (g) => compList(g, {}).find((c) => c.su === su && c.name === comp.value)));
      }),
      r('GET', '/v1/sis', 'sis', (req) => this.list(req, async (o, f) => mapGroups(await b.groups(o), (g) => ({ sis: siList(g, f) })))),
      r('GET', '/v1/groups', 'groups', reads((o) => b.groups(o), (groups) => ok200({ groups }))),
      r(
        'GET',
        '/v1/groups/:sg',
        'group',
        reads(
          (o) => b.groups(o),
          (groups, { params }) => {
            const n = this.name(params[0]!, 'group');
            if (!n.ok) return n.error;
            const g = groups.find((x) => x.name === n.value);
            return g ? ok200(g) : apiError(404, 'not-found', `no group ${n.value}; GET /v1/groups lists them`);
          },
        ),
      ),
      r(
        'GET',
        '/v1/sis/:si',
        'si',
        reads(
          (o) => b.groups(o),
          (groups, { params }) => {
            const n = this.name(params[0]!, 'service instance');
            if (!n.ok) return n.error;
            const si = groups.flatMap((g) => g.sis).find((x) => x.name === n.value);
            return si ? ok200(si) : apiError(404, 'not-found', `no service instance ${n.value}; GET /v1/groups lists them`);
          },
        ),
      ),
      r('GET', '/v1/server-groups', 'server-groups', reads((o) => b.serverGroups(o), (serverGroups) => ok200({ serverGroups }))),
      r(
        'GET',
        '/v1/server-groups/:name',
        'server-group',
        reads(
          (o) => b.serverGroups(o),
          (groups, { params }) => {
            const n = this.name(params[0]!, 'server group');
            if (!n.ok) return n.error;
            const g = groups.find((x) => x.name === n.value);
            return g ? ok200(g) : apiError(404, 'not-found', `no server group ${n.value}; GET /v1/server-groups lists them`);
          },
        ),
      ),
      r('GET', '/v1/config', 'config', reads((o) => b.config(o), (c) => ok200(c, { etag: `"${c.epoch}"` }))),
      r('PUT', '/v1/config', 'put-config', (req) => this.putConfig(req)),
      r('POST', '/v1/admin/:kind/:name/:op', 'admin', (req) => this.admin(req, validate(AdminParams, { kind: req.params[0], name: req.params[1], op: req.params[2] }, 'admin operation'))),
      r('POST', '/v1/admin/comp/:su/:comp/:op', 'admin', (req) => this.admin(req, this.compAdmin(req.params))),
      r('GET', '/v1/admin/:kind/:name/:op', 'admin-progress', async ({ params }) => this.progress(validate(AdminParams, { kind: params[0], name: params[1], op: params[2] }, 'admin operation'))),
      r('GET', '/v1/admin/comp/:su/:comp/:op', 'admin-progress', async ({ params }) => this.progress(this.compAdmin(params))),
      r('PUT', '/v1/members/:name/seat', 'seat', async ({ req, params }) => {
        const node = this.name(params[0]!, 'node');
        if (!node.ok) return node.error;
        const body = await readJson(req, this.maxBody, false);
        if (!body.ok) return body.error;
        const v = validate(SeatBody, body.value, 'seat');
        if (!v.ok) return v.error;
        return unwrap(await b.admit(node.value, v.value.seat), () => ok200({ node: node.value, seat: v.value.seat }));
      }),
      r('POST', '/v1/components/:su/:comp/error', 'report-error', async ({ req, params }) => {
        const su = this.name(params[0]!, 'SU');
        if (!su.ok) return su.error;
        const comp = this.name(params[1]!, 'component');
        if (!comp.ok) return comp.error;
        const body = await readJson(req, this.maxBody, true);
        if (!body.ok) return body.error;
        const v = validate(ReportErrorBody, body.value, 'error report');
        if (!v.ok) return v.error;
        return unwrap(await b.reportError(su.value, comp.value, v.value.recovery, v.value.reason), () => ok200({ reported: true }));
      }),
      r('GET', '/v1/events', 'events', async ({ res, query }) => this.events(res, query)),
    ];
  }

  /** A list view: read options and `?group=` / `?node=` checked, then the backend read. */
  private async list<T>(req: Request, load: (o: ReadOptions, f: ViewFilter) => Promise<Result<T, BackendError>>): Promise<Outcome> {
    const o = this.readOpts(req.query);
    if (!o.ok) return o.error;
    const f: { group?: string; node?: string } = {};
    for (const key of ['group', 'node'] as const) {
      const v = req.query.get(key);
      if (v === null) continue;
      const n = this.name(v, key);
      if (!n.ok) return n.error;
      f[key] = n.value;
    }
    return unwrap(await load(o.value, f), (v) => ok200(v));
  }

  /** A single view by the first path parameter; 404 naming the list to look in when absent. */
  private async one<T>(req: Request, what: string, list: string, load: (o: ReadOptions, name: string) => Promise<Result<T | undefined, BackendError>>): Promise<Outcome> {
    const o = this.readOpts(req.query);
    if (!o.ok) return o.error;
    const n = this.name(req.params[0]!, what);
    if (!n.ok) return n.error;
    return unwrap(await load(o.value, n.value), (v) => (v === undefined ? apiError(404, 'not-found', `no ${what} ${req.params.slice(0, 2).join('/')}; GET ${list} lists them`) : ok200(v)));
  }

  /** `/v1/admin/comp/SU/COMP/OP`: a component's admin operation, named `SU/COMP` to the backend. */
  private compAdmin(params: readonly string[]): Result<{ kind: AdminEntityKind; name: string; op: AdminOp }, ApiError> {
    const su = this.name(params[0]!, 'SU');
    if (!su.ok) return su;
    const comp = this.name(params[1]!, 'component');
    if (!comp.ok) return comp;
    const op = validate(AdminOp, params[2], 'admin operation');
    if (!op.ok) return op;
    return { ok: true, value: { kind: 'comp', name: `${su.value}/${comp.value}`, op: op.value } };
  }

  private async admin({ req, query }: Request, p: Result<{ kind: AdminEntityKind; name: string; op: AdminOp }, ApiError>): Promise<Outcome> {
    const b = this.backend;
    const dryRun = flag(query.get('dry_run'));
    if (dryRun === undefined) return apiError(400, 'invalid-request', 'dry_run must be given bare or as 1/true/0/false');
    const body = await readJson(req, this.maxBody, true);
    if (!body.ok) return body.error;
    if (!p.ok) return p.error;
    const { kind, name, op } = p.value;
    const args = validate(op === 'migrate' ? MigrateBody : NoBody, body.value, `${op} body`);
    if (!args.ok) return args.error;
    const to = 'to' in args.value ? args.value.to : undefined;
    const dest = to === undefined ? {} : { to };
    if (dryRun) return unwrap(await b.planAdmin(kind, name, op, to), (plan) => ok200({ done: false, kind, name, op, ...dest, plan }));
    return unwrap(await b.admin(kind, name, op, to), () => ok200({ done: true, kind, name, op, ...dest }));
  }

  /** Whether an admin operation has taken effect: `{state: done|pending|failed, waiting?, reason?}`. */
  private async progress(p: Result<{ kind: AdminEntityKind; name: string; op: AdminOp }, ApiError>): Promise<Outcome> {
    if (!p.ok) return p.error;
    const { kind, name, op } = p.value;
    return unwrap(await this.backend.adminProgress(kind, name, op), (progress) => ok200({ kind, name, op, ...progress }));
  }

  private async putConfig({ req, query }: Request): Promise<Outcome> {
    const dryRun = flag(query.get('dry_run'));
    if (dryRun === undefined) return apiError(400, 'invalid-request', 'dry_run must be given bare or as 1/true/0/false');
    const tag = req.headers['if-match'];
    if (tag === undefined) {
      return apiError(428, 'if-match-required', 'PUT /v1/config needs If-Match: <epoch>; read the epoch (the ETag) with GET /v1/config first');
    }
    const epoch = validate(EpochTag, tag, 'If-Match header');
    if (!epoch.ok) return epoch.error;
    const body = await readJson(req, this.maxBody, false);
    if (!body.ok) return body.error;
    const v = validate(PutConfigBody, body.value, 'config body');
    if (!v.ok) return v.error;
    const r = await this.backend.putConfig(v.value.text, epoch.value, dryRun);
    if (!r.ok) return fromBackend(r.error);
    const out = r.value;
    switch (out.kind) {
      case 'committed':
        return ok200({ committed: true, epoch: out.epoch, changes: out.changes }, { etag: `"${out.epoch}"` });
      case 'dry-run':
        return ok200({ committed: false, epoch: out.epoch, changes: out.changes, plan: out.plan });
      case 'stale':
        return apiError(409, 'stale-epoch', `the config changed since epoch ${epoch.value} (it is at epoch ${out.epoch} now); read it again, redo your change and retry with If-Match: ${out.epoch}`, {
          epoch: out.epoch,
          ifMatch: epoch.value,
        });
      case 'invalid':
        return apiError(422, 'invalid-config', `the config has ${out.errors.length} error${out.errors.length === 1 ? '' : 's'}; fix them and retry:\n${out.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`).join('\n')}`, out.errors);
    }
  }

  private events(res: ServerResponse, query: URLSearchParams): Outcome {
    const raw = query.get('since');
    let since: number | null = null;
    if (raw !== null) {
      const s = validate(Seq, raw, 'since');
      if (!s.ok) return s.error;
      since = s.value;
    }
    const follow = flag(query.get('follow') ?? '1');
    if (follow === undefined) return apiError(400, 'invalid-request', 'follow must be 1/true (the default: keep streaming) or 0/false (end after the kept events)');
    const status = flag(query.get('status'));
    if (status === undefined) return apiError(400, 'invalid-request', 'status must be given bare or as 1/true/0/false');
    const stream = new EventStream(res, this.clock, this.streamOpts, (why) => {
      this.streams.delete(stream);
      this.openStreams.dec();
      if (why === 'slow-reader') {
        this.dropped.inc();
        this.log.warn({ remote: res.req.socket.remoteAddress }, 'event stream reader too slow: dropped');
      }
    }, since);
    this.streams.add(stream);
    this.openStreams.inc();
    const started = stream.start(this.backend, follow, status);
    if (!started.ok) {
      this.streams.delete(stream);
      this.openStreams.dec();
      return apiError(410, 'events-gone', `events after ${since} are no longer kept (the oldest kept is ${started.oldest}, the latest ${started.latest}); re-read the state (GET /v1/groups) and follow from ?since=${started.latest}`, {
        oldest: started.oldest,
        latest: started.latest,
      });
    }
    return 'streaming';
  }
}

function mapGroups<T>(r: Result<readonly GroupView[], BackendError>, f: (g: readonly GroupView[]) => T): Result<T, BackendError> {
  return r.ok ? ok(f(r.value)) : r;
}
