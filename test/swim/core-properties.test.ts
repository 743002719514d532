import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { swimConfig } from '../../src/swim/config.js';
import { SwimCore } from '../../src/swim/core.js';
import { assembleBody, type SwimMessage } from '../../src/swim/messages.js';

const NAMES = ['me', 'a', 'b', 'c', 'd'];
const OVERHEAD = 32;

const input = fc.oneof(
  fc.record({
    kind: fc.constant('msg' as const),
    msg: fc.oneof(
      fc.record({ type: fc.constant('alive' as const), incarnation: fc.nat(6), node: fc.constantFrom(...NAMES), addr: fc.constant(''), meta: fc.uint8Array({ maxLength: 3 }) }),
      fc.record({ type: fc.constant('suspect' as const), incarnation: fc.nat(6), node: fc.constantFrom(...NAMES), from: fc.constantFrom(...NAMES) }),
      fc.record({ type: fc.constant('dead' as const), incarnation: fc.nat(6), node: fc.constantFrom(...NAMES), from: fc.constantFrom(...NAMES) }),
      fc.record({ type: fc.constant('ack' as const), seq: fc.nat(50) }),
      fc.record({ type: fc.constant('nack' as const), seq: fc.nat(50) }),
      fc.record({ type: fc.constant('ping' as const), seq: fc.nat(50), target: fc.constantFrom(...NAMES), source: fc.constantFrom(...NAMES) }),
    ),
  }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 30_000 }) }),
);

test('property: under any message sequence we never die, incarnations never go back, packets fit the budget', () => {
  const cfg = swimConfig('lan-fast', { maxPacketSize: 600 });
  assert.ok(cfg.ok);
  fc.assert(
    fc.property(fc.array(input, { maxLength: 80 }), fc.integer({ min: 1, max: 1000 }), (inputs, seed) => {
      const c = new SwimCore({ name: 'me', addr: 'me:1', config: cfg.value, random: Xoshiro128.fromSeed(seed), now: 0, packetOverhead: OVERHEAD });
      let now = 0;
      const seen = new Map<string, number>();
      let myInc = c.incarnation;
      for (const i of inputs) {
        if (i.kind === 'advance') {
          const until = now + i.ms;
          while (c.nextDeadline() <= until) {
            now = Math.max(now, c.nextDeadline());
            c.tick(now);
          }
          now = until;
        } else {
          const m: SwimMessage = i.msg.type === 'alive' ? { ...i.msg, addr: `${i.msg.node}:1` } : i.msg;
          c.handle('x:1', [m], now);
        }
        for (const o of c.drain()) {
          if (o.kind === 'packet') assert.ok(assembleBody(o.messages).length + OVERHEAD <= 600, 'packet over budget');
        }
        assert.equal(c.member('me')?.state, 'alive', 'a live node never accepts its own suspicion or death');
        assert.ok(c.incarnation >= myInc);
        myInc = c.incarnation;
        const members = c.allMembers();
        // A member forgotten after gossipToTheDead may come back at any incarnation.
        for (const name of seen.keys()) if (!members.some((m) => m.name === name)) seen.delete(name);
        for (const m of members) {
          assert.ok(m.incarnation >= (seen.get(m.name) ?? 0), `incarnation of ${m.name} went back`);
          seen.set(m.name, m.incarnation);
        }
        assert.ok(c.healthScore >= 0 && c.healthScore < cfg.value.awarenessMaxMultiplier);
      }
    }),
    { numRuns: 300 },
  );
});
