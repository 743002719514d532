/**
 * `amfctl config plan FILE [--down SU,...] [--json]`: the assignment the AMF engine computes for a
 * groups.conf when every SU is in service except those listed: per SG its redundancy model, its
 * N+M reduction level and the SI → SU → HA table. Offline: runs the engine, not the cluster.
 */
import { Command } from 'commander';
import type { CliIo } from './io.js';
import { EXIT_TROUBLE, loadFile } from './load.js';
import { computePlan, type GroupPlan } from '../../amf/plan.js';

export function formatPlan(groups: readonly GroupPlan[]): string {
  const out: string[] = [];
  for (const g of groups) {
    out.push(`group ${g.name} (${g.model}${g.level === null ? '' : `, reduction level ${g.level}`})`);
    if (g.assignments.length === 0) {
      out.push('  (no assignment)');
      continue;
    }
    const w1 = Math.max(2, ...g.assignments.map((a) => a.si.length));
    const w2 = Math.max(2, ...g.assignments.map((a) => a.su.length));
    out.push(`  ${'SI'.padEnd(w1)}  ${'SU'.padEnd(w2)}  HA`);
    for (const a of g.assignments) out.push(`  ${a.si.padEnd(w1)}  ${a.su.padEnd(w2)}  ${a.ha}`);
  }
  return out.join('\n') + '\n';
}

export async function planFile(file: string, opts: { down: readonly string[]; json: boolean }, io: CliIo): Promise<number> {
  const r = await loadFile(file, io);
  if ('failure' in r) return r.failure === 'unreadable' ? EXIT_TROUBLE : 1;
  const plan = computePlan(r.model, opts.down);
  if (!plan.ok) {
    io.stderr(`amfctl: ${file}: --down: ${plan.error}\n`);
    return 1;
  }
  io.stdout(opts.json ? `${JSON.stringify({ groups: plan.value })}\n` : formatPlan(plan.value));
  return 0;
}

export function planCommand(io: CliIo, done: (code: number) => void): Command {
  return new Command('plan')
    .description('show the assignment the AMF computes for a groups.conf: model, N+M reduction level, SI -> SU -> HA')
    .argument('<file>', 'groups.conf file')
    .option('--down <sus>', 'comma-separated SUs to treat as out of service', '')
    .option('--json', 'print {"groups":[{"name","model","level","assignments":[{"si","su","ha"}]}]}')
    .action(async (file: string, o: { down: string; json?: boolean }) =>
      done(await planFile(file, { down: o.down.split(',').map((s) => s.trim()).filter((s) => s !== ''), json: o.json === true }, io)),
    );
}
