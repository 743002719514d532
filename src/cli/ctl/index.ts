/** The amfctl commands that talk to a running amfd, for the GROUPS / SUBCOMMANDS registries. */
import { adminCommand, admitCommand, reportErrorCommand } from './admin.js';
import { eventsCommand } from './events.js';
import { membersCommand, pingCommand, raftCommand, statusCommand } from './status.js';
import { applyCommand } from '../config/apply.js';
import { editCommand } from '../config/edit.js';
import type { SubcommandFactory } from '../config/index.js';
import { showCommand } from '../config/show.js';

/** Top-level: `amfctl status | members | raft | ping | admin | admit | events | report-error`. */
export const CTL_COMMANDS: readonly SubcommandFactory[] = [statusCommand, membersCommand, raftCommand, pingCommand, adminCommand, admitCommand, eventsCommand, reportErrorCommand];

/** Under `amfctl config`: `show | apply | edit`. */
export const CONFIG_API_SUBCOMMANDS: readonly SubcommandFactory[] = [showCommand, applyCommand, editCommand];
