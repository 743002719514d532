/**
 * amf-sim: deterministic simulations of amfd. Each subcommand lives with its module and is added
 * here with one import and one addCommand line (shared flag parsing: simulator/args.ts).
 */
import { Command } from 'commander';
import { clusterCommand } from './cluster/command.js';
import { runCommand } from './demo/command.js';
import { raftCommand } from './raft/command.js';
import { scaleCommand } from './scale/command.js';
import { swimCommand } from './swim/command.js';

const program = new Command('amf-sim')
  .description('deterministic simulation of amfd clusters: one seed replays a run exactly')
  .showHelpAfterError();

program.addCommand(runCommand());
program.addCommand(raftCommand());
program.addCommand(swimCommand());
program.addCommand(clusterCommand());
program.addCommand(scaleCommand());

await program.parseAsync(process.argv);
