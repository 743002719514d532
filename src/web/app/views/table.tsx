/** The pieces every table of the console shares: the scrolling box, headers, state cells, the action button. */
import type { ComponentChildren } from 'preact';
import { KIND_NAMES, type Act, type Target } from './actions.js';
import { State } from './badge.js';

/** A table in its own sideways-scrolling box; a last, unnamed-on-screen column when it has actions. */
export function Table({ name, caption, columns, actions, children }: { readonly name: string; readonly caption?: string; readonly columns: readonly ComponentChildren[]; readonly actions?: boolean; readonly children: ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table class={name}>
        {caption ? <caption>{caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c, i) => (
              <th key={i} scope="col">
                {c}
              </th>
            ))}
            {actions ? (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function StateCell({ value }: { readonly value: string }) {
  return (
    <td>
      <State value={value} />
    </td>
  );
}

export function ActButton({ target, act }: { readonly target: Target; readonly act: Act }) {
  return (
    <button type="button" onClick={() => act(target)} aria-label={`Actions on ${KIND_NAMES[target.kind]} ${target.name}`}>
      Act…
    </button>
  );
}

export function ActCell({ target, act }: { readonly target: Target; readonly act: Act }) {
  return (
    <td>
      <ActButton target={target} act={act} />
    </td>
  );
}
