/** Where a value came from, for error messages (`file:line:col`). */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}
