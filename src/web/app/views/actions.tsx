/**
 * Admin operations with a confirmation: choosing an operation first asks the node what it would
 * do (`?dry_run=1`: the moves of SIs, the SUs that start or stop) or why it would be refused;
 * only then can it be sent. A refusal of the real operation (the engine's, or a guest's vote
 * against it) is shown as the node words it.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AdminKind, AdminOp } from '../../../model/vocabulary.js';
import type { ConfigChangePlan, PlacedHa } from '../../../api/plan.js';
import type { ApiClient } from '../client.js';

export interface Target {
  readonly kind: AdminKind;
  readonly name: string;
}

export type Act = (t: Target) => void;

/** The operations the AMF defines for each kind (src/amf/admin.ts), most used first. */
export const OPS: Readonly<Record<AdminKind, readonly AdminOp[]>> = {
  node: ['lock', 'unlock', 'shutdown', 'switchover', 'repair', 'lock-instantiation', 'unlock-instantiation'],
  sg: ['lock', 'unlock', 'shutdown', 'lock-instantiation', 'unlock-instantiation'],
  su: ['lock', 'unlock', 'shutdown', 'restart', 'repair', 'lock-instantiation', 'unlock-instantiation'],
  si: ['si-swap', 'lock', 'unlock', 'shutdown'],
};

export const KIND_NAMES: Readonly<Record<AdminKind, string>> = { node: 'node', sg: 'SG', su: 'SU', si: 'SI' };

type Phase =
  | { readonly kind: 'choose' }
  | { readonly kind: 'planning'; readonly op: string }
  | { readonly kind: 'planned'; readonly op: string; readonly plan: ConfigChangePlan }
  | { readonly kind: 'refused'; readonly op: string; readonly message: string; readonly sent: boolean }
  | { readonly kind: 'sending'; readonly op: string; readonly plan: ConfigChangePlan }
  | { readonly kind: 'done'; readonly op: string };

const side = (x: readonly PlacedHa[]): string => (x.length === 0 ? 'unassigned' : x.map((p) => `${p.su} ${p.ha}`).join(', '));

function Plan({ plan }: { readonly plan: ConfigChangePlan }) {
  const none = plan.moves.length === 0 && plan.instantiate.length === 0 && plan.terminate.length === 0;
  if (none) return <p class="plan">No SU starts or stops and no assignment moves.</p>;
  return (
    <ul class="plan" aria-label="what the operation will do">
      {plan.instantiate.map((su) => (
        <li key={`+${su}`}>+ {su} starts</li>
      ))}
      {plan.terminate.map((su) => (
        <li key={`-${su}`}>− {su} stops</li>
      ))}
      {plan.moves.map((m) => (
        <li key={m.si} data-si={m.si}>
          ~ {m.si}: {side(m.from)} → {side(m.to)}
        </li>
      ))}
    </ul>
  );
}

export function ActionDialog({ target, client, onClose }: { readonly target: Target; readonly client: ApiClient; readonly onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [phase, setPhase] = useState<Phase>({ kind: 'choose' });
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const path = (op: string): string => `/v1/admin/${target.kind}/${encodeURIComponent(target.name)}/${op}`;
  const plan = async (op: string): Promise<void> => {
    setPhase({ kind: 'planning', op });
    const r = await client.post<{ plan: ConfigChangePlan }>(`${path(op)}?dry_run=1`);
    setPhase(r.ok ? { kind: 'planned', op, plan: r.value.plan } : { kind: 'refused', op, message: r.error.message, sent: false });
  };
  const send = async (op: string, p: ConfigChangePlan): Promise<void> => {
    setPhase({ kind: 'sending', op, plan: p });
    const r = await client.post<{ done: boolean }>(path(op));
    setPhase(r.ok ? { kind: 'done', op } : { kind: 'refused', op, message: r.error.message, sent: true });
  };
  const what = `${KIND_NAMES[target.kind]} ${target.name}`;
  const busy = phase.kind === 'planning' || phase.kind === 'sending';
  return (
    <dialog ref={ref} class="action" aria-labelledby="act-h" onClose={onClose} data-phase={phase.kind}>
      <h2 id="act-h">Act on {what}</h2>
      <fieldset disabled={busy}>
        <legend>Operation (the plan is shown before anything is sent)</legend>
        <div class="ops">
          {OPS[target.kind].map((op) => (
            <button key={op} type="button" data-op={op} aria-pressed={'op' in phase && phase.op === op} onClick={() => void plan(op)}>
              {op}
            </button>
          ))}
        </div>
      </fieldset>
      <div class="outcome" aria-live="polite">
        {phase.kind === 'choose' ? <p class="quiet">Choose an operation to see what it would do.</p> : null}
        {phase.kind === 'planning' ? <p>Asking amfd what {phase.op} would do…</p> : null}
        {phase.kind === 'planned' || phase.kind === 'sending' ? (
          <>
            <p>
              <strong>{phase.op}</strong> on {what} will:
            </p>
            <Plan plan={phase.plan} />
          </>
        ) : null}
        {phase.kind === 'refused' ? (
          <p role="alert" class="error">
            {phase.sent ? 'Refused by amfd: ' : 'amfd would refuse it: '}
            {phase.message}
          </p>
        ) : null}
        {phase.kind === 'done' ? <p class="done">✔ {phase.op} on {what} committed; the views follow as it takes effect.</p> : null}
      </div>
      <div class="buttons">
        {phase.kind === 'planned' ? (
          <button type="button" class="confirm" onClick={() => void send(phase.op, phase.plan)}>
            Confirm {phase.op} on {what}
          </button>
        ) : null}
        <button type="button" onClick={() => ref.current?.close()}>
          {phase.kind === 'done' ? 'Close' : 'Cancel'}
        </button>
      </div>
    </dialog>
  );
}
