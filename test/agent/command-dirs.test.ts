import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restrictCommands } from '../../src/agent/command-dirs.js';
import { NodeFileSystem } from '../../src/runtime/node/files.js';
import { createLogger } from '../../src/runtime/observability.js';
import type { ProcessRunner, SpawnOptions } from '../../src/runtime/ports/process.js';
import { ok } from '../../src/util/result.js';

test('command_dirs: only programs whose real path is in an allowed directory run (absolute, on PATH, through symlinks); none listed: anything', () => {
  const root = mkdtempSync(join(tmpdir(), 'amfd-cmddirs-'));
  try {
    const allowed = join(root, 'allowed');
    const other = join(root, 'other');
    mkdirSync(allowed);
    mkdirSync(other);
    for (const p of [join(allowed, 'start.sh'), join(other, 'evil.sh')]) {
      writeFileSync(p, '#!/bin/sh\n');
      chmodSync(p, 0o755);
    }
    // A symlink inside the allowed directory that points out of it does not count as inside.
    symlinkSync(join(other, 'evil.sh'), join(allowed, 'sneaky.sh'));
    // A symlink to the allowed directory is the allowed directory.
    symlinkSync(allowed, join(root, 'alias'));
    const ran: string[] = [];
    const inner: ProcessRunner = {
      spawn: (o: SpawnOptions) => {
        ran.push(o.argv[0] ?? '');
        return ok({ pid: 1, exited: new Promise(() => undefined), killGroup: () => undefined, terminate: () => new Promise(() => undefined) });
      },
      isAlive: () => false,
      signal: () => false,
    };
    const files = new NodeFileSystem();
    const log = createLogger({ node: 't', level: 'silent' });
    const r = restrictCommands(inner, files, [join(root, 'alias')], log);
    const spawn = (argv0: string, path = '') => r.spawn({ argv: [argv0, 'x'], env: { PATH: path } });
    assert.ok(spawn(join(allowed, 'start.sh')).ok);
    assert.ok(spawn('start.sh', `/nonexistent:${allowed}`).ok, 'found on PATH, inside');
    const out = spawn(join(other, 'evil.sh'));
    assert.ok(!out.ok && out.error.kind === 'failed' && /outside the allowed command directories \(command_dirs: /.test(out.error.kind === 'failed' ? out.error.detail : ''));
    assert.ok(!spawn(join(allowed, 'sneaky.sh')).ok, 'a symlink out of the directory is refused');
    assert.ok(!spawn(join(allowed, '..', 'other', 'evil.sh')).ok, '.. out of the directory is refused');
    assert.ok(!spawn('evil.sh', other).ok, 'found on PATH, outside');
    assert.deepEqual(ran, [join(allowed, 'start.sh'), 'start.sh']);
    assert.equal(restrictCommands(inner, files, [], log), inner, 'no list: unrestricted');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
