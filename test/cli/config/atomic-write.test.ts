import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, lstatSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../src/cli/config/io.js';

const root = new URL('../../..', import.meta.url).pathname;

/** A syntactically valid, non-canonical groups.conf of several KiB. */
function messyConfig(units: number): string {
  let s = 'group{\n  name=g   # the group\n';
  for (let i = 0; i < units; i++) s += `   unit {  \n name = SU_${i}\n node=n${i % 3}\n  component {\n name = c${i}\n}\n}\n`;
  return `${s}}\n`;
}

function withDir(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'amfctl-atomic-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('writeFileAtomic replaces the file as a whole: a reader of the old file sees all of it, the mode is kept, a symlink stays, no temp file is left', () =>
  withDir(async (dir) => {
    const file = join(dir, 'groups.conf');
    writeFileSync(file, 'old text\n', { mode: 0o640 });
    const before = statSync(file);
    const reader = openSync(file, 'r');
    try {
      await writeFileAtomic(file, 'new text, longer than the old one\n');
      const buf = Buffer.alloc(64);
      const n = readSync(reader, buf, 0, 64, 0);
      // An in-place rewrite would show the reader the new (or a truncated) text.
      assert.equal(buf.subarray(0, n).toString(), 'old text\n');
    } finally {
      closeSync(reader);
    }
    const after = statSync(file);
    assert.notEqual(after.ino, before.ino, 'a new file was renamed over the old one');
    assert.equal(after.mode & 0o7777, 0o640);
    assert.equal(readFileSync(file, 'utf8'), 'new text, longer than the old one\n');

    const link = join(dir, 'link.conf');
    symlinkSync(file, link);
    await writeFileAtomic(link, 'through the link\n');
    assert.ok(lstatSync(link).isSymbolicLink(), 'the symlink is kept');
    assert.equal(readFileSync(file, 'utf8'), 'through the link\n');

    await writeFileAtomic(join(dir, 'fresh.conf'), 'a new file\n');
    assert.equal(readFileSync(join(dir, 'fresh.conf'), 'utf8'), 'a new file\n');
    assert.deepEqual(readdirSync(dir).sort(), ['fresh.conf', 'groups.conf', 'link.conf']);
  }));

test('config fmt --write that runs out of space mid-write leaves the original untouched, no temp file, and names the file', () =>
  withDir((dir) => {
    const file = join(dir, 'groups.conf');
    const text = messyConfig(80);
    assert.ok(text.length > 4096);
    writeFileSync(file, text);
    // RLIMIT_FSIZE of one block: the write fails with EFBIG part-way, like a full disk.
    const r = spawnSync('/bin/sh', ['-c', 'ulimit -f 1; exec "$0" bin/amfctl.js config fmt --write "$1"', process.execPath, file], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`amfctl: cannot write ${file}: EFBIG.*${file} was left unchanged`));
    assert.equal(readFileSync(file, 'utf8'), text, 'the original is byte for byte the same');
    assert.deepEqual(readdirSync(dir), ['groups.conf']);
  }));
