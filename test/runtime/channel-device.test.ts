import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { NodeChannelNetwork } from '../../src/runtime/node/channel.js';
import { until } from '../heartbeat/wait.js';

const net = new NodeChannelNetwork(pino({ level: 'silent' }));

test('openDevice: a device whose first read is end-of-file (the host end is not connected) does not open', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chdev-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'empty'), '');
  const r = await net.openDevice(join(dir, 'empty'));
  assert.deepEqual(r, { ok: false, error: `${join(dir, 'empty')}: the host end is not connected` });
});

test('openDevice: polled non-blocking (a FIFO opened read-write stands in for a connected port): writes come back through onData, pause holds reads, close flushes first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'chdev-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fifo = join(dir, 'port');
  execFileSync('mkfifo', [fifo]);
  const r = await net.openDevice(fifo);
  assert.ok(r.ok, 'an empty read (EAGAIN) means the host end is there');
  const c = r.value;
  let got = '';
  const closes: string[] = [];
  c.onData((chunk) => (got += Buffer.from(chunk).toString()));
  c.onClose((i) => closes.push(i.reason));
  c.write('\n{"loop":1}\n');
  await until('read back', () => got === '\n{"loop":1}\n');
  c.pause();
  c.write('held');
  await new Promise((res) => setTimeout(res, 150));
  assert.equal(got, '\n{"loop":1}\n', 'nothing read while paused');
  c.resume();
  await until('read after resume', () => got.endsWith('held'));
  c.write('last');
  c.close();
  await until('closed', () => closes.length === 1);
  assert.deepEqual(closes, ['local']);
  assert.equal(c.write('x'), false);
});
