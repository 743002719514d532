/** The event log like `amfctl events`, newest first, filtered by text and kind; a bounded window. */
import { useState } from 'preact/hooks';
import { formatEvent, type ApiEvent } from '../../../api/events.js';
import { LOG_WINDOW } from '../state.js';

const KINDS = ['all', 'create', 'modify', 'delete', 'escalation', 'admin', 'membership'] as const;
/** Lines drawn at most; the rest of the window is behind the filter. */
const SHOWN = 300;

export function Events({ log }: { readonly log: readonly ApiEvent[] }) {
  const [text, setText] = useState('');
  const [kind, setKind] = useState<(typeof KINDS)[number]>('all');
  const needle = text.trim().toLowerCase();
  const matching: ApiEvent[] = [];
  for (let i = log.length - 1; i >= 0 && matching.length < SHOWN; i--) {
    const e = log[i]!;
    if (kind !== 'all' && e.kind !== kind) continue;
    if (needle !== '' && !formatEvent(e).toLowerCase().includes(needle)) continue;
    matching.push(e);
  }
  return (
    <section aria-labelledby="events-h">
      <h2 id="events-h">
        Events <small>the last {log.length} (at most {LOG_WINDOW} kept here)</small>
      </h2>
      <form class="filters" role="search" onSubmit={(ev) => ev.preventDefault()}>
        <label>
          Filter <input type="search" value={text} onInput={(ev) => setText((ev.target as HTMLInputElement).value)} placeholder="SU_1, readiness, n2…" />
        </label>
        <label>
          Kind{' '}
          <select value={kind} onChange={(ev) => setKind((ev.target as HTMLSelectElement).value as (typeof KINDS)[number])}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
      </form>
      <p class="quiet" aria-live="polite">
        {matching.length === 0 ? 'No event matches.' : `${matching.length}${matching.length === SHOWN ? '+' : ''} shown, newest first.`}
      </p>
      <ol class="log" reversed>
        {matching.map((e) => (
          <li key={e.seq} data-seq={e.seq} class={`kind-${e.kind}`}>
            <code>{formatEvent(e)}</code>
          </li>
        ))}
      </ol>
    </section>
  );
}
