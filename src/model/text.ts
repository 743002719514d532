/**
 * The value syntax, in one place for the parser (where does a value end?), the schema (what
 * does it mean?) and the printer (how to write it back so it means the same).
 *
 * A value is the rest of the line after `=`. Double quotes group text that holds spaces or `#`;
 * inside them `\"`, `\\`, `\n`, `\t` and `\r` are escapes. A `#` outside quotes starts a comment only
 * when whitespace comes before it, so `url = http://h/#x` keeps its `#`.
 */

export interface ValueScan {
  /** The value as written, trailing whitespace removed. */
  readonly raw: string;
  /** Text after the comment's `#`, if the line has one. */
  readonly comment?: string;
  /** Offset (in `text`) of a quote that is never closed. */
  readonly unterminatedQuoteAt?: number;
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** Trims spaces and tabs only: other characters are content. */
export const trimBlanks = (s: string): string => s.replace(/^[ \t]+|[ \t]+$/g, '');

/** Splits `text` (what follows `=`, leading whitespace included) into value and trailing comment. */
export function scanValue(text: string): ValueScan {
  let inQuote = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inQuote >= 0) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = -1;
    } else if (c === '"') {
      inQuote = i;
    } else if (c === '#' && (i === 0 || isSpace(text[i - 1]))) {
      return { raw: trimBlanks(text.slice(0, i)), comment: text.slice(i + 1).replace(/[ \t]+$/, '') };
    }
  }
  if (inQuote >= 0) return { raw: trimBlanks(text), unterminatedQuoteAt: inQuote };
  return { raw: trimBlanks(text) };
}

const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };

/** Whitespace-separated words; quotes group and are removed (shell-like). */
export function splitWords(raw: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let inQuote = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (inQuote) {
      if (c === '\\' && i + 1 < raw.length) {
        const next = raw[++i] as string;
        cur += ESCAPES[next] ?? `\\${next}`;
      } else if (c === '"') inQuote = false;
      else cur += c;
    } else if (isSpace(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === '"') inQuote = true;
      else cur += c;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * The string a scalar value stands for: the unquoted content when the whole value is one quoted
 * string, otherwise the text as written (so `name = my service` is `my service`, as in openais).
 */
export function scalarText(raw: string): string {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) {
    const words = splitWords(raw);
    if (words.length === 1 && quotedSpan(raw) === raw.length) return words[0] as string;
  }
  return raw;
}

/** Length of the quoted string that starts `raw` (0 if it is not closed). */
function quotedSpan(raw: string): number {
  for (let i = 1; i < raw.length; i++) {
    if (raw[i] === '\\') i++;
    else if (raw[i] === '"') return i + 1;
  }
  return 0;
}

// Bare text has no quotes, braces, backslashes or control characters, and no `#` that could
// start a comment; a scalar may hold single spaces and tabs between words.
const BARE_WORD = /^[^\s\p{Cc}"#{}\\]+$/u;
const BARE_SCALAR = /^[^\s\p{Cc}"#{}\\](?:(?:[^\p{Cc}"{}\\]|\t)*[^\s\p{Cc}"{}\\])?$/u;

/** Writes `s` so that `splitWords` returns it as a single word. */
export function quoteWord(s: string): string {
  return BARE_WORD.test(s) ? s : quote(s);
}

/** Writes `s` so that `scalarText` returns it unchanged. */
export function quoteScalar(s: string): string {
  return BARE_SCALAR.test(s) && !/\s#/.test(s) ? s : quote(s);
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r')}"`;
}
