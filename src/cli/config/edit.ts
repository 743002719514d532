/**
 * `amfctl config edit`: the kubectl edit loop. The running config opens in $VISUAL/$EDITOR; on
 * save it is validated, and while it has errors it reopens with them as comments at the top
 * (line numbers as the editor shows them). Saving it unchanged gives up; a valid change is shown
 * as a semantic diff and a plan, and applied with the epoch it was read at.
 */
import { Command } from 'commander';
import type { CliIo } from './io.js';
import { submitConfig } from './submit.js';
import type { ConfigErrorView, ConfigView } from '../../api/backend.js';
import { loadConfig } from '../../model/index.js';
import { type ApiClient, type ConnectionOptions, fail, withClient, withConnection } from '../ctl/client.js';
import { EXIT } from '../ctl/exit.js';
import { asCtlIo, type CtlIo } from '../ctl/io.js';

const MARK = '# amfctl:';

/** The text without the error comments a previous round put on top. */
export function stripErrorHeader(text: string): string {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && lines[i]!.startsWith(MARK)) i++;
  return lines.slice(i).join('\n');
}

/** The errors as comments on top of `body`, their line numbers shifted to where the editor shows them. */
export function withErrorHeader(body: string, errors: readonly ConfigErrorView[]): string {
  const intro = [
    `${MARK} this config is not valid; fix the errors below and save again.`,
    `${MARK} To give up, save it unchanged (or quit without saving). These lines are removed on save.`,
  ];
  const shift = intro.length + errors.length + 1;
  const listed = errors.map((e) => `${MARK}   ${e.file}:${e.line + shift}:${e.col}: ${e.message}`);
  return `${[...intro, ...listed, MARK].join('\n')}\n${body}`;
}

export async function editConfig(client: ApiClient, yes: boolean, io: CtlIo): Promise<number> {
  // The default editor (vi) without a terminal would hang or garble a pipe: refuse, say what works.
  if (!io.interactive && !io.env['VISUAL'] && !io.env['EDITOR']) {
    io.stderr('amfctl: config edit needs a terminal for vi (stdin is not one), or an editor in $VISUAL/$EDITOR; without either, use amfctl config show > FILE and amfctl config apply FILE\n');
    return EXIT.usage;
  }
  const cur = await client.get<ConfigView>('/v1/config');
  if (!cur.ok) return fail(cur.error, io);
  const current = cur.value.body;
  const tmp = await io.tempFile('groups.conf', current.text);
  const keep = (why: string, code: number): number => {
    io.stderr(`amfctl: ${why}; nothing was applied. Your edited copy is kept at ${tmp.path}\n`);
    return code;
  };
  try {
    return await editLoop(client, current, tmp, yes, io, keep);
  } catch (e) {
    // The editor removed the copy, or it could not be read or rewritten: nothing may be left behind silently.
    const why = `the edited copy could not be handled (${e instanceof Error ? e.message : String(e)})`;
    if (await io.readFile(tmp.path).then(() => true, () => false)) return keep(why, EXIT.usage);
    tmp.remove();
    io.stderr(`amfctl: ${why}; nothing was applied\n`);
    return EXIT.usage;
  }
}

type TempFile = Awaited<ReturnType<CtlIo['tempFile']>>;

async function editLoop(client: ApiClient, current: ConfigView, tmp: TempFile, yes: boolean, io: CtlIo, keep: (why: string, code: number) => number): Promise<number> {
  const { path, remove } = tmp;
  let shown = current.text;
  for (;;) {
    const status = await io.edit(path);
    if (status !== 0) return keep(`the editor exited with status ${status}`, EXIT.aborted);
    const saved = await io.readFile(path);
    const body = stripErrorHeader(saved);
    if (body === current.text) {
      remove();
      io.stdout('edit cancelled, no changes made\n');
      return EXIT.ok;
    }
    if (saved === shown) return keep('edit abandoned with the errors unfixed', EXIT.aborted);
    const check = loadConfig(body, path);
    let errors: readonly ConfigErrorView[];
    if (check.ok) {
      const r = await submitConfig(client, current, body, { planOnly: false, yes }, io);
      if (r.kind === 'done') {
        if (r.code === EXIT.ok) remove();
        else io.stderr(`amfctl: your edited copy is kept at ${path}\n`);
        return r.code;
      }
      errors = r.errors;
    } else {
      errors = check.error;
    }
    io.stderr(`amfctl: ${errors.length} error${errors.length === 1 ? '' : 's'} in the edited config; reopening the editor\n`);
    shown = withErrorHeader(body, errors);
    await io.writeFile(path, shown);
  }
}

export function editCommand(base: CliIo, done: (code: number) => void): Command {
  const io = asCtlIo(base);
  return withConnection(new Command('edit'))
    .description('edit the running config in $EDITOR: validated on save, then the diff and the plan, then applied with the epoch check')
    .option('-y, --yes', 'apply without asking once the edit is valid')
    .action(async (o: ConnectionOptions & { yes?: boolean }) => done(await withClient(o, io, (c) => editConfig(c, o.yes === true, io))));
}
