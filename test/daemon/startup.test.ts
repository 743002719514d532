/**
 * Every start-up failure of amfd says what failed and exits non-zero: a real `amfd` process per
 * case (src/daemon/main.ts through tsx), killed only if it hangs (the defect: a data_dir under
 * /proc made Node's recursive mkdir loop for ever, silently).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeDirs } from '../../src/runtime/node/make-dirs.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'amfd-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'token'), 'secret\n');

/** A hang is a failure of its own: killed after this long (generous: the machine is shared). */
const HANG_MS = 60_000;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function amfd(flags: string[], apiPort?: number): Promise<{ code: number | null; stderr: string; hung: boolean }> {
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const args = [
    '--import', 'tsx', join(ROOT, 'src/daemon/main.ts'),
    '--node-name', 't1', '--bootstrap-expect', '1', '--api-token-file', join(dir, 'token'),
    '--swim-bind', `127.0.0.1:${ports[0]}`, '--raft-bind', `127.0.0.1:${ports[1]}`, '--rpc-bind', `127.0.0.1:${ports[2]}`, '--api-bind', `127.0.0.1:${apiPort ?? ports[3]}`,
    ...flags,
  ];
  const p = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, AMFD_CONFIG: '' } });
  let stderr = '';
  p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let hung = false;
  const timer = setTimeout(() => {
    hung = true;
    p.kill('SIGKILL');
  }, HANG_MS);
  const code = await new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr, hung };
}

describe('amfd start-up failures print what failed and exit non-zero', () => {
  it('makeDirs: makes missing levels, accepts an existing directory, refuses under /proc and through a file', () => {
    makeDirs(join(dir, 'a/b/c'), 0o700);
    makeDirs(join(dir, 'a/b/c'), 0o700);
    assert.throws(() => makeDirs('/proc/amfd-test/x', 0o700), /ENOENT/);
    writeFileSync(join(dir, 'file'), '');
    assert.throws(() => makeDirs(join(dir, 'file/x'), 0o700), /ENOTDIR/);
  });

  it('a data_dir under /proc', async () => {
    const r = await amfd(['--data-dir', '/proc/amfd-test/data']);
    assert.equal(r.hung, false, 'amfd hung');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /amfd: cannot start:\n {2}- data_dir: cannot create \/proc\/amfd-test\/data: ENOENT/);
  });

  it('a data_dir that is a file', async () => {
    writeFileSync(join(dir, 'plain'), '');
    const r = await amfd(['--data-dir', join(dir, 'plain')]);
    assert.equal(r.hung, false, 'amfd hung');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /data_dir: cannot create .*plain: ENOTDIR/);
  });

  it('an API address already in use', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const r = await amfd(['--data-dir', join(dir, 'busy')], port);
      assert.equal(r.hung, false, 'amfd hung');
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`amfd: cannot start: api\\.bind 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      busy.close();
    }
  });

  it('a component socket it cannot create', async () => {
    const r = await amfd(['--data-dir', join(dir, 'sock'), '--component-socket', '/proc/amfd-test/amf.sock']);
    assert.equal(r.hung, false, 'amfd hung');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /amfd: cannot start: component API: component API socket directory \/proc\/amfd-test/);
  });
});
