/**
 * Golden transcripts of the v3 protocol between the host core and the guest core (or a hand-written
 * guest): every message type, each limit, the error paths. Each test also asserts the facts that
 * matter, so a regression fails even if someone re-records the transcripts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bench } from './harness.js';

function count(b: Bench, kind: string): number {
  return b.hostEffects.filter((e) => e.kind === kind).length;
}

function sent(b: Bench, msgType: string): number {
  return b.hostEffects.filter((e) => e.kind === 'send' && e.msg.msgType === msgType).length;
}

/** A message as a guest could write it, header first. */
function wire(fields: Record<string, unknown>, header: Record<string, unknown> = { version: 3, revision: 1 }): string {
  return JSON.stringify({ ...header, ...fields });
}

const INIT = {
  msg_type: 'init',
  sequence: 1,
  invocation_id: 12345,
  name: 'vm-raw',
  heartbeat_interval_ms: 1000,
  vote_secs: 9,
  shutdown_notice_secs: 9,
  suspend_notice_secs: 9,
  resume_notice_secs: 14,
  restart_secs: 301,
  corrective_action: 'reboot',
};

/** The challenge the host sent last (to answer it from a hand-written guest). */
function lastChallenge(b: Bench): number {
  const c = b.hostEffects.filter((e) => e.kind === 'send' && e.msg.msgType === 'challenge').at(-1);
  assert.ok(c !== undefined && c.kind === 'send' && c.msg.msgType === 'challenge');
  return c.msg.heartbeatChallenge;
}

test('enable: init, init_ack with the first challenge at once, then a challenge every interval', () => {
  const b = new Bench({ guestConfig: { voteMs: 8000, shutdownNoticeMs: 8000, suspendNoticeMs: 8000, resumeNoticeMs: 13_000, restartMs: 300_000 } });
  b.log('guest_heartbeat.conf as the seed has it: HB_INTERVAL=1000 VOTE=8 SHUTDOWN_NOTICE=8 SUSPEND_NOTICE=8 RESUME_NOTICE=13 RESTART=300');
  b.connect();
  b.advance(3500);
  assert.equal(b.host.status, 'enabled');
  assert.equal(b.guest?.current, 'enabled');
  assert.deepEqual(b.statusChanges(), ['enabling', 'enabled']);
  assert.equal(b.host.params?.voteSecs, 9, 'the guest adds 1 s of propagation margin');
  assert.equal(b.host.params?.resumeNoticeSecs, 14);
  assert.equal(sent(b, 'challenge'), 4, 'one at init, then one per interval');
  b.check('enable');
});

test('frozen guest: a miss, then the loss on the second miss back to back; it comes back after a thaw', () => {
  const b = new Bench();
  b.quiet = true;
  b.connect();
  b.advance(2500);
  b.freeze();
  b.advance(2600);
  assert.equal(count(b, 'loss'), 1);
  assert.equal(b.host.status, 'lost');
  const lossAt = b.out.findIndex((l) => l.includes('LOSS'));
  const missAt = b.out.findIndex((l) => l.includes('Heartbeat Miss'));
  assert.ok(missAt >= 0 && missAt < lossAt, 'one miss is logged before the loss');
  b.log('the guest runs again: its stale answers are late, its own challenge timeout is waived once (it was not scheduled), then it re-inits');
  b.thaw();
  b.advance(12_000);
  assert.equal(b.host.status, 'enabled');
  assert.equal(count(b, 'loss'), 1, 'one loss only');
  b.check('frozen-guest');
});

test('exit: a graceful stop ends heartbeating without a loss', () => {
  const b = new Bench();
  b.connect();
  b.advance(1500);
  b.guestDo(b.guest!.shutdown(b.now));
  b.advance(5000);
  assert.equal(count(b, 'exit'), 1);
  assert.equal(count(b, 'loss'), 0);
  assert.equal(b.host.status, 'disabled');
  assert.equal(b.host.serverState, 'waiting_init');
  b.check('exit');
});

test('vote rejected: the guest answers the revocable stop with reject and its reason', () => {
  const b = new Bench({ script: { answer: (event, type) => (type === 'revocable' && event === 'stop' ? { result: 'reject', logMsg: 'standby is not in sync', afterMs: 200 } : { result: 'complete', logMsg: '', afterMs: 0 }) } });
  b.connect();
  b.advance(1500);
  b.notify('stop', 'revocable');
  b.advance(500);
  const r = b.hostEffects.find((e) => e.kind === 'action-result');
  assert.ok(r !== undefined && r.kind === 'action-result');
  assert.equal(r.result, 'reject');
  assert.equal(r.logMsg, 'standby is not in sync');
  assert.equal(r.source, 'guest');
  b.check('vote-reject');
});

