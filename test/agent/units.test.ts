import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { diffMembers } from '../../src/agent/agent.js';
import { splitCommand } from '../../src/agent/clccli.js';
import { componentHealthcheck, periodicHealthcheck } from '../../src/agent/healthcheck.js';
import { parsePid } from '../../src/agent/monitor.js';
import { ocfAgentPath, ocfMeaning } from '../../src/agent/ocf.js';
import { ClientFrame, decodeFrame, encodeFrame, ServerFrame } from '../../src/agent/protocol.js';
import type { Clock, TimerHandle } from '../../src/runtime/ports/clock.js';

/** A manual clock: timers fire only when advance() passes them. */
class ManualClock implements Clock {
  private t = 0;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  now(): number {
    return this.t;
  }
  wallTime(): number {
    return this.t;
  }
  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer = { at: this.t + delayMs, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => void (timer.live = false) };
  }
  setPeriodic(): TimerHandle {
    throw new Error('not used');
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.t = due.at;
      due.fn();
      await new Promise((r) => setImmediate(r));
    }
    this.t = end;
  }
}

describe('agent: protocol decoding', () => {
  it('never throws on arbitrary bytes or JSON, and always names a reason', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.json().map((j) => new TextEncoder().encode(j))), (bytes) => {
        const client = decodeFrame(bytes, ClientFrame);
        if (!client.ok) assert.ok(client.error.message.length > 0);
        const server = decodeFrame(bytes, ServerFrame);
        if (!server.ok) assert.ok(server.error.message.length > 0);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips every request type', () => {
    const frames: ClientFrame[] = [
      { v: 1, type: 'register', id: 1, comp: 'safComp=a,safSu=b,safSg=c', secret: 's' },
      { v: 1, type: 'healthcheck-start', id: 2, key: 'k', invocation: 'component', recovery: 'component-failover' },
      { v: 1, type: 'response', id: 3, invocation: 9, result: 'failed' },
      { v: 1, type: 'pg-track', id: 4, csi: 'x', flags: 'changes-only' },
    ];
    for (const f of frames) assert.deepEqual(decodeFrame(encodeFrame(f), ClientFrame), { ok: true, value: f });
  });

  it('keeps the id of a frame that fails validation so the error can answer it', () => {
    const r = decodeFrame(new TextEncoder().encode('{"v":1,"type":"register","id":7,"comp":""}'), ClientFrame);
    assert.ok(!r.ok);
    assert.equal(r.error.id, 7);
    assert.match(r.error.message, /'register' frame at 'comp'/);
  });
});

describe('agent: small pure pieces', () => {
  it('parsePid accepts only a plausible pid on the first line', () => {
    assert.equal(parsePid('1234\n'), 1234);
    assert.equal(parsePid('  42 extra'), 42);
    for (const bad of ['', 'abc', '-5', '1', '0', '12.5', '99999999999']) assert.equal(parsePid(bad), undefined, bad);
  });

  it('splitCommand splits on any whitespace', () => {
    assert.deepEqual(splitCommand('  a  b\tc '), ['a', 'b', 'c']);
  });

  it('OCF agent names must be plain path components', () => {
    assert.equal(ocfAgentPath('/usr/lib/ocf', 'heartbeat', 'Dummy'), '/usr/lib/ocf/resource.d/heartbeat/Dummy');
    for (const [p, a] of [['..', 'x'], ['heartbeat', '../../bin/sh'], ['a/b', 'c'], ['.hidden', 'x']] as const) assert.equal(ocfAgentPath('/r', p, a), undefined);
    assert.equal(ocfMeaning(7), 'OCF exit 7 (not running)');
    assert.equal(ocfMeaning(42), 'OCF exit 42 (unknown code)');
  });

  it('diffMembers reports added, removed and changed members', () => {
    const changes = diffMembers(
      [
        { comp: 'a', haState: 'active' },
        { comp: 'b', haState: 'standby' },
      ],
      [
        { comp: 'b', haState: 'active' },
        { comp: 'c', haState: 'standby' },
      ],
    );
    assert.deepEqual(changes, [
      { comp: 'b', haState: 'active', change: 'state-change' },
      { comp: 'c', haState: 'standby', change: 'added' },
      { comp: 'a', haState: 'active', change: 'removed' },
    ]);
  });
});

describe('agent: healthcheck timing (virtual clock)', () => {
  it('periodic: probes every period after the answer; a late answer is a failure, reported once', async () => {
    const clock = new ManualClock();
    let answer: 'ok' | 'hang' = 'ok';
    let probes = 0;
    const failures: string[] = [];
    periodicHealthcheck(
      clock,
      100,
      50,
      () => {
        probes += 1;
        return answer === 'ok' ? Promise.resolve({ healthy: true }) : new Promise(() => {});
      },
      (r) => failures.push(r),
    );
    await clock.advance(99);
    assert.equal(probes, 0, 'the first probe waits a period');
    await clock.advance(1);
    assert.equal(probes, 1);
    await clock.advance(300);
    assert.equal(probes, 4);
    answer = 'hang';
    await clock.advance(100);
    assert.equal(probes, 5);
    assert.equal(failures.length, 0);
    await clock.advance(50);
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /maximum_duration 50 ms/);
    await clock.advance(1000);
    assert.equal(probes, 5, 'a failed healthcheck stops');
    assert.equal(failures.length, 1);
  });

  it('a probe that rejects (a bug) is a reported failure, not an unhandled rejection', async () => {
    const clock = new ManualClock();
    const failures: string[] = [];
    periodicHealthcheck(clock, 100, 50, () => Promise.reject(new Error('boom')), (r) => failures.push(r));
    await clock.advance(100);
    assert.deepEqual(failures, ['the probe failed to run: boom']);
  });

  it('component-invoked: each healthy confirm re-arms the period; silence or FAILED fails', async () => {
    const clock = new ManualClock();
    const failures: string[] = [];
    const hc = componentHealthcheck(clock, 100, (r) => failures.push(r));
    for (let i = 0; i < 5; i++) {
      await clock.advance(90);
      assert.ok(hc.confirm(true));
    }
    assert.equal(failures.length, 0);
    await clock.advance(100);
    assert.equal(failures.length, 1);
    assert.ok(!hc.confirm(true), 'no confirmation expected after the failure');
    const second = componentHealthcheck(clock, 100, (r) => failures.push(r));
    assert.ok(second.confirm(false));
    assert.match(failures[1]!, /FAILED/);
  });
});
