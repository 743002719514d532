import { Command, InvalidArgumentError } from 'commander';
import { type CliIo, readText } from './io.js';
import { EXIT_TROUBLE } from './load.js';
import { submitConfig } from './submit.js';
import type { ConfigView } from '../../api/backend.js';
import { loadConfig } from '../../model/index.js';
import { type ApiClient, type ConnectionOptions, fail, withClient, withConnection } from '../ctl/client.js';
import { EXIT } from '../ctl/exit.js';
import { asCtlIo, type CtlIo } from '../ctl/io.js';

export interface ApplyOptions {
  readonly plan: boolean;
  readonly yes: boolean;
  /** The epoch the file was based on (from `config show`); default: the current one. */
  readonly epoch?: number;
  readonly json?: boolean;
}

/**
 * `amfctl config apply FILE`: check the file here (every error, located), show the semantic diff
 * and the plan, then apply with the epoch check.
 */
export async function applyFile(client: ApiClient, file: string, opts: ApplyOptions, io: CtlIo): Promise<number> {
  const text = await readText(file, io);
  if (text === undefined) return EXIT_TROUBLE;
  const local = loadConfig(text, file);
  if (!local.ok) {
    for (const e of local.error) io.stderr(`${e.toString()}\n`);
    io.stderr(`amfctl: ${file} has ${local.error.length} error${local.error.length === 1 ? '' : 's'}; nothing was applied. Fix them (amfctl config validate ${file}) and apply again.\n`);
    return EXIT.refused;
  }
  let epoch = opts.epoch;
  if (epoch === undefined) {
    const cur = await client.get<ConfigView>('/v1/config');
    if (!cur.ok) return fail(cur.error, io);
    epoch = cur.value.body.epoch;
  }
  const r = await submitConfig(client, { epoch }, text, { planOnly: opts.plan, yes: opts.yes, json: opts.json === true }, io);
  if (r.kind === 'done') return r.code;
  for (const e of r.errors) io.stderr(`${e.file}:${e.line}:${e.col}: ${e.message}\n`);
  io.stderr('amfctl: the node refused the config; nothing was applied. Fix the errors above and apply again.\n');
  return EXIT.refused;
}

function epochArg(v: string): number {
  if (!/^\d{1,15}$/.test(v)) throw new InvalidArgumentError('a config epoch (a number, from amfctl config show)');
  return Number(v);
}

export function applyCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('apply'))
    .description('apply a groups.conf to the cluster: validate, show the diff and the plan, confirm, commit with the epoch check')
    .argument('<file>', 'the new groups.conf')
    .option('--plan', 'only show the diff and the plan')
    .option('-y, --yes', 'apply without asking')
    .option('--epoch <n>', 'fail unless the running config is still at this epoch (from amfctl config show)', epochArg)
    .option('--json', 'print one JSON object: applied, epoch, changes, plan (never prompts: give --yes or --plan)')
    .action(async (file: string, o: ConnectionOptions & { plan?: boolean; yes?: boolean; epoch?: number; json?: boolean }) =>
      done(await withClient(o, io, (c) => applyFile(c, file, { plan: o.plan === true, yes: o.yes === true, json: o.json === true, ...(o.epoch === undefined ? {} : { epoch: o.epoch }) }, io))),
    );
}
