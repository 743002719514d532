/**
 * One logged-in console: reads the views once, then follows `/v1/events?status=1` and moves the
 * state by each line; no polling. A broken stream is followed again from the last event seen
 * (`since`), after a pause that grows to 4 s; a resume the node can no longer serve (410) reads
 * the views again. An event the state cannot apply exactly asks for a re-read of one SG or of
 * everything, coalesced. A refused token ends the session (back to the login).
 */
import type { ApiEvent } from '../../api/events.js';
import type { ConfigView, GroupView, NodeView, StatusView } from '../../api/backend.js';
import type { ApiClient, Problem, StreamLine } from './client.js';
import type { Platform } from '../../runtime/browser/platform.js';
import { type ConsoleState, type Reread, type Snapshot, applyEvent, applyToViews, initialState, withGroup, withSnapshot, withStatus } from './state.js';
import { type Result, err, ok } from '../../util/result.js';

export type Connection =
  | { readonly kind: 'loading' }
  | { readonly kind: 'live' }
  | { readonly kind: 'reconnecting'; readonly reason: string; readonly attempt: number }
  | { readonly kind: 'refused'; readonly message: string };

export interface SessionOptions {
  /** Events before the current ones to fill the event log with at start. Default 200. */
  readonly backlog?: number;
  /** A stream silent this long is taken for dead (the node sends heartbeats every 15 s). Default 40 s. */
  readonly silenceMs?: number;
}

const REREAD_COALESCE_MS = 30;
const backoff = (attempt: number): number => Math.min(4000, 250 * 2 ** Math.min(attempt, 4));

export async function loadSnapshot(client: ApiClient): Promise<Result<Snapshot, Problem>> {
  // The status first: its lastEventSeq is at or before what the views show.
  const status = await client.get<StatusView>('/status');
  if (!status.ok) return status;
  const [nodes, groups, config] = await Promise.all([client.get<{ nodes: NodeView[] }>('/v1/nodes'), client.get<{ groups: GroupView[] }>('/v1/groups'), client.get<ConfigView>('/v1/config')]);
  if (!nodes.ok) return nodes;
  if (!groups.ok) return groups;
  if (!config.ok) return config;
  return ok({ status: status.value, nodes: nodes.value.nodes, groups: groups.value.groups, config: config.value });
}

export class Session {
  state: ConsoleState | null = null;
  connection: Connection = { kind: 'loading' };
  private readonly listeners = new Set<() => void>();
  private abort: AbortController | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private pending: Set<string> | 'all' | null = null;
  private cancelReread: (() => void) | null = null;
  /** Events that arrived while a re-read was on its way: applied again over its answer. */
  private sinceReread: ApiEvent[] | null = null;
  /** The last event the stream delivered: where a new stream resumes. */
  private lastSeen = 0;
  private readonly backlog: number;
  private readonly silenceMs: number;

  constructor(
    readonly client: ApiClient,
    private readonly platform: Platform,
    opts: SessionOptions = {},
  ) {
    this.backlog = opts.backlog ?? 200;
    this.silenceMs = opts.silenceMs ?? 40_000;
  }

  /** Called after every change of state or connection; returns the unsubscribe. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
    this.cancelReread?.();
    this.wake?.();
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  private setConnection(c: Connection): void {
    this.connection = c;
    this.changed();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.platform.after(ms, () => {
        this.wake = null;
        resolve();
      });
      this.wake = () => {
        cancel();
        this.wake = null;
        resolve();
      };
    });
  }

  /** A refused token ends the session; anything else is retried. */
  private failed(p: Problem, attempt: number): boolean {
    if (p.status === 401) {
      this.stopped = true;
      this.setConnection({ kind: 'refused', message: p.message });
      return true;
    }
    this.setConnection({ kind: 'reconnecting', reason: p.message, attempt });
    return false;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    /** The next stream starts after this event; null: read the views first. */
    let since: number | null = null;
    /** Events up to here are history for the log (the views were read after them). */
    let viewsFrom = 0;
    while (!this.stopped) {
      if (since === null) {
        const snap = await loadSnapshot(this.client);
        if (this.stopped) return;
        if (!snap.ok) {
          if (this.failed(snap.error, ++attempt)) return;
          await this.sleep(backoff(attempt));
          continue;
        }
        this.state = this.state ? withSnapshot({ ...this.state, seq: snap.value.status.lastEventSeq }, snap.value) : initialState(snap.value);
        viewsFrom = snap.value.status.lastEventSeq;
        since = Math.max(0, viewsFrom - (attempt === 0 && this.state.log.length === 0 ? this.backlog : 0));
        this.changed();
      }
      this.lastSeen = since;
      const r = await this.follow(since, viewsFrom, () => (attempt = 0));
      if (this.stopped) return;
      since = this.lastSeen;
      if (!r.ok && r.error.code === 'events-gone') {
        // The node no longer keeps the events after `since`. If they all predate the views, only
        // the log misses them: go on from the oldest kept. Otherwise read the views again.
        const oldest = (r.error.details as { oldest?: unknown } | null)?.oldest;
        since = typeof oldest === 'number' && oldest - 1 <= viewsFrom ? oldest - 1 : null;
        continue;
      }
      if (!r.ok) {
        if (this.failed(r.error, ++attempt)) return;
      } else {
        this.setConnection({ kind: 'reconnecting', reason: r.value ?? 'the node closed the event stream', attempt: ++attempt });
      }
      await this.sleep(backoff(attempt));
    }
  }

