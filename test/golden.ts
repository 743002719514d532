import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** Compare a transcript with its golden file; UPDATE_TRANSCRIPTS=1 (or a missing file) rewrites it. */
export function checkGolden(file: string, lines: readonly string[], what: string): void {
  const got = lines.join('\n') + '\n';
  if (process.env.UPDATE_TRANSCRIPTS === '1' || !existsSync(file)) {
    writeFileSync(file, got);
    return;
  }
  assert.equal(got, readFileSync(file, 'utf8'), `${what} differs (UPDATE_TRANSCRIPTS=1 to accept)`);
}
