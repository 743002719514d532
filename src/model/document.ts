/**
 * The syntax tree of a groups.conf: what the text says, before any meaning is given to it.
 * It keeps comments and single blank lines so that `amfctl config fmt` can rewrite a file
 * without losing what the operator wrote.
 */
import type { SourceLoc } from './loc.js';

/** A `#` comment on its own line; `text` is everything after the `#`, verbatim. */
export interface CommentNode {
  readonly kind: 'comment';
  readonly text: string;
  readonly loc: SourceLoc;
}

/** One or more blank lines between two items (printed as one). */
export interface BlankNode {
  readonly kind: 'blank';
}

/** `key = value`; `raw` is the value as written (quotes included), without a trailing comment. */
export interface EntryNode {
  readonly kind: 'entry';
  readonly key: string;
  readonly raw: string;
  readonly loc: SourceLoc;
  readonly valueLoc: SourceLoc;
  /** A comment at the end of the line, after the `#`. */
  readonly trailing?: string;
}

/** `name {` … `}`. */
export interface BlockNode {
  readonly kind: 'block';
  readonly name: string;
  readonly items: readonly DocItem[];
  readonly loc: SourceLoc;
  readonly trailing?: string;
  readonly closeTrailing?: string;
}

export type DocItem = CommentNode | BlankNode | EntryNode | BlockNode;

export interface ConfigDocument {
  readonly file: string;
  readonly items: readonly DocItem[];
}
