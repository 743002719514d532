import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { loadDaemonConfig } from '../../src/daemon/config.js';
import { composeDaemon } from '../../src/daemon/compose.js';
import { createNodePorts } from '../../src/runtime/node/index.js';

it('the composition root builds every part over the node ports (none undefined), per node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amfd-compose-'));
  try {
    const cfgs = ['n1', 'n2'].map((n) => {
      const r = loadDaemonConfig({ argv: ['--node-name', n, '--data-dir', join(dir, n), '--bootstrap-expect', '1'], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
      assert.ok(r.ok);
      return r.value;
    });
    const built = cfgs.map((cfg) => {
      const ports = createNodePorts({ nodeName: cfg.nodeName, dataDir: cfg.dataDir, logLevel: 'silent' });
      const parts = composeDaemon(cfg, ports);
      assert.ok(parts.ok, parts.ok ? '' : parts.error.join('\n'));
      return { ports, parts: parts.value };
    });
    for (const { parts } of built) for (const [name, part] of Object.entries(parts)) assert.notEqual(part, undefined, `${name} is built`);
    // Two nodes in one process never share a part.
    const [a, b] = built.map((x) => x.parts) as [(typeof built)[0]['parts'], (typeof built)[0]['parts']];
    for (const name of Object.keys(a) as (keyof typeof a)[]) assert.notEqual(a[name], b[name], `${name} is per node`);
    assert.equal(a.node.name, 'n1');
    assert.equal(b.node.name, 'n2');
    for (const { ports } of built) await ports.store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('the first-bootstrap groups.conf: keys ignored with a warning (OpenSAF N-Way-Active standby keys) are logged at warn with file:line:col', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amfd-compose-'));
  try {
    const conf = join(dir, 'groups.conf');
    const unit = '\tunit {\n\t\tname = u1\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tcommand = /bin/sleep 1000\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n';
    writeFileSync(conf, `group {\n\tname = a\n\tmodel = nwayactive\n\tmaximum-standby-instances = 0\n${unit}}\n`);
    const r = loadDaemonConfig({ argv: ['--node-name', 'n1', '--data-dir', join(dir, 'n1'), '--bootstrap-expect', '1', '--groups-conf', conf], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
    assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.error));
    const lines: string[] = [];
    const ports = createNodePorts({ nodeName: 'n1', dataDir: r.value.dataDir, logLevel: 'warn', logDestination: { write: (l: string) => void lines.push(l) } });
    const parts = composeDaemon(r.value, ports);
    assert.ok(parts.ok, parts.ok ? '' : parts.error.join('\n'));
    const warned = lines.map((l) => JSON.parse(l) as { level: number; at?: string; msg: string }).find((l) => /is ignored/.test(l.msg));
    assert.ok(warned, lines.join(''));
    assert.equal(warned.level, 40);
    assert.equal(warned.at, `${conf}:4:30`);
    assert.equal(warned.msg, 'groups_conf: group a: "maximum-standby-instances" is ignored: N-Way-Active has no standby');
    await ports.store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
