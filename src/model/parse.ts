/**
 * Lexer and parser for the brace syntax: a superset of the openais B.01.01 line parser.
 *
 * One construct per line: `name {`, `}`, `key = value` (spaces around `=` optional), a comment
 * (`#` after optional whitespace) or a blank line. A comment may also end any line after
 * whitespace. CRLF and a missing final newline are accepted. Errors are collected, never thrown.
 */
import { ConfigError, sortErrors } from './errors.js';
import type { BlockNode, ConfigDocument, DocItem } from './document.js';
import { scanValue } from './text.js';
import type { SourceLoc } from './types.js';
import { err, ok, type Result } from '../util/result.js';

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*/;
/** The schema nests 5 deep; a bound keeps the recursive printer and checker safe from hostile input. */
export const MAX_DEPTH = 16;
// Control characters other than tab have no business in a config file (and hide in terminals).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

interface OpenBlock {
  readonly name: string;
  readonly loc: SourceLoc;
  readonly trailing?: string;
  readonly items: DocItem[];
}

export function parseDocument(text: string, file: string): Result<ConfigDocument, ConfigError[]> {
  const errors: ConfigError[] = [];
  const root: DocItem[] = [];
  const stack: OpenBlock[] = [];
  const items = (): DocItem[] => stack[stack.length - 1]?.items ?? root;
  const at = (line: number, col: number): SourceLoc => ({ file, line, col });
  // Blocks refused for depth still count, so that their "}" lines do not close outer blocks.
  let refused = 0;
  const openBlock = (block: OpenBlock): void => {
    if (stack.length < MAX_DEPTH) stack.push(block);
    else if (refused++ === 0) errors.push(ConfigError.at(block.loc, `blocks nested more than ${MAX_DEPTH} deep`));
  };

  // A byte-order mark is an editor artefact, not content.
  const lines = (text.startsWith('\uFEFF') ? text.slice(1) : text).split('\n');
  // A final newline ends the last line; it does not start an empty one.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();

  lines.forEach((rawLine, index) => {
    const lineNo = index + 1;
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const control = CONTROL.exec(line);
    if (control) {
      const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      errors.push(new ConfigError(file, lineNo, control.index + 1, `invalid control character U+${code}`));
      return;
    }
    const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
    const body = line.slice(indent);
    const col = indent + 1;

    if (body === '') {
      const list = items();
      if (list.length > 0 && list[list.length - 1]?.kind !== 'blank') list.push({ kind: 'blank' });
      return;
    }
    if (body.startsWith('#')) {
      items().push({ kind: 'comment', text: body.slice(1).replace(/[ \t]+$/, ''), loc: at(lineNo, col) });
      return;
    }
    if (body.startsWith('}')) {
      const rest = scanValue(body.slice(1));
      if (rest.raw !== '') {
        errors.push(new ConfigError(file, lineNo, col + 1, `unexpected text after "}": ${JSON.stringify(rest.raw)}`));
      }
      if (refused > 0) {
        refused--;
        return;
      }
      const open = stack.pop();
      if (!open) {
        errors.push(new ConfigError(file, lineNo, col, 'unexpected "}": no block is open'));
        return;
      }
      const block: BlockNode = {
        kind: 'block',
        name: open.name,
        items: trimBlankItems(open.items),
        loc: open.loc,
        ...(open.trailing !== undefined ? { trailing: open.trailing } : {}),
        ...(rest.comment !== undefined ? { closeTrailing: rest.comment } : {}),
      };
      items().push(block);
      return;
    }

    const key = KEY.exec(body)?.[0];
    if (key === undefined) {
      errors.push(new ConfigError(file, lineNo, col, `expected "key = value", "name {" or "}", found ${JSON.stringify(body.slice(0, 20))}`));
      return;
    }
    const afterKey = body.slice(key.length);
    const gap = /^[ \t]*/.exec(afterKey)?.[0].length ?? 0;
    const sep = afterKey[gap];
    const sepCol = col + key.length + gap;
    if (sep === '{') {
      const rest = scanValue(afterKey.slice(gap + 1));
      if (rest.raw !== '') {
        errors.push(new ConfigError(file, lineNo, sepCol + 1, `unexpected text after "${key} {": ${JSON.stringify(rest.raw)} (put each key on its own line)`));
        // `name { key = value }` on one line: report it once, without also leaving the block open.
        if (rest.raw.endsWith('}')) return;
      }
      openBlock({ name: key, loc: at(lineNo, col), items: [], ...(rest.comment !== undefined ? { trailing: rest.comment } : {}) });
      return;
    }
    if (sep !== '=') {
      const found = sep === undefined ? 'end of line' : JSON.stringify(afterKey.slice(gap, gap + 10));
      errors.push(new ConfigError(file, lineNo, sepCol, `expected "=" or "{" after "${key}", found ${found}`));
      return;
    }
    const valueText = afterKey.slice(gap + 1);
    const lead = /^[ \t]*/.exec(valueText)?.[0].length ?? 0;
    const valueCol = sepCol + 1 + lead;
    const scan = scanValue(valueText);
    if (scan.unterminatedQuoteAt !== undefined) {
      errors.push(new ConfigError(file, lineNo, sepCol + 1 + scan.unterminatedQuoteAt, `unterminated quoted value for "${key}"`));
      return;
    }
    if (scan.raw === '{') {
      // `unit = {`: a block was meant. Open it so the lines that follow keep their structure.
      errors.push(new ConfigError(file, lineNo, sepCol, `a block is opened with "${key} {", without "="`));
      openBlock({ name: key, loc: at(lineNo, col), items: [] });
      return;
    }
    items().push({
      kind: 'entry',
      key,
      raw: scan.raw,
      loc: at(lineNo, col),
      valueLoc: at(lineNo, valueCol),
      ...(scan.comment !== undefined ? { trailing: scan.comment } : {}),
    });
  });

  for (const open of stack) {
    errors.push(ConfigError.at(open.loc, `block "${open.name}" is not closed (missing "}")`));
  }
  if (errors.length > 0) return err(sortErrors(errors));
  return ok({ file, items: trimBlankItems(root) });
}

/** Blank lines at the start or end of a block carry no meaning for the printer. */
function trimBlankItems(items: DocItem[]): DocItem[] {
  let start = 0;
  let end = items.length;
  while (start < end && items[start]?.kind === 'blank') start++;
  while (end > start && items[end - 1]?.kind === 'blank') end--;
  return items.slice(start, end);
}
