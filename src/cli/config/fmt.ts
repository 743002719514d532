import { Command } from 'commander';
import { type CliIo, readText } from './io.js';
import { EXIT_TROUBLE } from './load.js';
import { parseDocument, printDocument } from '../../model/index.js';

export interface FmtOptions {
  /** Rewrite the file in place instead of printing. */
  readonly write?: boolean;
  /** Print nothing; exit 1 when the file is not in canonical form. */
  readonly check?: boolean;
}

/**
 * `amfctl config fmt FILE`: the canonical layout (tabs, `key = value`, comments kept) on stdout,
 * or in place with --write. Only the syntax must be valid; `validate` checks the meaning.
 */
export async function formatFile(file: string, options: FmtOptions, io: CliIo): Promise<number> {
  const text = await readText(file, io);
  if (text === undefined) return EXIT_TROUBLE;
  const doc = parseDocument(text, file);
  if (!doc.ok) {
    for (const e of doc.error) io.stderr(`${e.toString()}\n`);
    return 1;
  }
  const canonical = printDocument(doc.value);
  if (options.check) {
    if (canonical === text) return 0;
    io.stderr(`${file}: not in canonical form (run amfctl config fmt --write ${file})\n`);
    return 1;
  }
  if (!options.write) {
    io.stdout(canonical);
    return 0;
  }
  if (canonical !== text) {
    try {
      await io.writeFile(file, canonical);
    } catch (e) {
      io.stderr(`amfctl: cannot write ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
      return EXIT_TROUBLE;
    }
  }
  return 0;
}

export function fmtCommand(io: CliIo, done: (code: number) => void): Command {
  return new Command('fmt')
    .description('print a groups.conf in canonical form')
    .argument('<file>', 'groups.conf file')
    .option('-w, --write', 'rewrite the file in place')
    .option('--check', 'exit 1 if the file is not in canonical form')
    .action(async (file: string, options: FmtOptions) => done(await formatFile(file, options, io)));
}
