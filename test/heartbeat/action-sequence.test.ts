import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionSequence, type SequenceEffect } from '../../src/heartbeat/action-sequence.js';

function kinds(e: readonly SequenceEffect[]): string[] {
  return e.map((x) => (x.kind === 'notify' ? `notify ${x.eventType} ${x.notificationType}` : x.kind));
}

const opts = { skipVote: false, heartbeating: true, restartSecs: 301 };

test('stop: vote, then the irrevocable notification, then the action', () => {
  const s = new ActionSequence('stop', opts);
  assert.deepEqual(kinds(s.start()), ['notify stop revocable']);
  assert.deepEqual(kinds(s.result('accept', '')), ['notify stop irrevocable']);
  assert.deepEqual(kinds(s.result('complete', '')), ['suspend-monitoring', 'proceed']);
  assert.deepEqual(kinds(s.actionDone(true)), ['done']);
});

test('a reject aborts with the guest reason; nothing else happens', () => {
  const s = new ActionSequence('reboot', opts);
  s.start();
  const e = s.result('reject', 'active without a synced standby');
  assert.deepEqual(e, [{ kind: 'abort', reason: 'active without a synced standby' }]);
  assert.equal(s.current, 'aborted');
  assert.deepEqual(s.actionDone(true), []);
});

test('an error or timeout in the vote is not a reject', () => {
  for (const r of ['timeout', 'error', 'unknown'] as const) {
    const s = new ActionSequence('pause', opts);
    s.start();
    assert.deepEqual(kinds(s.result(r, 'x')), ['notify pause irrevocable'], r);
  }
});

test('recovery skips the vote; a guest that does not heartbeat is neither asked nor told', () => {
  const r = new ActionSequence('reboot', { ...opts, skipVote: true });
  assert.deepEqual(kinds(r.start()), ['notify reboot irrevocable']);
  const q = new ActionSequence('stop', { ...opts, heartbeating: false });
  assert.deepEqual(kinds(q.start()), ['proceed']);
});

test('live migrate: begin voted and notified, end notified once the guest heartbeats again', () => {
  const s = new ActionSequence('live-migrate', opts);
  s.start();
  s.result('accept', '');
  s.result('complete', '');
  assert.deepEqual(s.actionDone(true), [{ kind: 'set-restart-timer', delayMs: 301_000 }]);
  assert.deepEqual(kinds(s.guestEnabled()), ['cancel-restart-timer', 'notify live_migrate_end irrevocable']);
  assert.deepEqual(s.result('complete', ''), [{ kind: 'done', notified: true }]);
});

test('cold migrate end waits for the guest at most restart seconds; unpause and resume are post-notified only', () => {
  const s = new ActionSequence('cold-migrate', opts);
  s.start();
  s.result('accept', '');
  s.result('timeout', '');
  s.actionDone(true);
  assert.deepEqual(s.restartTimeout(), [{ kind: 'done', notified: true }]);
  const u = new ActionSequence('unpause', opts);
  assert.deepEqual(kinds(u.start()), ['proceed']);
  u.actionDone(true);
  assert.deepEqual(kinds(u.guestEnabled()), ['cancel-restart-timer', 'notify unpause irrevocable']);
  const failed = new ActionSequence('resume', opts);
  failed.start();
  assert.deepEqual(failed.actionDone(false), [{ kind: 'done', notified: false }], 'no post-notification of what did not happen');
});

test('an action that only takes the guest out of service notifies it but keeps counting misses', () => {
  const s = new ActionSequence('stop', { ...opts, interrupts: false });
  s.start();
  s.result('accept', '');
  assert.deepEqual(kinds(s.result('complete', '')), ['proceed']);
});
