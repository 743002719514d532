/**
 * What the commands that talk to amfd need from the outside world beyond CliIo: the environment,
 * the editor, temporary files and a yes/no prompt. Tests hand in their own.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { type CliIo, processIo } from '../config/io.js';

export interface CtlIo extends CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether a person can answer prompts (stdin is a terminal). */
  readonly interactive: boolean;
  /** Asks a yes/no question; false unless the answer is yes. */
  confirm(question: string): Promise<boolean>;
  /** Runs `$VISUAL`/`$EDITOR` (through the shell, so `code -w` works) on a file; its exit status. */
  edit(path: string): Promise<number>;
  /** Creates a private temporary file holding `text`; returns its path and a remover. */
  tempFile(name: string, text: string): Promise<{ path: string; remove: () => void }>;
}

function editorOf(env: CtlIo['env']): string {
  return env['VISUAL'] || env['EDITOR'] || 'vi';
}

/** The real io of the amfctl process. */
export function processCtlIo(base: CliIo = processIo(), env: CtlIo['env'] = process.env): CtlIo {
  return {
    ...base,
    env,
    interactive: process.stdin.isTTY === true,
    confirm: async (question) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
    edit: async (path) => {
      const r = spawnSync('/bin/sh', ['-c', `${editorOf(env)} "$1"`, 'sh', path], { stdio: 'inherit', env: { ...env } });
      return r.status ?? 1;
    },
    tempFile: async (name, text) => {
      const dir = mkdtempSync(join(tmpdir(), 'amfctl-'));
      const path = join(dir, name);
      const remove = (): void => rmSync(dir, { recursive: true, force: true });
      try {
        writeFileSync(path, text, { encoding: 'utf8', mode: 0o600 });
      } catch (e) {
        remove(); // a full disk must not leave an empty temp dir behind
        throw e;
      }
      return { path, remove };
    },
  };
}

/** The CtlIo a command factory was given, or the process's around a plain CliIo. */
export function asCtlIo(io: CliIo): CtlIo {
  return 'env' in io ? (io as CtlIo) : processCtlIo(io);
}
