/** openais and OpenSAF inputs taken as a user migrating from them writes them (issue 23). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig, type ConfigError } from '../../src/model/index.js';

const golden = new URL('./golden/valid/', import.meta.url);

test("OpenSAF's N-Way-Active sample validates, its irrelevant standby keys ignored with a warning each", () => {
  const text = readFileSync(new URL('opensaf-nwayactive.conf', golden), 'utf8');
  const warnings: ConfigError[] = [];
  const r = loadConfig(text, 'AppConfig-nwayactive.conf', warnings);
  assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
  const g = r.value.groups[0]!;
  assert.equal(g.model, 'nwayactive');
  assert.equal(g.preferredStandbyUnits, 0);
  assert.equal(g.sis[0]!.preferredActiveAssignments, 5);
  assert.equal(g.sis[0]!.preferredStandbyAssignments, 0);
  assert.deepEqual(
    warnings.map((w) => w.toString()),
    [
      'AppConfig-nwayactive.conf:10:30: group AmfDemo: "maximum-standby-instances" is ignored: N-Way-Active has no standby',
      'AppConfig-nwayactive.conf:79:35: serviceinstance AmfDemo: "preferred-standby-assignments" is ignored: N-Way-Active has no standby',
    ],
  );
  // The multi-valued attribute keeps every value, in order; the one without a value is empty.
  assert.deepEqual(g.sis[0]!.csis[0]!.attributes, [
    { name: 'AttrNoValue', value: '' },
    { name: 'AttrSingleValue', value: 'val11' },
    { name: 'AttrMultiValue', value: 'val21' },
    { name: 'AttrMultiValue', value: 'val22' },
    { name: 'AttrMultiValue', value: 'val23' },
  ]);
});

test('a non-zero preferred-standby-units on N-Way-Active is a warning too; on N+M a zero maximum-standby-instances stays an error', () => {
  const warnings: ConfigError[] = [];
  const unit = (n: string): string => `\tunit {\n\t\tname = ${n}\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n`;
  const si = '\tserviceinstance {\n\t\tname = si\n\t\tcsi_descriptor {\n\t\t\tcsi_name = x\n\t\t\ttype_name = t\n\t\t}\n\t}\n';
  const r = loadConfig(`group {\n\tname = a\n\tmodel = nwayactive\n\tpreferred-standby-units = 2\n${unit('a1')}${si}}\n`, 'a.conf', warnings);
  assert.ok(r.ok, r.ok ? '' : r.error.join('\n'));
  assert.equal(r.value.groups[0]!.preferredStandbyUnits, 0);
  assert.deepEqual(warnings.map(String), ['a.conf:4:28: group a: "preferred-standby-units" is ignored: N-Way-Active has no standby']);
  const nm = loadConfig(`group {\n\tname = n\n\tmodel = nplusm\n\tmaximum-standby-instances = 0\n${unit('n1')}${si}}\n`, 'n.conf');
  assert.ok(!nm.ok);
  assert.deepEqual(nm.error.map(String), ['n.conf:4:30: "maximum-standby-instances" must be at least 1, not 0']);
});

test('proxied component types are refused at validation, saying why', () => {
  for (const comptype of ['proxied_pre', 'proxied_non_pre']) {
    const r = loadConfig(
      `group {\n\tname = g\n\tunit {\n\t\tname = u\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tcomptype = ${comptype}\n\t\t}\n\t}\n}\n`,
      'p.conf',
    );
    assert.ok(!r.ok, comptype);
    assert.deepEqual(r.error.map(String), [
      `p.conf:7:15: component c: comptype ${comptype} is not supported: amfd has no proxy components (a proxy registering the proxied component and answering its CSI callbacks); run the program as non_proxied_non_sa_aware (CLC-CLI scripts, a command or an OCF agent) or make it sa_aware`,
    ]);
  }
});
