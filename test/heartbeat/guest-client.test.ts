/**
 * Real processes: bin/amf-guest against the host side (HostGuestChannel) over unix sockets, with
 * ChannelRelay standing in for QEMU's virtio-serial channel. No timing is asserted: every wait is
 * for a condition, with a generous limit.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeChannelNetwork } from '../../src/runtime/node/channel.js';
import { NodeClock, createNodeRandom } from '../../src/runtime/node/index.js';
import { HostGuestChannel, type ChannelEvent } from '../../src/heartbeat/host-channel.js';
import type { ChannelRelay } from './relay.js';
import { ROOT, setup, silent, startGuest } from './real-guest.js';
import { until } from './wait.js';

function host(t: TestContext, relay: ChannelRelay): { channel: HostGuestChannel; events: ChannelEvent[] } {
  const channel = new HostGuestChannel({
    id: 'vm-test',
    path: relay.hostPath,
    channels: new NodeChannelNetwork(silent),
    clock: new NodeClock(),
    random: createNodeRandom(),
    logger: silent,
  });
  const events: ChannelEvent[] = [];
  channel.onEvent((e) => events.push(e));
  channel.start();
  t.after(() => channel.stop());
  return { channel, events };
}

const count = (events: readonly ChannelEvent[], kind: ChannelEvent['kind']): number => events.filter((e) => e.kind === kind).length;

test('amf-guest: enables, heartbeats; frozen (SIGSTOP) it is lost after 2 misses and a vote meanwhile is accepted at its timeout; thawed it comes back; SIGTERM exits without a loss', async (t) => {
  const { dir, relay } = await setup(t);
  const { channel, events } = host(t, relay);
  const guest = startGuest(t, dir, 'HB_INTERVAL=1000\nHB_MIN_TIMEOUT=2000\nCORRECTIVE_ACTION="reboot"\nVOTE=1\n', relay.guestPath);
  await until('enabled', () => channel.status === 'enabled');
  await until('the seed log line', () => guest.has('Guest-Client heartbeat state change from enabling to enabled'));
  assert.equal(channel.params?.name, 'vm-test');
  assert.equal(channel.params?.voteSecs, 2, 'VOTE=1 plus the 1 s margin');
  assert.ok(relay.hostText().includes('"msg_type":"challenge"'));

  process.kill(guest.proc.pid!, 'SIGSTOP');
  const vote = channel.notify('stop', 'revocable');
  assert.ok(vote.ok);
  await until('loss', () => count(events, 'loss') === 1);
  const loss = events.find((e) => e.kind === 'loss');
  assert.ok(loss?.kind === 'loss');
  assert.equal(loss.correctiveAction, 'reboot');
  const missIndex = events.findIndex((e) => e.kind === 'status' && e.to === 'missed');
  assert.ok(missIndex >= 0 && missIndex < events.indexOf(loss), 'one miss came first');
  const outcome = await vote.value;
  assert.deepEqual(outcome, { result: 'accept', logMsg: '', source: 'timeout' }, 'silence is consent');

  process.kill(guest.proc.pid!, 'SIGCONT');
  await until('re-enabled after the thaw', () => channel.status === 'enabled');
  const losses = count(events, 'loss');

  guest.proc.kill('SIGTERM');
  await until('exit', () => count(events, 'exit') === 1);
  assert.equal(channel.status, 'disabled');
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(count(events, 'loss'), losses, 'no loss after a graceful exit');
});

test('amf-guest: votes by the event script and an application (any reject wins, with its reason), notifications, ill health from the script and from a silent application', async (t) => {
  const { dir, relay } = await setup(t);
  const { channel, events } = host(t, relay);
  const calls = join(dir, 'calls.log');
  const noFile = join(dir, 'vote-no');
  const sick = join(dir, 'sick');
  const eventScript = join(dir, 'event.sh');
  writeFileSync(eventScript, `#!/bin/sh\necho "$1 $2" >> ${calls}\nif [ "$1" = revocable ] && [ -f ${noFile} ]; then echo "standby not in sync"; echo "second line"; exit 1; fi\nexit 0\n`);
  const healthScript = join(dir, 'health.sh');
  writeFileSync(healthScript, `#!/bin/sh\nif [ -f ${sick} ]; then echo "disk full"; exit 1; fi\nexit 0\n`);
  chmodSync(eventScript, 0o755);
  chmodSync(healthScript, 0o755);
  startGuest(t, dir, `HB_INTERVAL=1000\nCORRECTIVE_ACTION="stop"\nVOTE=4\nSHUTDOWN_NOTICE=4\nHEALTH_CHECK_INTERVAL=1\nHEALTH_CHECK_SCRIPT="${healthScript}"\nEVENT_NOTIFICATION_SCRIPT='${eventScript}'\n`, relay.guestPath);
  await until('enabled', () => channel.status === 'enabled');

  writeFileSync(noFile, '');
  const rejected = channel.notify('stop', 'revocable');
  assert.ok(rejected.ok);
  assert.deepEqual(await rejected.value, { result: 'reject', logMsg: 'standby not in sync', source: 'guest' }, 'the first stdout line is the reason');
  rmSync(noFile);

  const accepted = channel.notify('stop', 'revocable');
  assert.ok(accepted.ok);
  assert.equal((await accepted.value).result, 'accept');
  const notified = channel.notify('stop', 'irrevocable');
  assert.ok(notified.ok);
  assert.equal((await notified.value).result, 'complete');
  const { readFileSync } = await import('node:fs');
  assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), ['revocable stop', 'revocable stop', 'irrevocable stop']);

  t.diagnostic('an application registers through the API; its reject wins over the script accepting');
  const appNo = join(dir, 'app-vote-no');
  const app = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'conf', 'examples', 'guest-heartbeat', 'sample-guest-app.ts')], {
    cwd: ROOT,
    env: { ...process.env, GUEST_HEARTBEAT_API: join(dir, 'api.sock'), SAMPLE_APP_VOTE_NO_FILE: appNo, SAMPLE_APP_UNHEALTHY_FILE: join(dir, 'app-sick') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  t.after(() => {
    if (app.exitCode === null && app.pid !== undefined) {
      process.kill(app.pid, 'SIGCONT');
      app.kill('SIGKILL');
    }
  });
  let appErr = '';
  app.stderr?.on('data', (d: Buffer) => (appErr += d.toString()));
  await until('the sample app registered', () => appErr.includes('registered'));
  writeFileSync(appNo, 'replication lag 40 s\n');
  const appVote = channel.notify('reboot', 'revocable');
  assert.ok(appVote.ok);
  assert.deepEqual(await appVote.value, { result: 'reject', logMsg: 'replication lag 40 s', source: 'guest' });
  rmSync(appNo);

  t.diagnostic('the health-check script fails: unhealthy with the configured action');
  writeFileSync(sick, '');
  await until('unhealthy', () => count(events, 'unhealthy') === 1);
  const u = events.find((e) => e.kind === 'unhealthy');
  assert.ok(u?.kind === 'unhealthy');
  assert.deepEqual([u.correctiveAction, u.logMsg], ['stop', 'disk full']);
  assert.equal(channel.status, 'unhealthy');
  rmSync(sick);
  await until('healthy again', () => channel.status === 'enabled');

  t.diagnostic('the application stops answering (SIGSTOP): after 2 x its interval, unhealthy with its own action');
  process.kill(app.pid!, 'SIGSTOP');
  await until('unhealthy from the application', () => count(events, 'unhealthy') === 2);
  const a = events.filter((e) => e.kind === 'unhealthy').at(-1);
  assert.ok(a?.kind === 'unhealthy');
  assert.deepEqual([a.correctiveAction, a.logMsg], ['reboot', 'Application sample-guest-app heartbeat timeout 2000 ms.']);
  process.kill(app.pid!, 'SIGCONT');
  await until('healthy once the application answers again', () => channel.status === 'enabled');
});

test('amf-guest: a config error names the file, line and key, and the client does not start', async (t) => {
  const { dir, relay } = await setup(t);
  const g = startGuest(t, dir, 'HB_INTERVAL=fast\n', relay.guestPath);
  const code = await new Promise<number | null>((r) => g.proc.on('exit', (c) => r(c)));
  assert.equal(code, 2);
  assert.ok(g.has(`${join(dir, 'guest_heartbeat.conf')}:1:13: HB_INTERVAL: milliseconds must be a whole number, not \\"fast\\"`), g.lines.join('\n'));
});
