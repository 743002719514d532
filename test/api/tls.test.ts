import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { MemoryBackend } from './memory-backend.js';
import { TOKEN } from './helpers.js';
import { ApiServer } from '../../src/api/server.js';
import { ApiClient } from '../../src/cli/ctl/client.js';
import { processCtlIo } from '../../src/cli/ctl/io.js';
import { ping } from '../../src/cli/ctl/status.js';
import { NodeClock } from '../../src/runtime/node/clock.js';
import { NodeHttpServerFactory } from '../../src/runtime/node/http.js';

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

test('TLS: the API serves HTTPS with a given key and certificate; amfctl trusts it with --ca', { skip: !haveOpenssl && 'openssl not installed' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amfd-tls-test-'));
  try {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const server = new ApiServer({ backend: new MemoryBackend(), clock: new NodeClock(), logger: pino({ level: 'silent' }), token: TOKEN });
    const tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
    const listener = await new NodeHttpServerFactory().listen({ host: '127.0.0.1', port: 0, tls }, server.handler);
    try {
      const out: string[] = [];
      const io = { ...processCtlIo(undefined, { AMFCTL_TOKEN: TOKEN }), stdout: (t: string) => void out.push(t), stderr: (t: string) => void out.push(t) };
      const trusted = await ApiClient.create({ addr: `https://${listener.address}`, ca: join(dir, 'cert.pem') }, io);
      assert.ok(trusted.ok);
      assert.equal(await ping(trusted.value, io), 0);
      assert.equal(out.join(''), `pong from ${listener.address}\n`);
      const untrusted = await ApiClient.create({ addr: `https://${listener.address}` }, io);
      assert.ok(untrusted.ok);
      assert.equal(await ping(untrusted.value, io), 3);
      assert.match(out.join(''), /cannot reach amfd .*self.signed/i);
    } finally {
      server.close();
      await listener.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
