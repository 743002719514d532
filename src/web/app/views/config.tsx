/** The running configuration with its epoch and the semantic diff of its last change. */
import type { ConfigView } from '../../../api/backend.js';
import { clock } from '../format.js';

export function Config({ config }: { readonly config: ConfigView }) {
  const last = config.lastChange;
  return (
    <section aria-labelledby="config-h">
      <h2 id="config-h">
        Configuration <small>epoch {config.epoch}</small>
      </h2>
      <h3>Last change</h3>
      {last === null ? (
        <p class="quiet">{config.epoch <= 1 ? 'The first configuration: nothing changed since.' : `Epoch ${config.epoch}'s change is older than the node's event history.`}</p>
      ) : (
        <>
          <p>
            Epoch {last.epoch - 1} → {last.epoch} at {clock(last.time)} (event {last.seq}): {last.changes.length} change{last.changes.length === 1 ? '' : 's'}
          </p>
          <ul class="diff">
            {last.changes.map((c) => {
              const path = c.entity.slice('config/'.length);
              const sign = c.kind === 'create' ? '+' : c.kind === 'delete' ? '-' : '~';
              return (
                <li key={c.seq} class={`diff-${c.kind}`}>
                  <code>
                    {sign} {path}
                    {c.kind === 'modify' ? ` ${c.field}: ${JSON.stringify(c.old)} → ${JSON.stringify(c.new)}` : ` (${c.kind === 'create' ? 'added' : 'removed'})`}
                  </code>
                </li>
              );
            })}
          </ul>
        </>
      )}
      <h3>groups.conf</h3>
      <pre class="config-text" tabIndex={0} aria-label="the running groups.conf">
        {config.text}
      </pre>
    </section>
  );
}
