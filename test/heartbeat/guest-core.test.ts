/** The guest client's pure parts: health merge, action rounds, the application registry, the FSM's timers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { GuestHealth, mergeAction } from '../../src/heartbeat/guest-health.js';
import { ActionRound, guestDeadlineMs } from '../../src/heartbeat/guest-actions.js';
import { AppRegistry, type RegistryEffect } from '../../src/heartbeat/app-registry.js';
import { GuestHeartbeatFsm, type GuestEffect } from '../../src/heartbeat/guest-fsm.js';
import { GUEST_DEFAULTS } from '../../src/heartbeat/guest-config.js';
import { encodeMessage } from '../../src/heartbeat/wire.js';
import type { AppFrame } from '../../src/heartbeat/app-protocol.js';

test('merge: stop > reboot > log, none and unknown never win', () => {
  assert.equal(mergeAction('none', 'log'), 'log');
  assert.equal(mergeAction('log', 'reboot'), 'reboot');
  assert.equal(mergeAction('stop', 'reboot'), 'stop');
  assert.equal(mergeAction('reboot', 'none'), 'reboot');
  assert.equal(mergeAction('none', 'unknown'), 'none');
});

test('health: the most severe unhealthy application wins; a healthy set uses the script and the configured action', () => {
  const h = new GuestHealth('reboot');
  assert.deepEqual(h.respond(0, []), { health: 'healthy', correctiveAction: 'reboot', logMsg: '' });
  const apps = [
    { healthy: false, correctiveAction: 'log' as const, logMsg: 'app a slow' },
    { healthy: false, correctiveAction: 'stop' as const, logMsg: 'app b dead' },
    { healthy: true, correctiveAction: 'none' as const, logMsg: '' },
  ];
  assert.deepEqual(h.respond(1000, apps), { health: 'unhealthy', correctiveAction: 'stop', logMsg: 'app b dead' });
  assert.equal(h.respond(2000, apps).correctiveAction, 'none', 'not re-reported within 60 s');
  assert.equal(h.respond(61_001, apps).correctiveAction, 'stop', 're-reported after 60 s');
  h.scriptResult(false, 'disk full');
  assert.deepEqual(h.respond(70_000, []), { health: 'unhealthy', correctiveAction: 'reboot', logMsg: 'disk full' }, 'a different action is reported at once');
});

test('action round: any reject wins with its reason; errors then timeouts next; all fine is accept or complete', () => {
  const r = new ActionRound(1, 'stop', 'revocable', ['script', 'app a', 'app b']);
  assert.equal(r.answer('app a', 'accept', ''), false);
  assert.equal(r.answer('app a', 'reject', 'late double'), false, 'a second answer is ignored');
  r.answer('script', 'reject', 'peer not ready');
  assert.equal(r.answer('app b', 'accept', ''), true);
  assert.deepEqual(r.outcome(), { result: 'reject', logMsg: 'peer not ready' });

  const t = new ActionRound(2, 'stop', 'irrevocable', ['script', 'app a']);
  t.answer('script', 'complete', '');
  t.expire();
  assert.deepEqual(t.outcome(), { result: 'timeout', logMsg: 'Timeout on application and/or script action responses.' });

  const ok = new ActionRound(3, 'pause', 'revocable', ['app a']);
  ok.answer('app a', 'complete', '');
  assert.deepEqual(ok.outcome(), { result: 'accept', logMsg: '' });
  assert.deepEqual(new ActionRound(4, 'resume', 'irrevocable', []).outcome(), { result: 'complete', logMsg: '' }, 'nobody to ask: complete at once');
  assert.equal(guestDeadlineMs(9000), 8000);
  assert.equal(guestDeadlineMs(800), 800);
});

const INIT: AppFrame = { v: 1, type: 'init', name: 'db', heartbeatIntervalMs: 1000, voteSecs: 5, shutdownNoticeSecs: 6, suspendNoticeSecs: 7, resumeNoticeSecs: 8, correctiveAction: 'stop' };

function sends(effects: readonly RegistryEffect[]): string[] {
  return effects.flatMap((e) => (e.kind === 'send' ? [e.frame.type] : []));
}

test('registry: an application missing for 2 × its interval is unhealthy with its corrective action', () => {
  const reg = new AppRegistry(new Xoshiro128([3]));
  const init = reg.frame(1, INIT);
  assert.deepEqual(sends(init), ['init_ack']);
  const ch = reg.timeout(1, 'challenge');
  const c = ch.find((e) => e.kind === 'send');
  assert.ok(c?.kind === 'send' && c.frame.type === 'challenge');
  reg.frame(1, { v: 1, type: 'challenge_response', heartbeatChallenge: c.frame.heartbeatChallenge, healthy: true, correctiveAction: 'none', logMsg: '' });
  assert.deepEqual(reg.health(), [{ healthy: true, correctiveAction: 'none', logMsg: '' }]);
  assert.deepEqual(sends(reg.timeout(1, 'challenge')), ['challenge']);
  assert.deepEqual(sends(reg.timeout(1, 'challenge')), [], 'no second challenge while one is unanswered');
  reg.timeout(1, 'timeout');
  assert.deepEqual(reg.health(), [{ healthy: false, correctiveAction: 'stop', logMsg: 'Application db heartbeat timeout 2000 ms.' }]);
});

test('registry: a crashed application (no final) stays and turns unhealthy; final removes it; the same name replaces a crashed one', () => {
  const reg = new AppRegistry(new Xoshiro128([4]));
  reg.frame(1, INIT);
  reg.closed(1);
  reg.timeout(1, 'timeout');
  assert.equal(reg.health()[0]?.healthy, false);
  reg.frame(2, INIT);
  assert.deepEqual(reg.names, ['db']);
  assert.deepEqual(reg.health(), [{ healthy: true, correctiveAction: 'none', logMsg: '' }]);
  reg.frame(2, { v: 1, type: 'final', logMsg: 'bye' });
  assert.deepEqual(reg.names, []);
});

test('registry: interval under 400 ms and a 17th application are refused', () => {
  const reg = new AppRegistry(new Xoshiro128([5]));
  const slow = reg.frame(1, { ...INIT, heartbeatIntervalMs: 100 });
  assert.ok(slow.some((e) => e.kind === 'send' && e.frame.type === 'init_ack' && !e.frame.accepted));
  for (let i = 0; i < 16; i++) reg.frame(10 + i, { ...INIT, name: `app${i}` });
  const extra = reg.frame(99, { ...INIT, name: 'one-too-many' });
  assert.ok(extra.some((e) => e.kind === 'send' && e.frame.type === 'init_ack' && !e.frame.accepted && e.frame.logMsg.includes('16')));
});

test('registry: each application is asked with its own timeout and answers into the round', () => {
  const reg = new AppRegistry(new Xoshiro128([6]));
  reg.frame(1, INIT);
  const { participants, effects } = reg.notify(42, 'stop', 'irrevocable');
  assert.deepEqual(participants, ['application db']);
  const timer = effects.find((e) => e.kind === 'set-timer');
  assert.ok(timer?.kind === 'set-timer');
  assert.equal(timer.delayMs, 6000, 'its shutdown notice');
  const n = effects.find((e) => e.kind === 'send');
  assert.ok(n?.kind === 'send' && n.frame.type === 'action_notify');
  const wrong = reg.frame(1, { v: 1, type: 'action_response', invocationId: n.frame.invocationId + 1, eventType: 'stop', notificationType: 'irrevocable', voteResult: 'complete', logMsg: '' });
  assert.ok(!wrong.some((e) => e.kind === 'answer'));
  const right = reg.frame(1, { v: 1, type: 'action_response', invocationId: n.frame.invocationId, eventType: 'stop', notificationType: 'irrevocable', voteResult: 'complete', logMsg: '' });
  assert.ok(right.some((e) => e.kind === 'answer' && e.result === 'complete'));
  reg.notify(43, 'stop', 'revocable');
  const late = reg.timeout(1, 'action');
  assert.ok(late.some((e) => e.kind === 'answer' && e.result === 'timeout'));
});

function newFsm(config = GUEST_DEFAULTS): GuestHeartbeatFsm {
  return new GuestHeartbeatFsm({ config, name: 'g', random: new Xoshiro128([7]), health: { respond: () => ({ health: 'healthy', correctiveAction: 'reboot', logMsg: '' }), reset: () => undefined } });
}

function inits(effects: readonly GuestEffect[]): number[] {
  return effects.flatMap((e) => (e.kind === 'send' && e.msg.msgType === 'init' ? [e.msg.invocationId] : []));
}

test('guest fsm: init at once and every 5 s with a new invocation id; an ack of the previous id is accepted', () => {
  const g = newFsm();
  const first = inits(g.channel(0, true));
  assert.equal(first.length, 1);
  const retry = g.timeout(5000, 'init-retry');
  const second = inits(retry);
  assert.equal(second.length, 1);
  assert.notEqual(second[0], first[0]);
  assert.ok(retry.some((e) => e.kind === 'set-timer' && e.timer === 'init-retry' && e.delayMs === 5000));
  const ack = g.receive(5001, encodeMessage({ msgType: 'init_ack', invocationId: first[0] as number }, 1).trim());
  assert.equal(g.current, 'enabled');
  assert.ok(ack.some((e) => e.kind === 'log' && e.msg === 'Guest-Client heartbeat state change from enabling to enabled, event=init-ack.'));
});

test('guest fsm: the challenge timeout is max(2 × interval, 5 s)', () => {
  for (const [interval, expected] of [[1000, 5000], [4000, 8000]] as const) {
    const g = newFsm({ ...GUEST_DEFAULTS, heartbeatIntervalMs: interval });
    const id = inits(g.channel(0, true))[0] as number;
    const e = g.receive(1, encodeMessage({ msgType: 'init_ack', invocationId: id }, 1).trim());
    assert.ok(e.some((x) => x.kind === 'set-timer' && x.timer === 'challenge' && x.delayMs === expected), `interval ${interval}`);
  }
});

test('guest fsm: a challenge timeout right after the guest was descheduled is waived once', () => {
  const g = newFsm();
  const id = inits(g.channel(0, true))[0] as number;
  g.receive(1, encodeMessage({ msgType: 'init_ack', invocationId: id }, 1).trim());
  for (let t = 300; t <= 3000; t += 300) g.tick(t);
  g.tick(4500);
  g.timeout(5001, 'challenge');
  assert.equal(g.current, 'enabled', 'waived: the gap was within the timeout');
  for (let t = 5300; t <= 10_000; t += 300) g.tick(t);
  g.timeout(10_001, 'challenge');
  assert.equal(g.current, 'enabling');
});

test('guest fsm: shutdown sends exit; channel down disables; a new action aborts the one in flight', () => {
  const g = newFsm();
  const id = inits(g.channel(0, true))[0] as number;
  g.receive(1, encodeMessage({ msgType: 'init_ack', invocationId: id }, 1).trim());
  const a1 = g.receive(2, encodeMessage({ msgType: 'action_notify', invocationId: 1, eventType: 'stop', notificationType: 'revocable', timeoutMs: 9000 }, 2).trim());
  assert.ok(a1.some((e) => e.kind === 'action' && e.deadlineMs === 8000));
  const a2 = g.receive(3, encodeMessage({ msgType: 'action_notify', invocationId: 2, eventType: 'stop', notificationType: 'irrevocable', timeoutMs: 9000 }, 3).trim());
  assert.ok(a2.some((e) => e.kind === 'abort-action'));
  assert.deepEqual(g.actionDone(4, 1, 'stop', 'revocable', 'accept', ''), [], 'the replaced action gets no response');
  assert.ok(g.actionDone(5, 2, 'stop', 'irrevocable', 'complete', '').some((e) => e.kind === 'send' && e.msg.msgType === 'action_response'));
  const bye = g.shutdown(6);
  assert.ok(bye.some((e) => e.kind === 'send' && e.msg.msgType === 'exit'));
  assert.equal(g.current, 'initial');
  g.channel(7, true);
  g.channel(8, false);
  assert.equal(g.current, 'disabled');
});
