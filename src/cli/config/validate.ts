import { Command } from 'commander';
import type { CliIo } from './io.js';
import { EXIT_TROUBLE, loadFile, printWarnings } from './load.js';
import { planWarnings } from '../../amf/plan.js';

/**
 * `amfctl config validate FILE...`: 0 when every file is valid, 1 when one is not (all errors
 * printed). Warnings (keys ignored, SIs the configuration cannot assign) leave a file valid.
 */
export async function validateFiles(files: readonly string[], io: CliIo): Promise<number> {
  let status = 0;
  for (const file of files) {
    const r = await loadFile(file, io);
    if ('failure' in r) {
      status = Math.max(status, r.failure === 'unreadable' ? EXIT_TROUBLE : 1);
      continue;
    }
    printWarnings(planWarnings(r.model), io);
    const g = r.model.groups;
    const units = g.reduce((n, x) => n + x.units.length, 0);
    const sis = g.reduce((n, x) => n + x.sis.length, 0);
    io.stdout(`${file}: valid (${g.length} groups, ${units} units, ${sis} service instances, ${r.model.nodes.length} nodes)\n`);
  }
  return status;
}

export function validateCommand(io: CliIo, done: (code: number) => void): Command {
  return new Command('validate')
    .description('check groups.conf files; print every error as file:line:col: message')
    .argument('<files...>', 'groups.conf files')
    .action(async (files: string[]) => done(await validateFiles(files, io)));
}
