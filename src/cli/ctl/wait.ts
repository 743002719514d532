/**
 * `amfctl admin` waits until its operation has taken effect, like vmadm waiting on vminfod: it
 * polls GET /v1/admin/…/<op> (done, pending with what it waits for, failed with the reason) and
 * prints the events of the SUs, SIs and components that moved meanwhile.
 */
import type { ApiClient, ClientError } from './client.js';
import type { CtlIo } from './io.js';
import { type ApiEvent, formatEvent } from '../../api/events.js';
import type { AdminProgress } from '../../amf/progress.js';
import type { Result } from '../../util/result.js';

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly pollMs: number;
  /** Print each event as it comes (false for --json: they go in the final object). */
  readonly printEvents: boolean;
}

export interface WaitResult {
  /** done / failed as the node said; timeout when still pending at the deadline. */
  readonly state: 'done' | 'failed' | 'timeout';
  readonly reason?: string;
  readonly waiting?: readonly string[];
  /** What moved meanwhile: the events of SUs, SIs and components. */
  readonly events: readonly ApiEvent[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Events that show something moving (assignments, presence, readiness, admin states). */
function moved(e: ApiEvent): boolean {
  return e.entity.startsWith('su/') || e.entity.startsWith('si/') || e.entity.startsWith('comp/') || e.entity.startsWith('node/') || e.entity.startsWith('sg/');
}

/** Reads the events kept after `since` (the stream without follow ends after them). */
async function eventsAfter(client: ApiClient, since: number): Promise<Result<ApiEvent[], ClientError>> {
  const out: ApiEvent[] = [];
  const r = await client.stream(`/v1/events?since=${since}&follow=0`, (line) => {
    if (typeof line['seq'] === 'number') out.push(line as unknown as ApiEvent);
  });
  return r.ok ? { ok: true, value: out } : r;
}

export async function waitForAdmin(client: ApiClient, progressPath: string, since: number, opts: WaitOptions, io: CtlIo): Promise<Result<WaitResult, ClientError>> {
  const deadline = Date.now() + opts.timeoutMs;
  const events: ApiEvent[] = [];
  let seq = since;
  for (;;) {
    const ev = await eventsAfter(client, seq);
    // Events that aged out of the ring are only progress lines: the state decides.
    if (ev.ok) {
      for (const e of ev.value) {
        seq = Math.max(seq, e.seq);
        if (!moved(e)) continue;
        events.push(e);
        if (opts.printEvents) io.stdout(`  ${formatEvent(e)}\n`);
      }
    }
    const p = await client.get<AdminProgress>(progressPath);
    if (!p.ok) return p;
    const progress = p.value.body;
    if (progress.state === 'done') return { ok: true, value: { state: 'done', events } };
    if (progress.state === 'failed') return { ok: true, value: { state: 'failed', reason: progress.reason, events } };
    if (Date.now() >= deadline) return { ok: true, value: { state: 'timeout', waiting: progress.waiting, events } };
    await sleep(opts.pollMs);
  }
}
