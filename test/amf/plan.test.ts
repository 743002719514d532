/**
 * The N+M reduction (worked example of docs/amf.md) and `amfctl config plan`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { reduce } from '../../src/amf/reduction.js';
import { computePlan } from '../../src/amf/plan.js';
import { planFile } from '../../src/cli/config/plan.js';
import type { CliIo } from '../../src/cli/config/io.js';
import { loadConfig } from '../../src/model/index.js';

const example = { sis: 4, pa: 3, ps: 2, ma: 2, ms: 4 };
const file = new URL('./scenarios/nplusm-level-i/groups.conf', import.meta.url).pathname;

test('reduction levels of the worked example S=4 Ma=2 Ms=4 Pa=3 Ps=2 for I = 1..6', () => {
  const got = [1, 2, 3, 4, 5, 6].map((inService) => {
    const r = reduce({ ...example, inService });
    return `${inService}:${r.level}:${r.active}/${r.standby}/${r.spares}`;
  });
  assert.deepEqual(got, ['1:VI:1/0/0', '2:V:2/0/0', '3:IV:2/1/0', '4:III:3/1/0', '5:II:3/2/0', '6:I:3/2/1']);
});

test('reduction never uses more active SUs than Pa as it uses it (at least ceil(S/Ma), at most S) nor more SUs than are in service', () => {
  for (let s = 0; s <= 8; s++) {
    for (let i = 0; i <= 8; i++) {
      for (const pa of [1, 2, 3]) {
        const r = reduce({ sis: s, inService: i, pa, ps: 1, ma: 2, ms: 3 });
        const bound = Math.max(Math.ceil(s / 2), Math.min(pa, s));
        assert.ok(r.active <= bound && r.pa === bound && r.active + r.standby + r.spares === i, JSON.stringify({ s, i, pa, r }));
        // Enough SUs in service: every SI active and backed, within Ma and Ms.
        if (i >= r.pa + r.ps) assert.ok(r.active * 2 >= s && r.standby * 3 >= s, JSON.stringify({ s, i, pa, r }));
      }
    }
  }
});

test('reduction of the three shapes of issue 23 (scenarios nplusm-pa-above-sis, nplusm-pa-ma-below-sis, nplusm-ps-ms-below-sis)', () => {
  const level = (p: { sis: number; pa: number; ps: number; ma: number; ms: number }): string => {
    const r = reduce({ ...p, inService: 4 });
    return `${r.level}:${r.active}/${r.standby}/${r.spares}`;
  };
  assert.equal(level({ sis: 2, pa: 3, ps: 2, ma: 2, ms: 2 }), 'II:2/2/0');
  assert.equal(level({ sis: 3, pa: 1, ps: 1, ma: 2, ms: 3 }), 'I:2/1/1');
  assert.equal(level({ sis: 2, pa: 1, ps: 1, ma: 2, ms: 1 }), 'I:1/2/1');
});

test('plan: per-SU quotas of the worked example (active 2,1,1 / standby 2,2 at level II)', () => {
  const conf = loadConfig(readFileSync(file, 'utf8'), file);
  assert.ok(conf.ok);
  const plan = computePlan(conf.value, ['SU6']);
  assert.ok(plan.ok);
  const g = plan.value[0]!;
  assert.equal(g.level, 'II');
  const per = (ha: string): Record<string, number> => {
    const m: Record<string, number> = {};
    for (const a of g.assignments) if (a.ha === ha) m[a.su] = (m[a.su] ?? 0) + 1;
    return m;
  };
  assert.deepEqual(per('active'), { SU1: 2, SU2: 1, SU3: 1 });
  assert.deepEqual(per('standby'), { SU4: 2, SU5: 2 });
});

test('plan: every level I..VI as SUs go down', () => {
  const conf = loadConfig(readFileSync(file, 'utf8'), file);
  assert.ok(conf.ok);
  const all = ['SU1', 'SU2', 'SU3', 'SU4', 'SU5', 'SU6'];
  const levels = [6, 5, 4, 3, 2, 1].map((i) => {
    const p = computePlan(conf.value, all.slice(i));
    assert.ok(p.ok);
    return p.value[0]!.level;
  });
  assert.deepEqual(levels, ['I', 'II', 'III', 'IV', 'V', 'VI']);
});

function memIo(files: Record<string, string>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    readFile: async (p) => {
      const t = files[p];
      if (t === undefined) throw new Error('ENOENT');
      return t;
    },
    writeFile: async () => {},
  };
}

test('amfctl config plan --json prints groups with model, level and the assignment table', async () => {
  const io = memIo({ 'g.conf': readFileSync(file, 'utf8') });
  assert.equal(await planFile('g.conf', { down: ['SU5', 'SU6'], json: true }, io), 0);
  const j = JSON.parse(io.out.join('')) as { groups: { name: string; model: string; level: string | null; assignments: { si: string; su: string; ha: string }[] }[] };
  assert.equal(j.groups.length, 1);
  assert.deepEqual(Object.keys(j.groups[0]!).sort(), ['assignments', 'level', 'model', 'name']);
  assert.equal(j.groups[0]!.level, 'III');
  assert.ok(j.groups[0]!.assignments.every((a) => a.su !== 'SU5' && a.su !== 'SU6'));
});

test('amfctl config plan: text table, unknown --down SU refused, unreadable file', async () => {
  const io = memIo({ 'g.conf': readFileSync(file, 'utf8') });
  assert.equal(await planFile('g.conf', { down: [], json: false }, io), 0);
  assert.match(io.out.join(''), /^group g \(nplusm, reduction level I\)\n {2}SI {3}SU {3}HA\n {2}SI1 {2}SU1 {2}active\n/);
  assert.equal(await planFile('g.conf', { down: ['SU9'], json: false }, io), 1);
  assert.match(io.err.join(''), /unknown SU: SU9/);
  assert.equal(await planFile('missing.conf', { down: [], json: false }, io), 2);
});
