import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LmdbDurableStore } from '../../src/runtime/node/lmdb-store.js';
import { encodeRecord, readRecords, WriteAheadLog, type WalBatch } from '../../src/runtime/node/wal.js';
import { tempDir } from './node-fixtures.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const batch = (seq: number, key: string, value: string | null): WalBatch => ({ seq, ops: [['kv', key, value === null ? null : bytes(value)]] });

async function withDir(prefix: string, f: (dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir(prefix);
  try {
    await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Open the store at `path`, run `f` on it, and close it whatever `f` did. */
async function withStore(path: string, f: (s: LmdbDurableStore) => Promise<void> | void): Promise<void> {
  const s = new LmdbDurableStore({ path });
  try {
    await f(s);
  } finally {
    await s.close();
  }
}

/** A store at `path` holding batches 1..n (`k<i>` = `v<i>`), closed: LMDB has them all. */
async function storeWith(path: string, n: number): Promise<void> {
  const s = new LmdbDurableStore({ path });
  for (let i = 1; i <= n; i++) s.write([{ op: 'put', ns: 'kv', key: `k${i}`, value: bytes(`v${i}`) }]);
  await s.flush();
  await s.close();
}

describe('write-ahead log records', () => {
  it('reads back what was appended and synced, in order', async () => {
    await withDir('wal', async (dir) => {
      const path = join(dir, 'log');
      const wal = new WriteAheadLog(path, 0);
      wal.append(batch(1, 'a', '1'));
      wal.append({ seq: 2, ops: [['kv', 7, null], ['other', 'b', bytes('2')]] });
      await wal.sync();
      wal.append(batch(3, 'c', '3'));
      await wal.close(false);
      const r = readRecords(path);
      assert.deepEqual(r.batches.map((b) => b.seq), [1, 2], 'a record appended but never synced is not in the file');
      assert.deepEqual(r.batches[1]!.ops, [['kv', 7, null], ['other', 'b', bytes('2')]]);
      assert.equal(r.validBytes, r.totalBytes);
    });
  });

  it('stops at a torn tail, a flipped bit, or zeros, keeping every whole record before it', async () => {
    await withDir('wal', async (dir) => {
      const path = join(dir, 'log');
      const whole = Buffer.concat([encodeRecord(batch(1, 'a', '1')), encodeRecord(batch(2, 'b', '2'))]);
      const third = encodeRecord(batch(3, 'c', '3'));

      writeFileSync(path, Buffer.concat([whole, third.subarray(0, third.length - 3)]));
      assert.deepEqual(readRecords(path).batches.map((b) => b.seq), [1, 2], 'torn in the body');
      writeFileSync(path, Buffer.concat([whole, third.subarray(0, 5)]));
      assert.deepEqual(readRecords(path).batches.map((b) => b.seq), [1, 2], 'torn in the header');

      const flipped = Buffer.from(third);
      flipped[flipped.length - 1]! ^= 0x10;
      writeFileSync(path, Buffer.concat([whole, flipped, encodeRecord(batch(4, 'd', '4'))]));
      const r = readRecords(path);
      assert.deepEqual(r.batches.map((b) => b.seq), [1, 2], 'a corrupt record ends the log: nothing after it is trusted');
      assert.equal(r.validBytes, whole.length);

      writeFileSync(path, Buffer.concat([whole, Buffer.alloc(4096)]));
      assert.deepEqual(readRecords(path).batches.map((b) => b.seq), [1, 2], 'zeros (preallocated or unwritten blocks)');
      assert.deepEqual(readRecords(join(dir, 'missing')).batches, []);
    });
  });
});

describe('store: replay of the write-ahead log at open', () => {
  it('applies the records LMDB lacks, in order, and appends after them', async () => {
    await withDir('wal-replay', async (dir) => {
      const path = join(dir, 'db');
      await storeWith(path, 3);
      // As a crash leaves it: LMDB through batch 3, the log holding 2..5 (2 and 3 already applied).
      writeFileSync(`${path}.wal`, Buffer.concat([batch(2, 'k2', 'stale'), batch(3, 'k3', null), batch(4, 'k4', 'v4'), { seq: 5, ops: [['kv', 'k1', null], ['kv', 'k5', bytes('v5')]] }].map((b) => encodeRecord(b as WalBatch))));
      await withStore(path, async (s) => {
        assert.equal(text(s.get('kv', 'k2')), 'v2', 'a record at or below LMDB\'s batch is skipped, not applied again');
        assert.equal(text(s.get('kv', 'k3')), 'v3');
        assert.equal(text(s.get('kv', 'k4')), 'v4');
        assert.equal(s.get('kv', 'k1'), undefined, 'a replayed delete');
        assert.equal(text(s.get('kv', 'k5')), 'v5');
        // Numbering goes on after the replayed batches: a later crash replays correctly again.
        s.write([{ op: 'put', ns: 'kv', key: 'k6', value: bytes('v6') }]);
        await s.flush();
        assert.deepEqual(readRecords(`${path}.wal`).batches.map((b) => b.seq), [2, 3, 4, 5, 6], 'kept until a checkpoint, the new batch after them');
      });
      await withStore(path, (again) => {
        assert.equal(text(again.get('kv', 'k6')), 'v6');
      });
    });
  });

  it('ignores a torn tail and keeps the whole records before it', async () => {
    await withDir('wal-replay', async (dir) => {
      const path = join(dir, 'db');
      await storeWith(path, 1);
      const r2 = encodeRecord(batch(2, 'k2', 'v2'));
      const r3 = encodeRecord(batch(3, 'k3', 'v3'));
      writeFileSync(`${path}.wal`, Buffer.concat([r2, r3.subarray(0, r3.length - 1)]));
      await withStore(path, async (s) => {
        assert.equal(text(s.get('kv', 'k2')), 'v2');
        assert.equal(s.get('kv', 'k3'), undefined, 'the torn batch was never acknowledged');
        assert.equal(statSync(`${path}.wal`).size, r2.length, 'the torn tail is cut');
        s.write([{ op: 'put', ns: 'kv', key: 'k3', value: bytes('new') }]);
        await s.flush();
        assert.deepEqual(readRecords(`${path}.wal`).batches.map((b) => b.seq), [2, 3], 'a new batch 3 follows the whole records, readable');
      });
    });
  });

  it('refuses to open on a gap between LMDB and the log, naming the file, and changes nothing', async () => {
    await withDir('wal-replay', async (dir) => {
      const path = join(dir, 'db');
      await storeWith(path, 2);
      const log = Buffer.concat([encodeRecord(batch(5, 'k5', 'v5'))]);
      writeFileSync(`${path}.wal`, log);
      assert.throws(() => new LmdbDurableStore({ path }), (e: Error) => e.message.includes(`${path}.wal`) && /batch 5 where 3 was next/.test(e.message));
      assert.deepEqual(readFileSync(`${path}.wal`), log, 'the log is left for the operator');
    });
  });

  it('checkpoints: the log stays bounded under a long run, and everything survives a reopen', async () => {
    await withDir('wal-checkpoint', async (dir) => {
      const path = join(dir, 'db');
      const s = new LmdbDurableStore({ path, checkpointBytes: 16 * 1024 });
      const value = new Uint8Array(512).fill(3);
      let maxLog = 0;
      for (let i = 0; i < 400; i++) {
        s.write([{ op: 'put', ns: 'log', key: i, value }]);
        if (i % 4 === 3) {
          await s.flush();
          maxLog = Math.max(maxLog, statSync(`${path}.wal`).size);
        }
      }
      await s.flush();
      await s.close();
      assert.equal(statSync(`${path}.wal`).size, 0, 'a cleanly closed store leaves an empty log');
      assert.ok(maxLog < 64 * 1024, `the log grew to ${maxLog} bytes with a 16 KiB checkpoint`);
      await withStore(path, (again) => {
        assert.equal(again.range('log').length, 400);
      });
    });
  });

  it('a log left over from a crash with LMDB far behind (never given the batches) is enough', async () => {
    await withDir('wal-replay', async (dir) => {
      const path = join(dir, 'db');
      await storeWith(path, 1);
      // Appended after the store closed, as if LMDB had been given nothing since batch 1.
      appendFileSync(`${path}.wal`, Buffer.concat(Array.from({ length: 50 }, (_, i) => encodeRecord(batch(i + 2, `k${i + 2}`, `v${i + 2}`)))));
      await withStore(path, (s) => {
        for (let i = 1; i <= 51; i++) assert.equal(text(s.get('kv', `k${i}`)), `v${i}`);
      });
      truncateSync(`${path}.wal`, 0);
    });
  });
});
