/** `amfctl events`: the event stream, printed like vminfod or as JSON lines. */
import { Command, InvalidArgumentError } from 'commander';
import { type ApiClient, type ConnectionOptions, fail, withClient, withConnection } from './client.js';
import { EXIT } from './exit.js';
import { asCtlIo, type CtlIo } from './io.js';
import { type ApiEvent, formatEvent } from '../../api/events.js';
import type { CliIo } from '../config/io.js';

export interface EventsOptions {
  /** Print events after this seq (null: only new ones). */
  readonly since: number | null;
  readonly json: boolean;
  /** Keep following (default) or stop after the events the node still keeps. */
  readonly follow: boolean;
}

/**
 * Prints events until the stream ends (without follow) or `signal` aborts. A reader dropped for
 * being slow resumes from its last seq, so nothing is lost or printed twice.
 */
export async function printEvents(client: ApiClient, opts: EventsOptions, io: CtlIo, signal?: AbortSignal): Promise<number> {
  let since = opts.since;
  for (;;) {
    let problem: { code: string; message: string } | null = null;
    const query = `${since === null ? '' : `since=${since}&`}follow=${opts.follow ? 1 : 0}`;
    const r = await client.stream(
      `/v1/events?${query}`,
      (line) => {
        if (typeof line['seq'] === 'number') {
          const e = line as unknown as ApiEvent;
          since = e.seq;
          io.stdout(opts.json ? `${JSON.stringify(e)}\n` : `${formatEvent(e)}\n`);
        } else if (typeof line['error'] === 'object' && line['error'] !== null) {
          problem = line['error'] as { code: string; message: string };
        }
      },
      signal,
    );
    if (!r.ok) return fail(r.error, io);
    if (signal?.aborted) return EXIT.ok;
    const p = problem as { code: string; message: string } | null;
    if (p === null) {
      if (!opts.follow) return EXIT.ok;
      io.stderr(`amfctl: the node closed the event stream; re-run with --since ${since ?? 0} to resume\n`);
      return EXIT.unreachable;
    }
    if (p.code === 'slow-reader') {
      io.stderr(`amfctl: fell behind the event stream; resuming after event ${since ?? 0}\n`);
      continue;
    }
    io.stderr(`amfctl: ${p.message}${since === null ? '' : ` (last event printed: ${since}; re-run with --since ${since})`}\n`);
    return EXIT.unreachable;
  }
}

function seq(v: string): number {
  if (!/^\d{1,15}$/.test(v)) throw new InvalidArgumentError('a non-negative event number');
  return Number(v);
}

export function eventsCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('events'))
    .description('follow every change in the cluster: [time] entity kind: field changed :: old -> new')
    .option('--since <seq>', 'start after this event (resume where you left off)', seq)
    .option('--json', 'print each event as a JSON line')
    .option('--no-follow', 'print the events the node still keeps, then exit')
    .action(async (o: ConnectionOptions & { since?: number; json?: boolean; follow: boolean }) =>
      done(await withClient(o, io, (c) => printEvents(c, { since: o.since ?? null, json: o.json === true, follow: o.follow }, io))),
    );
}
