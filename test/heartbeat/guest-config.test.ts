import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_DEFAULTS, parseGuestConfig } from '../../src/heartbeat/guest-config.js';

const SAMPLE = join(import.meta.dirname, '..', 'fixtures', 'heartbeat', 'guest_heartbeat.conf');

test("the seed's guest_heartbeat.conf reads unchanged", () => {
  const r = parseGuestConfig(readFileSync(SAMPLE, 'utf8'), SAMPLE);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.config, {
    ...GUEST_DEFAULTS,
    heartbeatIntervalMs: 1000,
    correctiveAction: 'reboot',
    voteMs: 8000,
    shutdownNoticeMs: 8000,
    suspendNoticeMs: 8000,
    resumeNoticeMs: 13_000,
    restartMs: 300_000,
    healthCheckIntervalMs: 30_000,
    healthCheckScript: '/etc/guest-client/heartbeat/sample_health_check_script',
    eventNotificationScript: '/etc/guest-client/heartbeat/sample_event_handling_script',
  });
});

test('keys left out keep the C defaults; quotes of either kind and spaces are trimmed', () => {
  const r = parseGuestConfig(`  HB_INTERVAL = '2000'\nCORRECTIVE_ACTION= "stop"  \n# VOTE=3\n\n`, 'c');
  assert.deepEqual(r.errors, []);
  assert.equal(r.config.heartbeatIntervalMs, 2000);
  assert.equal(r.config.correctiveAction, 'stop');
  assert.equal(r.config.voteMs, 10_000);
  assert.equal(r.config.restartMs, 120_000);
});

test('bad values are errors naming file:line:col and the key; an unknown key is a warning with a suggestion', () => {
  const r = parseGuestConfig(['HB_INTERVAL=1000', 'VOTE=ten', 'CORRECTIVE_ACTION="explode"', 'SHUTDOWN_NOTICES=8', 'garbage'].join('\n'), '/etc/g.conf');
  assert.deepEqual(
    r.errors.map(String),
    [
      '/etc/g.conf:2:6: VOTE: seconds must be a whole number, not "ten"',
      '/etc/g.conf:3:19: CORRECTIVE_ACTION: must be one of "reboot", "stop", "log", not "explode"',
      '/etc/g.conf:5:1: expected KEY=value, got "garbage"',
    ],
  );
  assert.deepEqual(r.warnings.map(String), ['/etc/g.conf:4:1: unknown key SHUTDOWN_NOTICES (did you mean SHUTDOWN_NOTICE?); ignored']);
});

test('an interval below 400 ms is refused, at its line', () => {
  const r = parseGuestConfig('VOTE=1\nHB_INTERVAL=300\n', 'x');
  assert.deepEqual(r.errors.map(String), ['x:2:1: HB_INTERVAL 300 ms is below the minimum heartbeat interval of 400 ms']);
});
