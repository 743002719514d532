import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { configCommand, type CliIo } from '../../../src/cli/config/index.js';
import { validateFiles } from '../../../src/cli/config/validate.js';
import { formatFile } from '../../../src/cli/config/fmt.js';
import { diffFiles } from '../../../src/cli/config/diff.js';

/** An in-memory io: files in a map, output captured. */
function memoryIo(files: Record<string, string>): CliIo & { out: string; err: string; files: Record<string, string> } {
  const io = {
    out: '',
    err: '',
    files: { ...files },
    stdout: (t: string) => {
      io.out += t;
    },
    stderr: (t: string) => {
      io.err += t;
    },
    readFile: async (p: string) => {
      const text = io.files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return text;
    },
    writeFile: async (p: string, t: string) => {
      io.files[p] = t;
    },
  };
  return io;
}

const good = 'group {\n\tname = g\n\tunit {\n\t\tname = SU_1\n\t\tnode = n1\n\t\tcomponent {\n\t\t\tname = c\n\t\t}\n\t}\n}\n';
const messy = 'group{\n  name=g   # the group\n\tunit {  \n   name = SU_1\n   node=n1\n\tcomponent {\n name = c\n}\n}\n}';
const bad = 'group {\n\tname = g\n\tmodle = 2n\n\tunit {\n\t\tname = SU_1\n\t}\n}\n';

test('validate: 0 and a summary for valid files, 1 and every error for an invalid one, 2 when unreadable', async () => {
  const io = memoryIo({ 'good.conf': good, 'bad.conf': bad });
  assert.equal(await validateFiles(['good.conf'], io), 0);
  assert.equal(io.out, 'good.conf: valid (1 groups, 1 units, 0 service instances, 0 nodes)\n');
  assert.equal(await validateFiles(['good.conf', 'bad.conf'], io), 1);
  assert.equal(io.err, 'bad.conf:3:2: unknown key "modle" in group; did you mean "model"?\nbad.conf:4:2: unit SU_1 has no component\n');
  assert.equal(await validateFiles(['missing.conf', 'bad.conf'], memoryIo({ 'bad.conf': bad })), 2);
});

test('validate: warnings for ignored keys and for SIs the configuration cannot assign, still valid (exit 0)', async () => {
  const unit = (n: string): string => `\tunit {\n\t\tname = ${n}\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n`;
  const si = (n: string, type = 't'): string => `\tserviceinstance {\n\t\tname = ${n}\n\t\tcsi_descriptor {\n\t\t\tcsi_name = ${n}_csi\n\t\t\ttype_name = ${type}\n\t\t}\n\t}\n`;
  // Two SUs of at most one active SI each cannot carry three SIs: level VI even with both in service
  // (An = 3 > I = 2: SU1 and SU2 active for SI1 and SI2, no standby, SI3 dropped).
  const short = `group {\n\tname = g\n\tmodel = nplusm\n\tmaximum-active-instances = 1\n${unit('SU1')}${unit('SU2')}${si('SI1')}${si('SI2')}${si('SI3')}}\n`;
  const opensaf = `group {\n\tname = a\n\tmodel = nwayactive\n\tmaximum-standby-instances = 0\n${unit('A1')}${si('X')}}\n`;
  const io = memoryIo({ 'short.conf': short, 'opensaf.conf': opensaf });
  assert.equal(await validateFiles(['short.conf', 'opensaf.conf'], io), 0);
  assert.equal(
    io.err,
    [
      'short.conf:23:2: warning: serviceinstance SI1 of group g gets no standby, even with every unit in service (N+M reduction level VI)',
      'short.conf:30:2: warning: serviceinstance SI2 of group g gets no standby, even with every unit in service (N+M reduction level VI)',
      'short.conf:37:2: warning: serviceinstance SI3 of group g is never assigned, even with every unit in service (N+M reduction level VI)',
      'opensaf.conf:4:30: warning: group a: "maximum-standby-instances" is ignored: N-Way-Active has no standby',
      '',
    ].join('\n'),
  );
  assert.match(io.out, /^short\.conf: valid .*\nopensaf\.conf: valid /);
});

test('fmt: canonical text on stdout, --write in place, --check', async () => {
  const io = memoryIo({ 'm.conf': messy, 'bad.conf': 'group {\n' });
  assert.equal(await formatFile('m.conf', {}, io), 0);
  assert.equal(io.out, 'group {\n\tname = g # the group\n\tunit {\n\t\tname = SU_1\n\t\tnode = n1\n\t\tcomponent {\n\t\t\tname = c\n\t\t}\n\t}\n}\n');
  assert.equal(await formatFile('m.conf', { check: true }, io), 1);
  assert.equal(await formatFile('m.conf', { write: true }, io), 0);
  assert.equal(io.files['m.conf'], io.out);
  assert.equal(await formatFile('m.conf', { check: true }, io), 0);
  assert.equal(await formatFile('bad.conf', {}, io), 1);
  assert.match(io.err, /bad\.conf:1:1: block "group" is not closed/);
});

test('diff: exit 0 without changes (and says so), 1 with, 2 on an invalid file; --json', async () => {
  const moved = good.replace('node = n1', 'node = n3');
  const io = memoryIo({ 'a.conf': good, 'b.conf': moved, 'bad.conf': bad });
  assert.equal(await diffFiles('a.conf', 'a.conf', io), 0);
  assert.equal(io.out, 'no changes: a.conf and a.conf describe the same configuration\n');
  io.out = '';
  assert.equal(await diffFiles('a.conf', 'b.conf', io), 1);
  assert.equal(io.out, 'SU_1 modify: node changed :: "n1" -> "n3"\n');
  io.out = '';
  assert.equal(await diffFiles('a.conf', 'b.conf', io, true), 1);
  const j = JSON.parse(io.out) as { changes: Array<{ op: string; attribute: string; old: unknown; new: unknown }> };
  assert.deepEqual(j.changes.map((c) => [c.op, c.attribute, c.old, c.new]), [['modify', 'node', 'n1', 'n3']]);
  io.out = '';
  assert.equal(await diffFiles('a.conf', 'a.conf', io, true), 0);
  assert.equal(io.out, '{"changes":[]}\n');
  assert.equal(await diffFiles('a.conf', 'bad.conf', io), 2);
});

test('the commander wiring passes arguments and exit codes through', async () => {
  const io = memoryIo({ 'good.conf': good, 'm.conf': messy });
  const codes: number[] = [];
  const program = new Command('amfctl').exitOverride();
  program.addCommand(configCommand(io, (c) => codes.push(c)));
  await program.parseAsync(['config', 'validate', 'good.conf', 'm.conf'], { from: 'user' });
  await program.parseAsync(['config', 'fmt', '--write', 'm.conf'], { from: 'user' });
  await program.parseAsync(['config', 'diff', 'good.conf', 'm.conf'], { from: 'user' });
  assert.deepEqual(codes, [0, 0, 0]);
});

test('bin/amfctl.js runs config validate as a process', () => {
  const root = new URL('../../../', import.meta.url).pathname;
  const r = spawnSync(process.execPath, ['bin/amfctl.js', 'config', 'validate', 'test/model/golden/invalid/values.conf'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^test\/model\/golden\/invalid\/values\.conf:3:10: invalid model "n\+m"/);
});
