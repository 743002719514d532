import { Command } from 'commander';
import { diffCommand } from './diff.js';
import { fmtCommand } from './fmt.js';
import { planCommand } from './plan.js';
import type { CliIo } from './io.js';
import { validateCommand } from './validate.js';
import { CONFIG_API_SUBCOMMANDS } from '../ctl/index.js';

export type { CliIo } from './io.js';

/** A subcommand: built with the io it prints to and a callback for its exit status. */
export type SubcommandFactory = (io: CliIo, done: (code: number) => void) => Command;

/** `amfctl config …`. Add a subcommand by adding its factory here (e.g. `plan` from ./plan.js). */
const SUBCOMMANDS: readonly SubcommandFactory[] = [validateCommand, fmtCommand, diffCommand, planCommand, ...CONFIG_API_SUBCOMMANDS];

export function configCommand(io: CliIo, done: (code: number) => void): Command {
  const config = new Command('config').description('validate, format and compare groups.conf files');
  for (const make of SUBCOMMANDS) config.addCommand(make(io, done));
  return config;
}
