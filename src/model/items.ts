/**
 * Building a block's items for the printer (print.ts) and for the config.ts of the modules that
 * own a block: `key = value` entries with defaults left out unless the print is explicit.
 */
import type { BlockNode, EntryNode } from './document.js';
import type { SourceLoc } from './loc.js';
import { quoteScalar, quoteWord } from './text.js';

export const NO_LOC: SourceLoc = { file: '<model>', line: 0, col: 0 };

type Entries = (EntryNode | BlockNode)[];

/** Collects a block's items; `set` leaves out a value equal to its default unless explicit. */
export class ItemList {
  readonly items: Entries = [];
  constructor(readonly explicit: boolean) {}

  set(key: string, value: string | number | boolean | undefined, byDefault?: string | number | boolean): this {
    if (value === undefined || (!this.explicit && value === byDefault)) return this;
    const raw = typeof value === 'string' ? quoteScalar(value) : String(value);
    this.items.push({ kind: 'entry', key, raw, loc: NO_LOC, valueLoc: NO_LOC });
    return this;
  }

  words(key: string, words: readonly string[]): this {
    if (words.length > 0) this.items.push({ kind: 'entry', key, raw: words.map(quoteWord).join(' '), loc: NO_LOC, valueLoc: NO_LOC });
    return this;
  }

  record(blockName: string, record: Readonly<Record<string, string>> | undefined, keepEmpty = false): this {
    if (record === undefined || (Object.keys(record).length === 0 && !keepEmpty)) return this;
    const inner = new ItemList(true);
    for (const [k, v] of Object.entries(record)) inner.set(k, v);
    return this.block(blockName, inner);
  }

  block(name: string, inner: ItemList): this {
    this.items.push({ kind: 'block', name, items: inner.items, loc: NO_LOC });
    return this;
  }

  /** An empty list of the same explicitness, for a nested block. */
  nested(): ItemList {
    return new ItemList(this.explicit);
  }
}
