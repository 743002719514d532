import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineDecoder } from '../../src/util/lines.js';
import {
  decodeLine,
  encodeMessage,
  EVENT_TYPES,
  MAX_MSG_BYTES,
  NOTIFICATION_TYPES,
  RESPONSE_ACTIONS,
  VOTE_RESULTS,
  type HbMessage,
} from '../../src/heartbeat/wire.js';

const enc = new TextEncoder();

test('the encoding is byte for byte what StarlingX writes (keys, order, framing)', () => {
  assert.equal(
    encodeMessage({ msgType: 'challenge_response', heartbeatResponse: 1804289383, heartbeatHealth: 'healthy', correctiveAction: 'none', logMsg: '' }, 42),
    '\n{"version":3,"revision":1,"msg_type":"challenge_response","sequence":42,"heartbeat_response":1804289383,"heartbeat_health":"healthy","corrective_action":"none","log_msg":""}\n',
  );
  assert.equal(
    encodeMessage({ msgType: 'action_notify', invocationId: 7, eventType: 'cold_migrate_begin', notificationType: 'irrevocable', timeoutMs: 9000 }, 3),
    '\n{"version":3,"revision":1,"msg_type":"action_notify","sequence":3,"invocation_id":7,"event_type":"cold_migrate_begin","notification_type":"irrevocable","timeout_ms":9000}\n',
  );
  assert.equal(encodeMessage({ msgType: 'exit', logMsg: 'Exiting...' }, 9), '\n{"version":3,"revision":1,"msg_type":"exit","sequence":9,"log_msg":"Exiting..."}\n');
  assert.equal(encodeMessage({ msgType: 'nack', invocationId: 0, logMsg: 'failed to parse name' }, 1), '\n{"version":3,"revision":1,"msg_type":"nack","sequence":1,"invocation_id":0,"log_msg":"failed to parse name"}\n');
});

test('encoding cuts strings to the C buffers and replaces newlines, so the peer never overflows', () => {
  const line = encodeMessage({ msgType: 'exit', logMsg: 'a\nb' + 'é'.repeat(300) }, 1);
  const d = decodeLine(line.trim());
  assert.ok(d.ok);
  assert.equal(d.value.msg.msgType, 'exit');
  const log = (d.value.msg as { logMsg: string }).logMsg;
  assert.ok(log.startsWith('a b'));
  assert.ok(enc.encode(log).byteLength <= 223, 'fits log_msg[224] with its NUL');
  assert.ok(!log.includes('\uFFFD'), 'no character is split');
});

test('a decoded uint32 written with %d (negative) keeps its 32 bits', () => {
  const d = decodeLine('{"version":3,"revision":1,"msg_type":"challenge","sequence":1,"heartbeat_challenge":-1}');
  assert.ok(d.ok && d.value.msg.msgType === 'challenge');
  assert.equal(d.value.msg.heartbeatChallenge, 0xffffffff);
});

test('an unknown corrective action or vote result decodes as unknown (as the C side maps it)', () => {
  const d = decodeLine('{"version":3,"revision":1,"msg_type":"challenge_response","sequence":1,"heartbeat_response":1,"heartbeat_health":"healthy","corrective_action":"explode","log_msg":""}');
  assert.ok(d.ok && d.value.msg.msgType === 'challenge_response');
  assert.equal(d.value.msg.correctiveAction, 'unknown');
});

test('version 4 is accepted (only older versions are dropped)', () => {
  const d = decodeLine('{"version":4,"revision":0,"msg_type":"exit","sequence":1,"log_msg":"bye"}');
  assert.ok(d.ok);
});

