/**
 * HeartbeatHost (the host side of one amfd, folded into the AMF) against real bin/amf-guest
 * processes over unix sockets, ChannelRelay in QEMU's place: a loss and ill health become error
 * reports with the recovery of the guest's corrective action, every state change is published,
 * and the pre-terminate vote asks the guest (a reject is a veto with its reason, an accept is
 * followed by the irrevocable notification, silence is consent). Every wait is for a condition.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { NodeChannelNetwork } from '../../src/runtime/node/channel.js';
import { NodeClock, createNodeRandom } from '../../src/runtime/node/index.js';
import { HeartbeatHost, lifecycleFor, recoveryFor } from '../../src/heartbeat/host.js';
import type { HbStatus } from '../../src/heartbeat/status.js';
import type { Recovery } from '../../src/model/vocabulary.js';
import { ChannelRelay } from './relay.js';
import { setup, silent, startGuest } from './real-guest.js';
import { until } from './wait.js';

interface Seen {
  readonly reports: Array<{ su: string; comp: string; recovery: Recovery; reason: string }>;
  readonly published: Array<{ su: string; comp: string; status: HbStatus; reason: string }>;
  readonly metrics: Registry;
}

function hostOf(t: TestContext): { host: HeartbeatHost; seen: Seen } {
  const seen: Seen = { reports: [], published: [], metrics: new Registry() };
  const host = new HeartbeatHost({
    node: 'n1',
    clock: new NodeClock(),
    random: createNodeRandom(),
    channels: new NodeChannelNetwork(silent),
    logger: silent,
    metrics: seen.metrics,
    reportError: (su, comp, recovery, reason) => seen.reports.push({ su, comp, recovery, reason }),
    publish: (su, comp, status, reason) => seen.published.push({ su, comp, status, reason }),
  });
  t.after(() => host.stop());
  return { host, seen };
}

async function gauge(r: Registry, status: HbStatus): Promise<number> {
  const m = await r.getSingleMetric('amfd_guest_heartbeat_guests')?.get();
  return m?.values.find((v) => v.labels.status === status)?.value ?? 0;
}

const last = (seen: Seen, comp: string): HbStatus | undefined => seen.published.filter((p) => p.comp === comp).at(-1)?.status;

test('corrective actions map to AMF recoveries; lifecycle actions to the seed events', () => {
  assert.equal(recoveryFor('reboot'), 'component-restart');
  assert.equal(recoveryFor('stop'), 'component-failover');
  assert.equal(recoveryFor('log'), undefined);
  assert.deepEqual(lifecycleFor({ action: 'restart', reason: 'admin restart' }), { action: 'reboot', interrupts: true });
  assert.deepEqual(lifecycleFor({ action: 'stop', reason: 'admin lock' }), { action: 'stop', interrupts: true });
  assert.deepEqual(lifecycleFor({ action: 'move', reason: 'admin migrate' }), { action: 'live-migrate', interrupts: true });
  assert.deepEqual(lifecycleFor({ action: 'move', reason: 'admin swap takes it out of service' }), { action: 'stop', interrupts: false });
});

test('a frozen guest (SIGSTOP) is lost after 2 misses: an error report with its corrective action (reboot: component restart); states published and counted; a stopped component is no longer heartbeated', async (t) => {
  const { dir, relay } = await setup(t);
  const { host, seen } = hostOf(t);
  const guest = startGuest(t, dir, 'HB_INTERVAL=1000\nCORRECTIVE_ACTION="reboot"\n', relay.guestPath);
  host.sync([{ su: 'SU1', comp: 'vm', channel: relay.hostPath }]);
  await until('enabled', () => host.status('SU1', 'vm') === 'enabled');
  assert.ok(seen.published.some((p) => p.status === 'enabled'), JSON.stringify(seen.published));
  assert.equal(await gauge(seen.metrics, 'enabled'), 1);

  process.kill(guest.proc.pid!, 'SIGSTOP');
  await until('an error report', () => seen.reports.length === 1);
  assert.deepEqual(seen.reports[0], { su: 'SU1', comp: 'vm', recovery: 'component-restart', reason: 'guest-heartbeat: guest heartbeat lost (no answer to 2 challenges in a row at 1000 ms) (corrective action reboot)' });
  const order = seen.published.map((p) => p.status);
  assert.ok(order.indexOf('missed') >= 0 && order.indexOf('missed') < order.indexOf('lost'), order.join(' '));
  const events = await seen.metrics.getSingleMetric('amfd_guest_heartbeat_events_total')?.get();
  assert.equal(events?.values.find((v) => v.labels.event === 'loss')?.value, 1);

  process.kill(guest.proc.pid!, 'SIGCONT');
  await until('enabled again', () => host.status('SU1', 'vm') === 'enabled');
  host.sync([]);
  assert.equal(host.status('SU1', 'vm'), undefined);
  assert.deepEqual(seen.published.at(-1), { su: 'SU1', comp: 'vm', status: 'disabled', reason: 'the component stopped' });
  assert.equal(seen.reports.length, 1, 'one loss, one report');
});

test('ill health from the health-check script: stop is a component failover, log only logs; both keep heartbeating', async (t) => {
  const { dir, relay } = await setup(t);
  const dir2 = mkdtempSync(join(tmpdir(), 'amf-guest-'));
  const relay2 = new ChannelRelay(join(dir2, 'host.sock'), join(dir2, 'guest.sock'));
  await relay2.start();
  t.after(async () => {
    await relay2.stop();
    rmSync(dir2, { recursive: true, force: true });
  });
  const sick = join(dir, 'health.sh');
  writeFileSync(sick, '#!/bin/sh\necho "disk full"\nexit 1\n');
  chmodSync(sick, 0o755);
  const { host, seen } = hostOf(t);
  startGuest(t, dir, `HB_INTERVAL=1000\nCORRECTIVE_ACTION="stop"\nHEALTH_CHECK_INTERVAL=1\nHEALTH_CHECK_SCRIPT="${sick}"\n`, relay.guestPath);
  startGuest(t, dir2, `HB_INTERVAL=1000\nCORRECTIVE_ACTION="log"\nHEALTH_CHECK_INTERVAL=1\nHEALTH_CHECK_SCRIPT="${sick}"\n`, relay2.guestPath);
  host.sync([
    { su: 'SU1', comp: 'stopper', channel: relay.hostPath },
    { su: 'SU2', comp: 'logger', channel: relay2.hostPath },
  ]);
  await until('the stopper reported', () => seen.reports.some((r) => r.comp === 'stopper'));
  assert.deepEqual(seen.reports.find((r) => r.comp === 'stopper'), { su: 'SU1', comp: 'stopper', recovery: 'component-failover', reason: 'guest-heartbeat: guest reports ill health: disk full (corrective action stop)' });
  await until('the logger published its ill health', () => seen.published.some((p) => p.comp === 'logger' && p.reason.includes('corrective action log: logged only')));
  assert.equal(last(seen, 'logger'), 'unhealthy');
  assert.ok(!seen.reports.some((r) => r.comp === 'logger'), 'log: no error report');
  assert.equal(await gauge(seen.metrics, 'unhealthy'), 2);
});

test('pre-terminate votes: a reject by the event script is a veto with its reason; an accept is followed by the irrevocable notification and misses stop counting; out of service keeps counting; a frozen guest is taken as accept at the vote timeout', async (t) => {
  const { dir, relay } = await setup(t);
  const calls = join(dir, 'calls.log');
  const noFile = join(dir, 'vote-no');
  const script = join(dir, 'event.sh');
  writeFileSync(script, `#!/bin/sh\necho "$1 $2" >> ${calls}\nif [ "$1" = revocable ] && [ -f ${noFile} ]; then echo "standby not in sync"; exit 1; fi\nexit 0\n`);
  chmodSync(script, 0o755);
  const { host, seen } = hostOf(t);
  const guest = startGuest(t, dir, `HB_INTERVAL=1000\nVOTE=2\nSHUTDOWN_NOTICE=2\nEVENT_NOTIFICATION_SCRIPT="${script}"\n`, relay.guestPath);
  host.sync([{ su: 'SU1', comp: 'vm', channel: relay.hostPath }]);
  await until('enabled', () => host.status('SU1', 'vm') === 'enabled');

  assert.equal(await host.preTerminate('SU9', 'other', { action: 'stop', reason: 'admin lock' }), undefined, 'a guest not heartbeated here is not asked');
  writeFileSync(noFile, '');
  assert.deepEqual(await host.preTerminate('SU1', 'vm', { action: 'stop', reason: 'admin lock' }), { by: 'guest-heartbeat', reason: 'the guest rejected stop: standby not in sync' });
  assert.equal(host.status('SU1', 'vm'), 'enabled', 'a vetoed stop changes nothing');
  rmSync(noFile);

  assert.equal(await host.preTerminate('SU1', 'vm', { action: 'move', reason: 'admin swap takes it out of service' }), undefined);
  assert.equal(host.status('SU1', 'vm'), 'enabled', 'out of service: still heartbeating');
  assert.equal(await host.preTerminate('SU1', 'vm', { action: 'stop', reason: 'admin lock' }), undefined);
  assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), ['revocable stop', 'revocable stop', 'irrevocable stop', 'revocable stop', 'irrevocable stop']);
  assert.ok(['enabling', 'disabled'].includes(host.status('SU1', 'vm') ?? ''), 'notified of its stop: no misses counted until it inits again');
  await until('heartbeating again (the guest re-inits when the challenges stop)', () => host.status('SU1', 'vm') === 'enabled');

  process.kill(guest.proc.pid!, 'SIGSTOP');
  assert.equal(await host.preTerminate('SU1', 'vm', { action: 'restart', reason: 'admin restart' }), undefined, 'silence is consent');
  const votes = await seen.metrics.getSingleMetric('amfd_guest_heartbeat_votes_total')?.get();
  const by = (result: string): number => votes?.values.find((v) => v.labels.result === result)?.value ?? 0;
  assert.deepEqual([by('reject'), by('accept'), by('silence')], [1, 2, 1]);
});
