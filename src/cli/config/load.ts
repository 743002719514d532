import { type CliIo, readText } from './io.js';
import { loadConfig, type AmfModel } from '../../model/index.js';

/** Exit status of a command that could not read or understand its input. */
export const EXIT_TROUBLE = 2;

/**
 * Reads and validates one groups.conf. On failure every error is printed on stderr, one
 * `file:line:col: message` per line, and the outcome says whether the file was unreadable.
 */
export async function loadFile(path: string, io: CliIo): Promise<{ model: AmfModel } | { failure: 'unreadable' | 'invalid' }> {
  const text = await readText(path, io);
  if (text === undefined) return { failure: 'unreadable' };
  const result = loadConfig(text, path);
  if (result.ok) return { model: result.value };
  for (const e of result.error) io.stderr(`${e.toString()}\n`);
  return { failure: 'invalid' };
}