const message: fc.Arbitrary<HbMessage> = fc.oneof(
  fc.record({
    msgType: fc.constant('init' as const),
    invocationId: fc.nat(0x7fffffff),
    name: fc.string({ maxLength: 80 }),
    heartbeatIntervalMs: fc.nat(100_000),
    voteSecs: fc.nat(1000),
    shutdownNoticeSecs: fc.nat(1000),
    suspendNoticeSecs: fc.nat(1000),
    resumeNoticeSecs: fc.nat(1000),
    restartSecs: fc.nat(100_000),
    correctiveAction: fc.constantFrom(...RESPONSE_ACTIONS),
  }),
  fc.record({ msgType: fc.constant('init_ack' as const), invocationId: fc.nat(0x7fffffff) }),
  fc.record({ msgType: fc.constant('exit' as const), logMsg: fc.string({ maxLength: 300 }) }),
  fc.record({ msgType: fc.constant('challenge' as const), heartbeatChallenge: fc.nat(0x7fffffff) }),
  fc.record({
    msgType: fc.constant('challenge_response' as const),
    heartbeatResponse: fc.nat(0x7fffffff),
    heartbeatHealth: fc.constantFrom('healthy', 'unhealthy'),
    correctiveAction: fc.constantFrom(...RESPONSE_ACTIONS),
    logMsg: fc.string({ maxLength: 300 }),
  }),
  fc.record({
    msgType: fc.constant('action_notify' as const),
    invocationId: fc.nat(0x7fffffff),
    eventType: fc.constantFrom(...EVENT_TYPES),
    notificationType: fc.constantFrom(...NOTIFICATION_TYPES),
    timeoutMs: fc.nat(1_000_000),
  }),
  fc.record({
    msgType: fc.constant('action_response' as const),
    invocationId: fc.nat(0x7fffffff),
    eventType: fc.constantFrom(...EVENT_TYPES),
    notificationType: fc.constantFrom(...NOTIFICATION_TYPES),
    voteResult: fc.constantFrom(...VOTE_RESULTS),
    logMsg: fc.string({ maxLength: 300 }),
  }),
  fc.record({ msgType: fc.constant('nack' as const), invocationId: fc.nat(0x7fffffff), logMsg: fc.string({ maxLength: 300 }) }),
);

test('property: every message encodes within 1056 bytes and decodes back (strings as cut for the C buffers)', () => {
  fc.assert(
    fc.property(message, fc.nat(0xffffffff), (m, seq) => {
      const line = encodeMessage(m, seq);
      assert.ok(enc.encode(line).byteLength <= MAX_MSG_BYTES);
      const d = decodeLine(line.trim());
      assert.ok(d.ok, JSON.stringify(d));
      assert.equal(d.value.header.sequence, seq);
      assert.equal(encodeMessage(d.value.msg, seq), line, 'a decoded message re-encodes to the same bytes');
    }),
  );
});

test('property: decodeLine never throws on arbitrary input', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ version: 3, revision: 1, sequence: 1, msg_type: 'init', x: v }))), (s) => {
      decodeLine(s);
    }),
  );
});

test('framing (util/lines LineDecoder at 1056 bytes): a run longer than a message is discarded with its line; the next one is intact', () => {
  const d = new LineDecoder(MAX_MSG_BYTES);
  assert.deepEqual(d.push(enc.encode('\n' + 'x'.repeat(1000))).lines, []);
  const { lines, dropped } = d.push(enc.encode('y'.repeat(100) + '\n{"ok":1}\n'));
  assert.deepEqual({ lines, dropped }, { lines: ['{"ok":1}'], dropped: [{ reason: 'too-long', bytes: 1100 }] });
  const a = encodeMessage({ msgType: 'init_ack', invocationId: 5 }, 1);
  const b = encodeMessage({ msgType: 'challenge', heartbeatChallenge: 6 }, 2);
  const bytes = enc.encode(a + b);
  fc.assert(
    fc.property(fc.array(fc.nat(bytes.byteLength), { maxLength: 10 }), (cuts) => {
      const f = new LineDecoder(MAX_MSG_BYTES);
      const points = [0, ...[...new Set(cuts)].sort((x, y) => x - y), bytes.byteLength];
      const lines: string[] = [];
      for (let i = 0; i + 1 < points.length; i++) lines.push(...f.push(bytes.subarray(points[i], points[i + 1])).lines);
      assert.deepEqual(lines, [a.trim(), b.trim()], 'a message split anywhere comes out whole');
    }),
  );
});
