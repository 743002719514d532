/**
 * One Raft server as an OS process, for the real-process test and `npm run bench:raft`:
 *
 *   tsx bench/raft-node.ts --id n1 --dir /tmp/x/n1 --raft 127.0.0.1:0 --kv 127.0.0.1:0
 *
 * Prints `READY {"raft":"127.0.0.1:port","kv":"127.0.0.1:port"}` once listening. A new node then
 * reads one JSON line `{"bootstrap":[{"id":…,"address":…}]}` from stdin; a restarted node (state on
 * disk) ignores it. KV clients speak the KvService protocol on the kv address.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { createNodePorts } from '../src/runtime/node/index.js';
import { Raft } from '../src/raft/driver/raft.js';
import { RAFT_DEFAULTS } from '../src/raft/config.js';
import { StreamTransport } from '../src/raft/transport/stream-transport.js';
import { KvFsm } from '../simulator/raft/kv.js';
import { KvService } from './kv-service.js';

const { values } = parseArgs({ options: { id: { type: 'string' }, dir: { type: 'string' }, raft: { type: 'string' }, kv: { type: 'string' }, log: { type: 'string' } } });
const { id, dir, raft: raftAddr, kv: kvAddr } = values;
if (!id || !dir || !raftAddr || !kvAddr) {
  console.error('usage: raft-node --id ID --dir DIR --raft HOST:PORT --kv HOST:PORT');
  process.exit(2);
}

const ports = createNodePorts({ nodeName: id, dataDir: dir, logLevel: (values.log as 'info' | undefined) ?? 'warn', logDestination: process.stderr });
const transport = await StreamTransport.listen(ports.stream, raftAddr, ports.clock, ports.logger, ports.metrics, {
  id,
  connectTimeoutMs: RAFT_DEFAULTS.connectTimeoutMs,
  minBackoffMs: RAFT_DEFAULTS.minBackoffMs,
  maxBackoffMs: RAFT_DEFAULTS.maxBackoffMs,
  maxQueued: RAFT_DEFAULTS.maxQueuedPerPeer,
});
const fsm = new KvFsm();
const created = await Raft.create({ id, clock: ports.clock, random: ports.random, store: ports.store, blobs: ports.blobs, transport, fsm, logger: ports.logger, metrics: ports.metrics });
if (!created.ok) {
  console.error(created.error);
  process.exit(1);
}
const raft = created.value;
const kv = await KvService.listen(ports.stream, kvAddr, raft, fsm, ports.logger, ports.metrics, () => process.memoryUsage().rss);
console.log(`READY ${JSON.stringify({ raft: transport.localAddress, kv: kv.address })}`);

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const msg = JSON.parse(line) as { bootstrap?: Array<{ id: string; address: string }> };
  if (msg.bootstrap) void raft.bootstrap(msg.bootstrap).then((r) => console.log(r.ok ? 'BOOTSTRAPPED' : `NOBOOTSTRAP ${r.error}`));
});

const stop = async (): Promise<void> => {
  await raft.shutdown();
  await kv.close();
  await ports.store.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
