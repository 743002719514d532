/**
 * The shared end of `config apply` and `config edit`: ask the node for the semantic diff and the
 * plan (a dry run with the epoch check), show them, confirm, then commit with If-Match so a
 * change made meanwhile by someone else is never overwritten.
 */
import type { ConfigErrorView, ConfigView } from '../../api/backend.js';
import { type ConfigChangePlan, formatPlan } from '../../api/plan.js';
import { type ModelChange, formatChange } from '../../model/index.js';
import { type ApiClient, type ClientError, fail } from '../ctl/client.js';
import { EXIT } from '../ctl/exit.js';
import type { CtlIo } from '../ctl/io.js';

export interface SubmitOptions {
  /** Show the diff and plan only. */
  readonly planOnly: boolean;
  /** Apply without asking. */
  readonly yes: boolean;
  /** Print one JSON object ({applied, epoch, changes, plan}) instead of the text. */
  readonly json?: boolean;
}

export type SubmitOutcome =
  | { readonly kind: 'done'; readonly code: number }
  /** The node found errors the local check did not (e.g. a newer amfd); the edit loop shows them. */
  | { readonly kind: 'invalid'; readonly errors: readonly ConfigErrorView[] };

interface DryRun {
  readonly changes: ModelChange[];
  readonly plan: ConfigChangePlan;
}

function conflict(e: ClientError, io: CtlIo, readEpoch: number): number {
  const now = e.kind === 'http' ? (e.details as { epoch?: number } | null)?.epoch : undefined;
  io.stderr(
    `amfctl: the config changed since you read it (epoch ${readEpoch}${now === undefined ? '' : `, now epoch ${now}`}); nothing was applied. ` +
      'Run `amfctl config show` to see the current config, redo your change on it, and apply again.\n',
  );
  return EXIT.conflict;
}

export async function submitConfig(client: ApiClient, current: Pick<ConfigView, 'epoch'>, text: string, opts: SubmitOptions, io: CtlIo): Promise<SubmitOutcome> {
  const headers = { 'if-match': `"${current.epoch}"` };
  const dry = await client.send<DryRun>('PUT', '/v1/config?dry_run=1', { text }, headers);
  if (!dry.ok) {
    const e = dry.error;
    if (e.kind === 'http' && e.code === 'invalid-config') return { kind: 'invalid', errors: e.details as ConfigErrorView[] };
    if (e.kind === 'http' && e.code === 'stale-epoch') return { kind: 'done', code: conflict(e, io, current.epoch) };
    return { kind: 'done', code: fail(e, io) };
  }
  const { changes, plan } = dry.value.body;
  const json = (applied: boolean, epoch: number): void => io.stdout(`${JSON.stringify({ applied, epoch, changes, plan })}\n`);
  if (changes.length === 0) {
    if (opts.json) json(false, current.epoch);
    else io.stdout(`no changes (config epoch ${current.epoch})\n`);
    return { kind: 'done', code: EXIT.ok };
  }
  if (!opts.json) {
    io.stdout(`Changes:\n${changes.map((c) => `  ${formatChange(c)}\n`).join('')}`);
    const steps = formatPlan(plan);
    io.stdout(`Plan:\n${steps.length === 0 ? '  no SU starts or stops, no SI moves\n' : steps.map((l) => `  ${l}\n`).join('')}`);
  }
  if (opts.planOnly) {
    if (opts.json) json(false, current.epoch);
    return { kind: 'done', code: EXIT.ok };
  }
  if (!opts.yes) {
    if (!io.interactive || opts.json) {
      io.stderr(`amfctl: not applied: add --yes to apply without a prompt (${opts.json ? '--json never prompts' : 'stdin is not a terminal'})\n`);
      return { kind: 'done', code: EXIT.aborted };
    }
    if (!(await io.confirm(`Apply these changes (config epoch ${current.epoch} -> ${current.epoch + 1})?`))) {
      io.stderr('amfctl: not applied\n');
      return { kind: 'done', code: EXIT.aborted };
    }
  }
  const put = await client.send<{ epoch: number }>('PUT', '/v1/config', { text }, headers);
  if (!put.ok) {
    const e = put.error;
    if (e.kind === 'http' && e.code === 'invalid-config') return { kind: 'invalid', errors: e.details as ConfigErrorView[] };
    if (e.kind === 'http' && e.code === 'stale-epoch') return { kind: 'done', code: conflict(e, io, current.epoch) };
    return { kind: 'done', code: fail(e, io) };
  }
  if (opts.json) json(true, put.value.body.epoch);
  else io.stdout(`applied: config epoch ${put.value.body.epoch}\n`);
  return { kind: 'done', code: EXIT.ok };
}