test('vote accepted, then the irrevocable stop notification completes', () => {
  const b = new Bench();
  b.connect();
  b.advance(1500);
  b.notify('stop', 'revocable');
  b.advance(100);
  b.notify('stop', 'irrevocable');
  b.advance(100);
  const results = b.hostEffects.flatMap((e) => (e.kind === 'action-result' ? [`${e.notificationType}:${e.result}`] : []));
  assert.deepEqual(results, ['revocable:accept', 'irrevocable:complete']);
  const notify = b.hostEffects.find((e) => e.kind === 'send' && e.msg.msgType === 'action_notify' && e.msg.notificationType === 'irrevocable');
  assert.ok(notify !== undefined && notify.kind === 'send' && notify.msg.msgType === 'action_notify');
  assert.equal(notify.msg.timeoutMs, 11_000, 'shutdown notice (10 s + 1 s margin)');
  b.check('notify-stop');
});

test('silent guest: no answer to the vote counts as accept at the vote timeout', () => {
  const b = new Bench({ script: { answer: () => 'silent' } });
  b.connect();
  b.advance(1500);
  b.notify('reboot', 'revocable');
  b.advance(10_999);
  assert.equal(count(b, 'action-result'), 0, 'nothing before the timeout');
  b.advance(2);
  const r = b.hostEffects.find((e) => e.kind === 'action-result');
  assert.ok(r !== undefined && r.kind === 'action-result');
  assert.equal(r.result, 'accept');
  assert.equal(r.source, 'timeout');
  b.check('vote-silent');
});

test('ill health: unhealthy with reboot is reported once, repeats within 60 s carry none, healthy again clears it', () => {
  const b = new Bench();
  b.connect();
  b.advance(1500);
  b.log('the health-check script fails');
  b.guestHealth.scriptResult(false, 'database not answering');
  b.advance(3000);
  assert.equal(b.host.status, 'unhealthy');
  assert.equal(count(b, 'unhealthy'), 1, 'reported once');
  b.advance(60_000);
  assert.equal(count(b, 'unhealthy'), 2, 're-reported after 60 s');
  b.guestHealth.scriptResult(true, '');
  b.advance(1000);
  assert.equal(b.host.status, 'enabled');
  b.quiet = true;
  b.check('unhealthy');
});

test('nack: unknown msg_type, a missing field, a wrong invocation id; a guest nack is never answered', () => {
  const b = new Bench({ withGuest: false });
  b.connect();
  b.guestSends(wire({ msg_type: 'hello', sequence: 1 }));
  b.guestSends(wire({ ...INIT, heartbeat_interval_ms: undefined }));
  b.guestSends(wire({ msg_type: 'challenge', sequence: 2, heartbeat_challenge: 5 }));
  b.guestSends(wire({ msg_type: 'nack', sequence: 3, invocation_id: 0, log_msg: 'who are you' }));
  b.guestSends(wire(INIT));
  b.advance(10);
  b.guestSends(wire({ msg_type: 'challenge_response', sequence: 4, heartbeat_response: lastChallenge(b), heartbeat_health: 'healthy', corrective_action: 'none', log_msg: '' }));
  b.advance(10);
  b.notify('suspend', 'revocable');
  b.guestSends(wire({ msg_type: 'action_response', sequence: 5, invocation_id: 1, event_type: 'suspend', notification_type: 'revocable', vote_result: 'accept', log_msg: '' }));
  b.advance(10);
  const nacks = b.hostEffects.flatMap((e) => (e.kind === 'send' && e.msg.msgType === 'nack' ? [e.msg.logMsg] : []));
  assert.deepEqual(nacks, ['unsupported message type: hello', 'failed to parse heartbeat_interval_ms', 'unsupported message type: challenge', nacks[3]]);
  assert.match(nacks[3] ?? '', /^Invocation id mismatch\. Received: 1 expect: \d+$/);
  b.check('nack');
});

