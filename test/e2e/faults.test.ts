import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { PartitionHook } from './faults.js';
import { createNodePorts } from '../../src/runtime/node/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

it('partition hook: drops datagrams both ways, refuses and closes connections to blocked peers, heals', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'amfd-faults-'));
  const file = join(dir, 'faults.json');
  writeFileSync(file, '[]');
  const hook = new PartitionHook(file);
  const real = createNodePorts({ nodeName: 'a', dataDir: dir, logLevel: 'silent' });
  const ports = hook.wrap(real);
  const a = await ports.datagram.bind('127.0.0.1:0');
  const b = await real.datagram.bind('127.0.0.1:0');
  const gotA: string[] = [];
  const gotB: string[] = [];
  a.onMessage((d) => gotA.push(Buffer.from(d).toString()));
  b.onMessage((d) => gotB.push(Buffer.from(d).toString()));
  const listener = await real.stream.listen('127.0.0.1:0');
  try {
    a.send(b.address, Buffer.from('1'));
    b.send(a.address, Buffer.from('2'));
    const conn = await ports.stream.connect(listener.address, { timeoutMs: 1000 });
    assert.ok(conn.ok);
    let closed = false;
    conn.value.onClose(() => (closed = true));
    await sleep(100);
    assert.deepEqual([gotA, gotB], [['2'], ['1']]);

    writeFileSync(file, JSON.stringify([b.address, listener.address]));
    await sleep(250);
    assert.ok(closed, 'the open connection to a blocked peer is closed');
    a.send(b.address, Buffer.from('3'));
    b.send(a.address, Buffer.from('4'));
    const refused = await ports.stream.connect(listener.address, { timeoutMs: 1000 });
    assert.ok(!refused.ok && refused.error.kind === 'unreachable');
    await sleep(100);
    assert.deepEqual([gotA, gotB], [['2'], ['1']], 'nothing crosses the partition');

    writeFileSync(file, '[]');
    await sleep(250);
    a.send(b.address, Buffer.from('5'));
    await sleep(100);
    assert.deepEqual(gotB, ['1', '5'], 'healed');
    const again = await ports.stream.connect(listener.address, { timeoutMs: 1000 });
    assert.ok(again.ok);
    again.value.close();
  } finally {
    hook.stop();
    await a.close();
    await b.close();
    await listener.close();
    await real.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
