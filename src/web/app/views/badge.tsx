/** A state shown as a word with its tone (a class, plus a symbol in the text for the bad ones). */
import type { Label } from '../format.js';
import { stateLabel } from '../format.js';

export function Badge({ label }: { readonly label: Label }) {
  return <span class={`badge ${label.tone}`}>{label.text}</span>;
}

export function State({ value }: { readonly value: string }) {
  return <Badge label={stateLabel(value)} />;
}
