import { Command } from 'commander';
import type { CliIo } from './io.js';
import { EXIT_TROUBLE, loadFile } from './load.js';
import { diffModels, formatChange } from '../../model/index.js';

/**
 * `amfctl config diff OLD NEW`: one line per change (`SU_2 modify: node changed :: "n1" -> "n3"`).
 * Exit status as diff(1): 0 no change, 1 changes, 2 a file is unreadable or invalid.
 */
export async function diffFiles(oldFile: string, newFile: string, io: CliIo, json = false): Promise<number> {
  const before = await loadFile(oldFile, io);
  const after = await loadFile(newFile, io);
  if ('failure' in before || 'failure' in after) return EXIT_TROUBLE;
  const changes = diffModels(before.model, after.model);
  if (json) io.stdout(`${JSON.stringify({ changes })}\n`);
  else if (changes.length === 0) io.stdout(`no changes: ${oldFile} and ${newFile} describe the same configuration\n`);
  else for (const c of changes) io.stdout(`${formatChange(c)}\n`);
  return changes.length === 0 ? 0 : 1;
}

export function diffCommand(io: CliIo, done: (code: number) => void): Command {
  return new Command('diff')
    .description('show what changes between two groups.conf files')
    .argument('<old>', 'current groups.conf')
    .argument('<new>', 'proposed groups.conf')
    .option('--json', 'print {"changes": [...]} (each change: op add|remove|modify, entity, attribute, old, new)')
    .action(async (oldFile: string, newFile: string, o: { json?: boolean }) => done(await diffFiles(oldFile, newFile, io, o.json === true)));
}
