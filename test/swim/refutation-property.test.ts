import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addressOf, SwimCluster } from '../../simulator/swim/cluster.js';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { swimConfig } from '../../src/swim/config.js';
import { Envelope } from '../../src/swim/envelope.js';
import { INCARNATION_WINDOW } from '../../src/swim/incarnation.js';
import { Keyring } from '../../src/swim/keyring.js';
import { assembleBody, encodeMessage, encodePushPull, type MemberSnapshot, type SwimMessage } from '../../src/swim/messages.js';

/**
 * Property: no sequence of received packets leaves a live, reachable member permanently dead.
 * Mallory (no key: the cluster runs in clear, the worst case) sends any sequence of alive, suspect,
 * dead and push-pull messages about the members and a stranger, at any incarnation, to anyone;
 * once she stops, within a bounded time every member sees every other alive again.
 * `SWIM_PROPERTY_RUNS` raises the number of runs (npm run fuzz:net).
 */
const NODES = ['n1', 'n2', 'n3', 'n4'];
const RUNS = Number(process.env.SWIM_PROPERTY_RUNS ?? 12);
const MAX = 0xffff_ffff;
const W = INCARNATION_WINDOW;

const incarnation = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 5, MAX, MAX - 1, 2 ** 31, 2 ** 31 + 1, W, W + 1, W + 2, 2 * W + 3),
  fc.integer({ min: 0, max: MAX }),
);
const node = fc.constantFrom(...NODES, 'ghost');
const addr = fc.constantFrom(...NODES.map(addressOf), 'mallory:7946');
const message: fc.Arbitrary<SwimMessage> = fc.oneof(
  fc.record({ type: fc.constant('alive' as const), incarnation, node, addr, meta: fc.uint8Array({ maxLength: 4 }) }),
  fc.record({ type: fc.constant('suspect' as const), incarnation, node, from: node }),
  fc.record({ type: fc.constant('dead' as const), incarnation, node, from: node }),
);
const snapshot: fc.Arbitrary<MemberSnapshot> = fc.record({
  name: node,
  addr,
  incarnation,
  state: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const),
  meta: fc.uint8Array({ maxLength: 4 }),
});
const attack = fc.record({
  to: fc.constantFrom(...NODES),
  atMs: fc.integer({ min: 0, max: 200 }),
  what: fc.oneof(
    fc.record({ kind: fc.constant('packet' as const), messages: fc.array(message, { minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('push-pull' as const), members: fc.array(snapshot, { minLength: 1, maxLength: 4 }) }),
  ),
});

test(`property: after any forged traffic, every live member is alive everywhere again (${RUNS} runs)`, async () => {
  // Shorter forgetting and anti-entropy than lan-fast: the rules are under test, not the timers.
  const config = swimConfig('lan-fast', { gossipToTheDeadMs: 4000, pushPullIntervalMs: 4000 });
  assert.ok(config.ok);
  const keyring = Keyring.create(Xoshiro128.fromSeed(1), []);
  assert.ok(keyring.ok);
  const envelope = new Envelope('', keyring.value);
  await fc.assert(
    fc.asyncProperty(fc.array(attack, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 1_000_000 }), async (attacks, seed) => {
      const c = new SwimCluster({ seed, config: config.value });
      NODES.forEach((n, i) => c.add(n, i === 0 ? [] : ['n1']));
      c.sim.addNode('mallory', () => ({}));
      assert.ok(await c.sim.runUntil(() => c.converged(NODES), 10_000), 'the cluster forms');
      const mallory = c.sim.ports('mallory');
      const socket = await mallory.datagram.bind('mallory:7946');
      for (const a of attacks) {
        await c.sim.runFor(a.atMs);
        if (a.what.kind === 'packet') {
          socket.send(addressOf(a.to), envelope.wrap(assembleBody(a.what.messages.map(encodeMessage))));
        } else {
          const frame = envelope.wrap(encodePushPull({ join: false, members: a.what.members }));
          void mallory.stream.connect(addressOf(a.to), { timeoutMs: 1000 }).then((r) => r.ok && r.value.send(frame));
        }
      }
      // Let the last forgeries land, then bounded recovery: suspicion timeouts, refutation,
      // forgetting and a few push-pull rounds. Alive at Mallory's address does not count.
      await c.sim.runFor(500);
      const right = () => NODES.every((o) => NODES.every((n) => c.list(o)?.member(n)?.addr === addressOf(n)));
      const healed = await c.sim.runUntil(() => c.converged(NODES) && right(), 40_000);
      const views = NODES.flatMap((o) => NODES.map((n) => `${o}:${n}=${c.list(o)?.member(n)?.state ?? 'missing'}@${c.list(o)?.member(n)?.addr}`));
      assert.ok(healed, `not every member alive everywhere 40 s after the attack: ${views.join(' ')}`);
      assert.deepEqual(c.failures(), []);
    }),
    { numRuns: RUNS },
  );
});
