import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LmdbDurableStore } from '../../src/runtime/node/lmdb-store.js';
import { tempDir } from './node-fixtures.js';

const writer = join(import.meta.dirname, 'fixtures', 'lmdb-writer.ts');
const repoRoot = join(import.meta.dirname, '..', '..');

const modes = [
  ['defaults', {}],
  // LMDB is never given a batch: everything the child acknowledged lives only in the log.
  ['LMDB far behind the log', { applyDelayMs: 3_600_000 }],
  // A checkpoint every few batches: kills land in and around them.
  ['constant checkpoints', { checkpointBytes: 8 * 1024 }],
] as const;

for (const [mode, options] of modes) test(`every batch a child reported flushed survives its kill -9, and no batch is torn (${mode})`, async () => {
  const dir = tempDir('lmdb-crash');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, join(dir, 'db'), JSON.stringify(options)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const reported: number[] = [];
    let buf = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) reported.push(Number(l));
        // Kill while it is writing, not at a quiet point: right after a report, the next batch is in flight.
        if (reported.length >= 150) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => resolve());
    });
    assert.equal(await exited, 'SIGKILL', 'the writer must have been killed, not have stopped on its own');
    assert.ok(reported.length >= 150, `writer reported only ${reported.length} batches`);

    const store = new LmdbDurableStore({ path: join(dir, 'db') });
    try {
      const last = reported[reported.length - 1] ?? -1;
      for (const b of reported) {
        for (let i = 0; i < 5; i++) assert.ok(store.get('log', b * 5 + i) !== undefined, `flushed batch ${b} lost entry ${i}`);
      }
      // The batch pointer is at least the last reported batch, and every batch up to it is whole.
      const meta = store.get('meta', 'last');
      assert.ok(meta !== undefined);
      const lastCommitted = Number(new TextDecoder().decode(meta));
      assert.ok(lastCommitted >= last, `meta.last ${lastCommitted} < last reported ${last}`);
      const logKeys = store.range('log').map((e) => e.key);
      assert.deepEqual(logKeys, Array.from({ length: (lastCommitted + 1) * 5 }, (_, i) => i), 'log batches torn or missing');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
