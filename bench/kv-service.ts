import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../src/runtime/ports/clock.js';
import type { Logger } from '../src/runtime/ports/observability.js';
import type { StreamConnection, StreamListener, StreamNetwork } from '../src/runtime/ports/stream.js';
import { err, ok, type Result } from '../src/util/result.js';
import type { Raft } from '../src/raft/driver/raft.js';
import type { RaftError } from '../src/raft/driver/types.js';
import { packr } from '../src/raft/storage/codec.js';
import { decodeKv, encodeKv, type KvFsm, type KvInput, type KvOutput } from '../simulator/raft/kv.js';

/**
 * A KV front end for a Raft node, for the real-process test and the benchmark: clients send
 * `{id, op}` frames over a StreamNetwork connection and get `{id, ok, value}` or `{id, ok:false,
 * error}` back once the command is applied (or refused). `{id, status:true}` reports the applied
 * index, role and a digest of the KV state, so replicas can be compared.
 */
export interface KvStatus {
  readonly applied: number;
  readonly state: string;
  readonly leader: string;
  readonly digest: string;
  readonly rssBytes: number;
}

type Request = { readonly id: number; readonly op: KvInput } | { readonly id: number; readonly status: true };
type Response =
  | { readonly id: number; readonly ok: true; readonly value: KvOutput }
  | { readonly id: number; readonly ok: false; readonly error: RaftError }
  | { readonly id: number; readonly status: KvStatus };

function parseRequest(v: unknown): Request | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'number') return undefined;
  if (o.status === true) return { id: o.id, status: true };
  const op = o.op === undefined ? undefined : decodeKv(packr.pack(o.op));
  return op ? { id: o.id, op } : undefined;
}

export class KvService {
  private readonly bad: Counter;

  private constructor(
    private readonly listener: StreamListener,
    private readonly raft: Raft,
    private readonly fsm: KvFsm,
    private readonly log: Logger,
    metrics: Registry,
    private readonly applyTimeoutMs: number,
    private readonly rss: () => number,
  ) {
    this.bad = new Counter({ name: 'kv_bad_requests_total', help: 'Malformed KV client frames', registers: [metrics] });
    listener.onConnection((c) => this.serve(c));
  }

  static async listen(net: StreamNetwork, address: string, raft: Raft, fsm: KvFsm, logger: Logger, metrics: Registry, rss: () => number, applyTimeoutMs = 2000): Promise<KvService> {
    return new KvService(await net.listen(address), raft, fsm, logger.child({ module: 'kv' }), metrics, applyTimeoutMs, rss);
  }

  get address(): string {
    return this.listener.address;
  }

  close(): Promise<void> {
    return this.listener.close();
  }

  private serve(conn: StreamConnection): void {
    conn.onFrame((frame) => {
      let req: Request | undefined;
      try {
        req = parseRequest(packr.unpack(frame));
      } catch {
        req = undefined;
      }
      if (!req) {
        this.bad.inc();
        this.log.warn({ peer: conn.remoteAddress }, 'malformed kv request, closing connection');
        conn.close();
        return;
      }
      const reply = (r: Response): void => void conn.send(packr.pack(r));
      if ('status' in req) {
        const { id } = req;
        reply({ id, status: { applied: this.raft.appliedIndex, state: this.raft.state(), leader: this.raft.leader()?.id ?? '', digest: this.fsm.digest(), rssBytes: this.rss() } });
        return;
      }
      const { id } = req;
      void this.raft.apply(encodeKv(req.op), this.applyTimeoutMs).then((r) => reply(r.ok ? { id, ok: true, value: r.value as KvOutput } : { id, ok: false, error: r.error }));
    });
  }
}

/** The client side: one connection per node, requests matched to responses by id. */
export class KvClient {
  private nextId = 1;
  private readonly pending = new Map<number, (r: Response | undefined) => void>();

  private constructor(
    private readonly conn: StreamConnection,
    private readonly clock: Clock,
  ) {
    conn.onFrame((frame) => {
      const r = packr.unpack(frame) as Response;
      const cb = this.pending.get(r.id);
      if (!cb) return;
      this.pending.delete(r.id);
      cb(r);
    });
    conn.onClose(() => {
      for (const cb of this.pending.values()) cb(undefined);
      this.pending.clear();
    });
  }

  static async connect(net: StreamNetwork, address: string, clock: Clock, timeoutMs = 1000): Promise<Result<KvClient, string>> {
    const r = await net.connect(address, { timeoutMs });
    return r.ok ? ok(new KvClient(r.value, clock)) : err(`${r.error.kind}: ${address}`);
  }

  get closed(): boolean {
    return this.conn.closed;
  }

  close(): void {
    this.conn.close();
  }

  /** undefined: no answer (timeout or connection lost): the outcome is unknown. */
  async call(op: KvInput, timeoutMs: number): Promise<Result<KvOutput, RaftError> | undefined> {
    const r = await this.request({ id: 0, op }, timeoutMs);
    if (!r || 'status' in r) return undefined;
    return r.ok ? ok(r.value) : err(r.error);
  }

  async status(timeoutMs: number): Promise<KvStatus | undefined> {
    const r = await this.request({ id: 0, status: true }, timeoutMs);
    return r && 'status' in r ? r.status : undefined;
  }

  private request(req: Request, timeoutMs: number): Promise<Response | undefined> {
    if (this.conn.closed) return Promise.resolve(undefined);
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(timeoutMs, () => {
        this.pending.delete(id);
        resolve(undefined);
      });
      this.pending.set(id, (r) => {
        timer.cancel();
        resolve(r);
      });
      this.conn.send(packr.pack({ ...req, id }));
    });
  }
}
