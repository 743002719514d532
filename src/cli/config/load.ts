import { type CliIo, readText } from './io.js';
import { loadConfig, type AmfModel, type ConfigError } from '../../model/index.js';

/** Exit status of a command that could not read or understand its input. */
export const EXIT_TROUBLE = 2;

/**
 * Reads and validates one groups.conf. On failure every error is printed on stderr, one
 * `file:line:col: message` per line, and the outcome says whether the file was unreadable.
 */
export async function loadFile(path: string, io: CliIo): Promise<{ model: AmfModel } | { failure: 'unreadable' | 'invalid' }> {
  const text = await readText(path, io);
  if (text === undefined) return { failure: 'unreadable' };
  const warnings: ConfigError[] = [];
  const result = loadConfig(text, path, warnings);
  if (result.ok) {
    printWarnings(warnings, io);
    return { model: result.value };
  }
  for (const e of result.error) io.stderr(`${e.toString()}\n`);
  return { failure: 'invalid' };
}

/** Warnings go to stderr as `file:line:col: warning: message`; they never make a file invalid. */
export function printWarnings(warnings: readonly ConfigError[], io: CliIo): void {
  for (const w of warnings) io.stderr(`${w.file}:${w.line}:${w.col}: warning: ${w.message}\n`);
}
