import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatDuration, parseDuration, parseSeeds, replayCommand } from '../../simulator/args.js';
import { formatFaults, parseFaults } from '../../simulator/faults.js';
import type { Result } from '../../src/util/result.js';

function errorOf<T>(r: Result<T, string>): string {
  assert.ok(!r.ok);
  return r.error;
}

test('seed lists: single, ranges, lists; bad ones are refused with a message', () => {
  assert.deepEqual(parseSeeds('7'), { ok: true, value: [7] });
  assert.deepEqual(parseSeeds('1..4'), { ok: true, value: [1, 2, 3, 4] });
  assert.deepEqual(parseSeeds('3,9..10'), { ok: true, value: [3, 9, 10] });
  for (const bad of ['', 'x', '5..2', '1..', '-1']) assert.equal(parseSeeds(bad).ok, false, bad);
});

test('durations: units, bare milliseconds, and format/parse round trip', () => {
  assert.deepEqual(parseDuration('60s'), { ok: true, value: 60_000 });
  assert.deepEqual(parseDuration('250ms'), { ok: true, value: 250 });
  assert.deepEqual(parseDuration('2m'), { ok: true, value: 120_000 });
  assert.deepEqual(parseDuration('1.5s'), { ok: true, value: 1500 });
  assert.deepEqual(parseDuration('40'), { ok: true, value: 40 });
  assert.equal(parseDuration('soon').ok, false);
  fc.assert(fc.property(fc.integer({ min: 0, max: 1e9 }), (ms) => assert.deepEqual(parseDuration(formatDuration(ms)), { ok: true, value: ms })));
});

test('fault lists: rates, defaults for bare rates, events, errors, canonical text', () => {
  const r = parseFaults('loss=0.1,partition,reorder,crash');
  assert.ok(r.ok);
  assert.equal(r.value.loss, 0.1);
  assert.equal(r.value.reorder, 0.05);
  assert.equal(r.value.partition && r.value.crash, true);
  assert.equal(r.value.pause, false);
  assert.equal(formatFaults(r.value), 'loss=0.1,reorder=0.05,partition,crash');
  const again = parseFaults(formatFaults(r.value));
  assert.deepEqual(again, r);
  const none = parseFaults('none');
  assert.ok(none.ok);
  assert.equal(formatFaults(none.value), 'none');
  assert.match(errorOf(parseFaults('loss=2')), /loss must be a rate/);
  assert.match(errorOf(parseFaults('partition=1')), /takes no value/);
  assert.match(errorOf(parseFaults('meteor')), /unknown fault 'meteor'/);
});

test('replay commands quote what the shell would split', () => {
  assert.equal(
    replayCommand('run', { seed: 7, nodes: 5, duration: '60s', faults: 'loss=0.1,partition', verbose: false, x: undefined }),
    'node bin/amf-sim.js run --seed 7 --nodes 5 --duration 60s --faults loss=0.1,partition',
  );
  assert.equal(replayCommand('swim', { scenario: "a b's", all: true }), `node bin/amf-sim.js swim --scenario 'a b'\\''s' --all`);
});
