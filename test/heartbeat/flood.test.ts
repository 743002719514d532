/**
 * One guest floods its channel (a separate process writing junk, valid-looking messages and
 * oversized lines as fast as it can); the host keeps heartbeating its other guests. Real sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { NodeChannelNetwork } from '../../src/runtime/node/channel.js';
import { NodeClock, createNodeRandom } from '../../src/runtime/node/index.js';
import { HostGuestChannel, type ChannelEvent } from '../../src/heartbeat/host-channel.js';
import { SimGuest } from './sim-guest.js';
import { until } from './wait.js';

const FLOODER = `
const net = require('node:net');
const path = process.argv[2];
const init = JSON.stringify({version:3,revision:1,msg_type:'init',sequence:1,invocation_id:1,name:'flooder',heartbeat_interval_ms:400,vote_secs:1,shutdown_notice_secs:1,suspend_notice_secs:1,resume_notice_secs:1,restart_secs:1,corrective_action:'reboot'});
const junk = Buffer.from(('\\n' + init + '\\n{"version":3,"msg_type":"challenge_response","garbage\\n' + 'x'.repeat(3000) + '\\n[1,2,3]\\n').repeat(16));
net.createServer((s) => {
  s.on('error', () => {});
  const pump = () => { while (s.write(junk)) {} };
  s.on('drain', pump);
  pump();
}).listen(path, () => process.stdout.write('ready\\n'));
`;

test('a flooding guest is kept within its budget; the other guests keep heartbeating', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-flood-'));
  const silent = pino({ level: 'silent' });
  const network = new NodeChannelNetwork(silent);
  const flooderPath = join(dir, 'flood.sock');
  writeFileSync(join(dir, 'flooder.cjs'), FLOODER);
  const flooder = spawn(process.execPath, [join(dir, 'flooder.cjs'), flooderPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const guests = [0, 1, 2, 3].map((i) => new SimGuest(join(dir, `g${i}.sock`), undefined, i + 1));
  const channels: Array<{ channel: HostGuestChannel; events: ChannelEvent[] }> = [];
  t.after(async () => {
    for (const c of channels) c.channel.stop();
    flooder.kill('SIGKILL');
    await Promise.all(guests.map((g) => g.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((r) => flooder.stdout?.once('data', () => r()));
  await Promise.all(guests.map((g) => g.start()));
  for (const path of [flooderPath, ...guests.map((g) => g.path)]) {
    const channel = new HostGuestChannel({ id: path, path, channels: network, clock: new NodeClock(), random: createNodeRandom(), logger: silent });
    const events: ChannelEvent[] = [];
    channel.onEvent((e) => events.push(e));
    channels.push({ channel, events });
    channel.start();
  }
  const [flood, ...honest] = channels;
  await until('the honest guests enabled', () => honest.every((c) => c.channel.status === 'enabled'));
  const before = guests.map((g) => g.responses);
  await until('four more heartbeats from every honest guest', () => guests.every((g, i) => g.responses >= (before[i] ?? 0) + 4), 60_000);
  for (const c of honest) assert.equal(c.events.filter((e) => e.kind === 'loss').length, 0, 'no honest guest lost');
  const drops = new Set(flood!.events.flatMap((e) => (e.kind === 'dropped' ? [e.reason] : [])));
  assert.ok(drops.has('flood'), `the flood was cut: ${[...drops].join(', ')}`);
  assert.ok(drops.has('too-long'), 'the oversized lines were discarded');
});
