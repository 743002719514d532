import type { SourceLoc } from './loc.js';

/** A located problem in a groups.conf: bad input, never a bug. Printed as `file:line:col: message`. */
export class ConfigError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly message: string,
  ) {}

  static at(loc: SourceLoc, message: string): ConfigError {
    return new ConfigError(loc.file, loc.line, loc.col, message);
  }

  toString(): string {
    return `${this.file}:${this.line}:${this.col}: ${this.message}`;
  }
}

/** Errors in reading order, so a user fixes them top to bottom. */
export function sortErrors(errors: readonly ConfigError[]): ConfigError[] {
  return [...errors].sort((a, b) => a.line - b.line || a.col - b.col);
}
