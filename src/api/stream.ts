/**
 * `GET /v1/events`: one JSON event per line (NDJSON), kept open with heartbeat lines. The daemon
 * never waits for a reader: a reader whose unread output passes `maxBufferedBytes` gets a final
 * error line and is disconnected, and may resume with `?since=<last seq it saw>`.
 */
import type { ServerResponse } from 'node:http';
import type { ApiBackend, StatusView } from './backend.js';
import type { ApiEvent } from './events.js';
import { errorBody, apiError } from './http.js';
import type { Clock, TimerHandle } from '../runtime/ports/clock.js';

export interface StreamOptions {
  readonly heartbeatMs: number;
  readonly maxBufferedBytes: number;
  /** After the final line, how long a stuck reader may take to read it before its socket is cut. */
  readonly lingerMs: number;
}

/** Lines a reader sees besides events (events are the lines with a `seq`). */
export type HeartbeatLine = { readonly heartbeat: string; readonly latest: number | null };
/** With `?status=1`: this node's status, first and whenever its Raft view, gossip members or lease change. */
export type StatusLine = { readonly status: StatusView };

/** Status changes come in bursts (an election: term, state, leader); one line per burst. */
const STATUS_COALESCE_MS = 20;

/** What a status line is sent for: the parts of the status that change without an event. */
function statusKey(s: StatusView): string {
  return JSON.stringify([s.raft.role, s.raft.term, s.raft.leader, s.raft.voters, s.members.map((m) => [m.name, m.state, m.incarnation]), s.lease]);
}

export class EventStream {
  private timer: TimerHandle | null = null;
  /** The last seq this reader was sent (null until the first, when it asked for new events only). */
  private latest: number | null;
  private ended = false;
  private cancel: () => void = () => {};
  private unwatch: () => void = () => {};
  private statusTimer: TimerHandle | null = null;
  private sentStatus = '';

  constructor(
    private readonly res: ServerResponse,
    private readonly clock: Clock,
    private readonly opts: StreamOptions,
    private readonly onEnd: (reason: 'closed' | 'slow-reader' | 'shutdown') => void,
    since: number | null,
  ) {
    this.latest = since;
  }

  /**
   * Subscribes, replaying the events after `since`, then sends heartbeats (or, without `follow`,
   * ends after the replay). When `since` is older
   * than the backend keeps, nothing is sent and the caller answers with an error instead.
   */
  start(backend: ApiBackend, follow: boolean, status = false): { ok: true } | { ok: false; oldest: number; latest: number } {
    // The backlog arrives synchronously inside subscribe, before we know the status to send.
    const backlog: ApiEvent[] = [];
    let replaying = true;
    const sub = backend.subscribe(this.latest, (e) => (replaying ? backlog.push(e) : this.event(e)));
    if (sub.kind === 'gone') return { ok: false, oldest: sub.oldest, latest: sub.latest };
    replaying = false;
    this.cancel = () => sub.subscription.cancel();
    // Headers go out before the first event, or clients wait for them (flushHeaders).
    this.res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no',
      // A stream ends only when the reader is dropped or the node stops: then the socket goes too.
      connection: 'close',
    });
    this.res.flushHeaders();
    if (!follow) {
      // Only the backlog: the reader gets what is kept after `since`, then the end.
      sub.subscription.cancel();
      for (const e of backlog) this.res.write(`${JSON.stringify(e)}\n`);
      this.res.end();
      this.ended = true;
      this.onEnd('closed');
      return { ok: true };
    }
    this.res.on('close', () => this.finish('closed'));
    // A reader that went away before we got here never sends 'close' again.
    if (this.res.destroyed) {
      this.finish('closed');
      return { ok: true };
    }
    this.timer = this.clock.setPeriodic(this.opts.heartbeatMs, () => this.heartbeat());
    for (const e of backlog) this.event(e);
    if (status) {
      const watch = backend.watchStatus(() => this.statusSoon(backend));
      this.unwatch = () => watch.cancel();
      void this.sendStatus(backend);
    }
    return { ok: true };
  }

  private statusSoon(backend: ApiBackend): void {
    if (this.statusTimer || this.ended) return;
    this.statusTimer = this.clock.setTimer(STATUS_COALESCE_MS, () => {
      this.statusTimer = null;
      void this.sendStatus(backend);
    });
  }

  private async sendStatus(backend: ApiBackend): Promise<void> {
    const st = await backend.status();
    const key = statusKey(st);
    if (this.ended || key === this.sentStatus) return;
    if (this.res.writableLength > this.opts.maxBufferedBytes) return this.drop();
    this.sentStatus = key;
    const line: StatusLine = { status: st };
    this.res.write(`${JSON.stringify(line)}\n`);
  }

  private event(e: ApiEvent): void {
    if (this.ended) return;
    if (this.res.writableLength > this.opts.maxBufferedBytes) {
      this.drop();
      return;
    }
    this.latest = e.seq;
    this.res.write(`${JSON.stringify(e)}\n`);
  }

  private heartbeat(): void {
    if (this.ended) return;
    if (this.res.writableLength > this.opts.maxBufferedBytes) {
      this.drop();
      return;
    }
    const line: HeartbeatLine = { heartbeat: new Date(this.clock.wallTime()).toISOString(), latest: this.latest };
    this.res.write(`${JSON.stringify(line)}\n`);
  }

  private drop(): void {
    const e = apiError(503, 'slow-reader', `this reader fell more than ${this.opts.maxBufferedBytes} bytes behind and was disconnected; ${this.resume()}`, { since: this.latest });
    this.endWith(errorBody(e), 'slow-reader');
  }

  /** Server shutdown: tell the reader, so it reconnects elsewhere or later. */
  shutdown(): void {
    const e = apiError(503, 'shutting-down', `the node is shutting down; ${this.resume()}`, { since: this.latest });
    this.endWith(errorBody(e), 'shutdown');
  }

  private resume(): string {
    return this.latest === null ? 'reconnect to follow new events' : `reconnect with ?since=${this.latest} to resume`;
  }

  private endWith(line: unknown, reason: 'slow-reader' | 'shutdown'): void {
    if (this.ended) return;
    this.res.end(`${JSON.stringify(line)}\n`);
    this.finish(reason);
    // A reader that does not even read the final line is cut off, freeing its buffers.
    const res = this.res;
    this.clock.setTimer(this.opts.lingerMs, () => {
      if (!res.writableFinished) res.destroy();
    });
  }

  private finish(reason: 'closed' | 'slow-reader' | 'shutdown'): void {
    if (this.ended) return;
    this.ended = true;
    this.timer?.cancel();
    this.statusTimer?.cancel();
    this.cancel();
    this.unwatch();
    this.onEnd(reason);
  }
}
