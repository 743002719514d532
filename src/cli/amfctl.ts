/**
 * The amfctl entry (bin/amfctl.js runs it). Each command group is a module that exports a
 * factory `(io, done) => Command`; add a group by adding it to GROUPS.
 */
import { Command } from 'commander';
import { configCommand, type SubcommandFactory } from './config/index.js';
import { processIo } from './config/io.js';
import { withGlobalConnection } from './ctl/client.js';
import { CTL_COMMANDS } from './ctl/index.js';

const GROUPS: readonly SubcommandFactory[] = [configCommand, ...CTL_COMMANDS];

const io = processIo();
const program = withGlobalConnection(new Command('amfctl').description('control and inspect an amfd cluster'));
for (const make of GROUPS) {
  program.addCommand(
    make(io, (code) => {
      process.exitCode = code;
    }),
  );
}
await program.parseAsync(process.argv);
