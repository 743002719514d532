/**
 * What a command needs from the outside world. Commands are `(args, io) → exit code` so that tests
 * call them with an in-memory io instead of spawning amfctl.
 */
import { readFile, writeFile } from 'node:fs/promises';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => Promise<string>;
  readonly writeFile: (path: string, text: string) => Promise<void>;
}

/** The real io of the amfctl process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readFile: (path) => readFile(path, 'utf8'),
    writeFile: (path, text) => writeFile(path, text, 'utf8'),
  };
}

/** Reads a file, reporting failure on stderr as `amfctl: cannot read …`. */
export async function readText(path: string, io: CliIo): Promise<string | undefined> {
  try {
    return await io.readFile(path);
  } catch (e) {
    io.stderr(`amfctl: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}\n`);
    return undefined;
  }
}
