import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { loadDaemonConfig } from '../../src/daemon/config.js';
import { createDaemonContainer, DAEMON_TOKENS } from '../../src/daemon/daemon.js';
import { createNodePorts } from '../../src/runtime/node/index.js';
import { TOKENS } from '../../src/runtime/tokens.js';

it('the composition root resolves every port and daemon service (none undefined), per node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amfd-container-'));
  try {
    const cfgs = ['n1', 'n2'].map((n) => {
      const r = loadDaemonConfig({ argv: ['--node-name', n, '--data-dir', join(dir, n)], env: { AMFD_API_TOKEN: 't' }, cwd: dir });
      assert.ok(r.ok);
      return r.value;
    });
    const built = cfgs.map((cfg) => {
      const ports = createNodePorts({ nodeName: cfg.nodeName, dataDir: cfg.dataDir, logLevel: 'silent' });
      const c = createDaemonContainer(cfg, ports);
      assert.ok(c.ok, c.ok ? '' : c.error.join('\n'));
      return { ports, c: c.value };
    });
    for (const { c } of built) {
      for (const [name, token] of [...Object.entries(TOKENS), ...Object.entries(DAEMON_TOKENS)]) assert.notEqual(c.resolve(token as symbol), undefined, `${name} resolves`);
    }
    // Two nodes in one process never share a service (no singletons).
    assert.notEqual(built[0]!.c.resolve(DAEMON_TOKENS.ClusterNode), built[1]!.c.resolve(DAEMON_TOKENS.ClusterNode));
    assert.equal(built[0]!.c.resolve(DAEMON_TOKENS.ClusterNode).name, 'n1');
    for (const { ports } of built) await ports.store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