test('limits and drops: version below 3, malformed JSON, a fragment, a short line; name and log_msg cut to their buffers', () => {
  const b = new Bench({ withGuest: false });
  b.connect();
  b.guestSends(wire(INIT, { version: 2, revision: 1 }));
  b.guestSends('{"version":3,"revision":1,"msg_type":"init","sequence":');
  b.guestSends('{"version":3 "revision":1, this is not json at all}');
  b.guestSends('{"version":3}');
  b.guestSends('[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]');
  b.advance(10);
  assert.equal(b.host.serverState, 'waiting_init', 'none of them was an init');
  assert.deepEqual(
    b.hostEffects.flatMap((e) => (e.kind === 'dropped' ? [e.reason] : [])),
    ['old-version', 'malformed-json', 'malformed-json', 'too-short', 'not-object'],
  );
  b.log('a 100-character name is cut to 63 bytes (name[64]); an interval below 400 ms is raised');
  b.guestSends(wire({ ...INIT, name: 'n'.repeat(100), heartbeat_interval_ms: 100 }));
  b.advance(10);
  assert.equal(b.host.params?.name, 'n'.repeat(63));
  assert.equal(b.host.params?.intervalMs, 400);
  assert.equal(b.host.params?.requestedIntervalMs, 100);
  b.log('an unhealthy answer with a 300-byte log_msg is cut to 223 bytes (log_msg[224])');
  b.guestSends(wire({ msg_type: 'challenge_response', sequence: 2, heartbeat_response: lastChallenge(b), heartbeat_health: 'unhealthy', corrective_action: 'stop', log_msg: 'x'.repeat(300) }));
  b.advance(10);
  const u = b.hostEffects.find((e) => e.kind === 'unhealthy');
  assert.ok(u !== undefined && u.kind === 'unhealthy');
  assert.equal(u.logMsg.length, 223);
  assert.equal(u.correctiveAction, 'stop');
  b.check('limits');
});

test('a wrong challenge value is ignored: the interval passes as a miss, the next as the loss', () => {
  const b = new Bench({ withGuest: false });
  b.connect();
  b.guestSends(wire(INIT));
  b.advance(10);
  for (let i = 0; i < 2; i++) {
    b.guestSends(wire({ msg_type: 'challenge_response', sequence: 2 + i, heartbeat_response: (lastChallenge(b) + 1) & 0x7fffffff, heartbeat_health: 'healthy', corrective_action: 'none', log_msg: '' }));
    b.advance(1000);
  }
  assert.equal(count(b, 'loss'), 1);
  assert.equal(b.hostEffects.filter((e) => e.kind === 'log' && e.msg.startsWith('challenge secret mismatch')).length, 1, 'the mismatch warning is throttled');
  b.check('wrong-challenge');
});

test('an init while heartbeating (the guest client restarted): back to waiting_init, the next init is acknowledged', () => {
  const b = new Bench();
  b.connect();
  b.advance(2500);
  b.log('a second guest client starts on the same channel and sends its init');
  b.guestSends(wire({ ...INIT, invocation_id: 777 }));
  b.advance(10);
  assert.equal(b.host.serverState, 'waiting_init');
  assert.equal(sent(b, 'init_ack'), 1, 'not acknowledged');
  b.guestSends(wire({ ...INIT, invocation_id: 778, sequence: 2 }));
  b.advance(10);
  assert.equal(sent(b, 'init_ack'), 2);
  assert.equal(b.host.params?.invocationId, 778);
  b.check('unexpected-init');
});

test('channel closed and reopened; no heartbeating 120 s after connecting asks for a reconnect', () => {
  const b = new Bench({ withGuest: false });
  b.connect();
  b.advance(120_000);
  assert.equal(count(b, 'reconnect'), 1);
  b.disconnect();
  assert.equal(b.host.status, 'disabled');
  assert.equal(b.host.notify('stop', 'revocable').ok, false, 'nothing to vote with');
  b.check('reconnect');
});

test('a vote in flight when the channel closes resolves as silence', () => {
  const b = new Bench({ script: { answer: () => 'silent' } });
  b.connect();
  b.advance(1500);
  b.notify('live_migrate_begin', 'revocable');
  b.advance(100);
  b.disconnect();
  const r = b.hostEffects.find((e) => e.kind === 'action-result');
  assert.ok(r !== undefined && r.kind === 'action-result');
  assert.equal(r.result, 'accept');
  assert.equal(r.source, 'disconnected');
  b.check('vote-disconnected');
});