  /** One stream: until it ends (ok, with the reason the node gave, if any) or fails. */
  private async follow(since: number, viewsFrom: number, onLive: () => void): Promise<Result<string | null, Problem>> {
    const abort = new AbortController();
    this.abort = abort;
    let reason: string | null = null;
    let cancelSilence = (): void => {};
    const watch = (): void => {
      cancelSilence();
      cancelSilence = this.platform.after(this.silenceMs, () => {
        reason = `no event or heartbeat for ${this.silenceMs / 1000} s`;
        abort.abort();
      });
    };
    watch();
    let live = false;
    const r = await this.client.stream(
      `/v1/events?since=${since}&status=1`,
      (line: StreamLine) => {
        watch();
        if (!live) {
          live = true;
          onLive();
          this.setConnection({ kind: 'live' });
        }
        if (typeof line['seq'] === 'number') this.onEvent(line as unknown as ApiEvent, viewsFrom);
        else if (typeof line['status'] === 'object' && line['status'] !== null && this.state) {
          this.state = withStatus(this.state, line['status'] as StatusView);
          this.changed();
        } else if (typeof line['error'] === 'object' && line['error'] !== null) {
          reason = String((line['error'] as { message?: unknown }).message ?? 'the node ended the stream');
        }
      },
      abort.signal,
    );
    cancelSilence();
    this.abort = null;
    return r.ok ? ok(reason) : err(r.error);
  }

  private onEvent(e: ApiEvent, viewsFrom: number): void {
    if (!this.state || e.seq <= this.lastSeen) return;
    this.lastSeen = e.seq;
    const r = applyEvent(this.state, e, viewsFrom);
    this.state = r.state;
    this.sinceReread?.push(e);
    this.reread(r.reread);
    this.changed();
  }

  private reread(what: Reread): void {
    if (what === null) return;
    if (what === 'all') this.pending = 'all';
    else if (this.pending !== 'all') {
      const sgs = this.pending ?? new Set<string>();
      sgs.add(what.sg);
      this.pending = sgs;
    }
    this.cancelReread ??= this.platform.after(REREAD_COALESCE_MS, () => void this.doReread());
  }

  private async doReread(): Promise<void> {
    const what = this.pending;
    this.pending = null;
    this.sinceReread = [];
    const read: Array<(s: ConsoleState) => ConsoleState> = [];
    if (what === 'all') {
      const snap = await loadSnapshot(this.client);
      if (snap.ok) read.push((s) => withSnapshot(s, snap.value));
    } else if (what !== null) {
      for (const sg of what) {
        const g = await this.client.get<GroupView>(`/v1/groups/${encodeURIComponent(sg)}`);
        if (g.ok) read.push((s) => withGroup(s, g.value));
      }
    }
    const again = this.sinceReread;
    this.sinceReread = null;
    this.cancelReread = null;
    if (this.stopped || !this.state) return;
    let s = read.reduce((st, f) => f(st), this.state);
    for (const e of again) s = applyToViews(s, e).state;
    this.state = s;
    this.changed();
    if (this.pending !== null) this.cancelReread = this.platform.after(REREAD_COALESCE_MS, () => void this.doReread());
  }
}
