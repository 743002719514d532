import { Command } from 'commander';
import type { CliIo } from './io.js';
import type { ConfigView } from '../../api/backend.js';
import { type ApiClient, type ConnectionOptions, fail, withClient, withConnection } from '../ctl/client.js';
import { EXIT } from '../ctl/exit.js';
import { asCtlIo, type CtlIo } from '../ctl/io.js';

/** `amfctl config show`: the running config on stdout, its epoch on stderr (stdout stays a valid file). */
export async function showConfig(client: ApiClient, consistent: boolean, io: CtlIo): Promise<number> {
  const r = await client.get<ConfigView>(`/v1/config${consistent ? '?consistent' : ''}`);
  if (!r.ok) return fail(r.error, io);
  io.stdout(r.value.body.text);
  io.stderr(`# config epoch ${r.value.body.epoch} (apply a change made on this text with --epoch ${r.value.body.epoch})\n`);
  return EXIT.ok;
}

export function showCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('show'))
    .description('print the running config (its epoch goes to stderr)')
    .option('--consistent', "read through the leader, not this node's replica")
    .action(async (o: ConnectionOptions & { consistent?: boolean }) => done(await withClient(o, io, (c) => showConfig(c, o.consistent === true, io))));
}
