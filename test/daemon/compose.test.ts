import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
