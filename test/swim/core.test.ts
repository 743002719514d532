import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { swimConfig, type SwimConfig } from '../../src/swim/config.js';
import { SwimCore, type CoreOutput, type SwimEvent } from '../../src/swim/core.js';
import { INCARNATION_WINDOW } from '../../src/swim/incarnation.js';
import { suspicionMinMs } from '../../src/swim/lifeguard.js';
import { assembleBody, decodeBody, type SwimMessage } from '../../src/swim/messages.js';

const OVERHEAD = 32;

function config(o: Partial<SwimConfig> = {}): SwimConfig {
  const c = swimConfig('lan', { pushPullIntervalMs: 0, ...o });
  assert.ok(c.ok, c.ok ? '' : c.error);
  return c.value;
}

function core(name = 'me', o: Partial<SwimConfig> = {}, seed = 1): SwimCore {
  return new SwimCore({ name, addr: `${name}:1`, config: config(o), random: Xoshiro128.fromSeed(seed), now: 0, packetOverhead: OVERHEAD });
}

interface Sent {
  to: string;
  msgs: SwimMessage[];
  bytes: number;
}

/** Split a drain into decoded packets and events. */
function split(out: CoreOutput[]): { sent: Sent[]; events: SwimEvent[] } {
  const sent: Sent[] = [];
  const events: SwimEvent[] = [];
  for (const o of out) {
    if (o.kind === 'packet') {
      const body = assembleBody(o.messages);
      const d = decodeBody(body);
      assert.ok(d.ok);
      sent.push({ to: o.to, msgs: d.value, bytes: body.length + OVERHEAD });
    } else if (o.kind === 'event') events.push(o.event);
  }
  return { sent, events };
}

const alive = (node: string, incarnation = 1): SwimMessage => ({ type: 'alive', incarnation, node, addr: `${node}:1`, meta: new Uint8Array(0) });
const kinds = (events: SwimEvent[]) => events.map((e) => `${e.kind} ${e.member.name}`);

/** A core that knows `names` as alive members. */
function withMembers(names: string[], o: Partial<SwimConfig> = {}): SwimCore {
  const c = core('me', o);
  c.handle('x:1', names.map((n) => alive(n)), 0);
  c.drain();
  return c;
}

test('incarnation rules: alive / suspect / dead precedence and the events they raise', () => {
  const c = core();
  c.handle('x:1', [alive('a', 1)], 0);
  assert.deepEqual(kinds(split(c.drain()).events), ['join a']);
  c.handle('x:1', [{ type: 'suspect', incarnation: 0, node: 'a', from: 'b' }], 1);
  assert.equal(c.member('a')?.state, 'alive', 'an older suspicion is ignored');
  c.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'a', from: 'b' }], 2);
  assert.deepEqual(kinds(split(c.drain()).events), ['suspect a']);
  c.handle('x:1', [alive('a', 1)], 3);
  assert.equal(c.member('a')?.state, 'suspect', 'alive must outbid a suspicion with a higher incarnation');
  c.handle('x:1', [alive('a', 2)], 4);
  assert.deepEqual(kinds(split(c.drain()).events), ['alive a']);
  c.handle('x:1', [{ type: 'dead', incarnation: 1, node: 'a', from: 'b' }], 5);
  assert.equal(c.member('a')?.state, 'alive', 'an older death is ignored');
  c.handle('x:1', [{ type: 'dead', incarnation: 2, node: 'a', from: 'b' }], 6);
  assert.deepEqual(kinds(split(c.drain()).events), ['dead a']);
  c.handle('x:1', [{ type: 'suspect', incarnation: 5, node: 'a', from: 'b' }], 7);
  assert.equal(c.member('a')?.state, 'dead', 'a dead member is not suspected');
  c.handle('x:1', [alive('a', 3)], 8);
  assert.deepEqual(kinds(split(c.drain()).events), ['join a'], 'a dead member coming back rejoins');
  c.handle('x:1', [{ type: 'dead', incarnation: 3, node: 'a', from: 'a' }], 9);
  assert.deepEqual(kinds(split(c.drain()).events), ['leave a']);
  assert.equal(c.member('a')?.state, 'left');
});

test('metadata changes raise update; a clashing address for a live member is ignored', () => {
  const c = withMembers(['a']);
  c.handle('x:1', [{ type: 'alive', incarnation: 2, node: 'a', addr: 'a:1', meta: Uint8Array.of(7) }], 1);
  assert.deepEqual(kinds(split(c.drain()).events), ['update a']);
  c.handle('x:1', [{ type: 'alive', incarnation: 3, node: 'a', addr: 'evil:1', meta: Uint8Array.of(7) }], 2);
  assert.equal(c.member('a')?.addr, 'a:1');
  assert.equal(c.stats.ignored, 1);
});

test('refutation: a suspicion or death of ourselves is outbid with a higher incarnation', () => {
  const c = withMembers(['a']);
  assert.equal(c.incarnation, 1);
  c.handle('a:1', [{ type: 'suspect', incarnation: 4, node: 'me', from: 'a' }], 1);
  assert.equal(c.incarnation, 5);
  assert.equal(c.healthScore, 1, 'having to refute raises the local health score');
  c.handle('a:1', [{ type: 'dead', incarnation: 5, node: 'me', from: 'a' }], 2);
  assert.equal(c.incarnation, 6);
  c.handle('a:1', [{ type: 'suspect', incarnation: 2, node: 'me', from: 'a' }], 3);
  assert.equal(c.incarnation, 6, 'stale accusations need no refutation');
  assert.equal(c.member('me')?.state, 'alive');
  // The refutation rides on the next packet we send.
  c.handle('a:1', [{ type: 'ping', seq: 1, target: 'me', source: 'a' }], 4);
  const { sent } = split(c.drain());
  const refutation = sent[0]?.msgs.find((m) => m.type === 'alive' && m.node === 'me');
  assert.ok(refutation?.type === 'alive' && refutation.incarnation === 6);
  assert.equal(c.stats.refutes, 3 - 1);
});

test('a restarted process learns its old incarnation by push-pull and outbids it', () => {
  const c = core();
  c.merge([{ name: 'me', addr: 'me:1', incarnation: 9, state: 'dead', meta: new Uint8Array(0) }], 0);
  assert.equal(c.incarnation, 10);
  // However far the old number is, from the reply of a push-pull it asked for (its join).
  c.merge([{ name: 'me', addr: 'me:1', incarnation: 3_000_000_000, state: 'alive', meta: Uint8Array.of(1) }], 1, true);
  assert.equal(c.incarnation, 3_000_000_001);
});

test('incarnations are u32 serial numbers: an accusation at 0xFFFFFFFF is outbid by 0, which peers take as newer', () => {
  const me = core('me');
  const peer = core('p');
  me.merge([{ name: 'me', addr: 'me:1', incarnation: 0xffff_0000, state: 'alive', meta: new Uint8Array(0) }], 0, true);
  peer.handle('me:1', [alive('me', 0xffff_ffff)], 0);
  me.handle('x:1', [{ type: 'dead', incarnation: 0xffff_ffff, node: 'me', from: 'x' }], 1);
  assert.equal(me.incarnation, 0, 'wrapped, still a u32');
  peer.handle('x:1', [{ type: 'dead', incarnation: 0xffff_ffff, node: 'me', from: 'x' }], 1);
  assert.equal(peer.member('me')?.state, 'dead');
  peer.handle('me:1', [alive('me', me.incarnation)], 2);
  assert.equal(peer.member('me')?.state, 'alive');
  assert.equal(peer.member('me')?.incarnation, 0);
  // Every packet the refuting node sends still decodes (a 2^32 would make every one of them invalid).
  me.handle('x:1', [{ type: 'ping', seq: 1, target: 'me', source: 'x' }], 3);
  assert.ok(split(me.drain()).sent.length > 0);
});

test('accusations and alives beyond the window of what a member reached are ignored and counted', () => {
  const c = withMembers(['a']);
  c.handle('x:1', [{ type: 'dead', incarnation: 1 + INCARNATION_WINDOW + 1, node: 'a', from: 'x' }], 1);
  c.handle('x:1', [alive('a', 2 ** 31)], 1);
  assert.equal(c.member('a')?.state, 'alive');
  assert.equal(c.member('a')?.incarnation, 1);
  c.handle('x:1', [{ type: 'dead', incarnation: 1 + INCARNATION_WINDOW, node: 'a', from: 'x' }], 2);
  assert.equal(c.member('a')?.state, 'dead', 'within the window it is taken');
  // About ourselves, unsolicited: outbidding a far number would leave every peer's window.
  c.handle('x:1', [{ type: 'suspect', incarnation: 2 ** 31, node: 'me', from: 'x' }], 3);
  assert.equal(c.incarnation, 1);
  assert.equal(c.stats.implausible, 3);
});

test('suspicion timeout: max without confirmations, shrinking with independent ones; min with Lifeguard off', () => {
  const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
  for (const lifeguard of [true, false]) {
    const c = withMembers(names, { lifeguard });
    const min = suspicionMinMs(4, 11, 1000);
    c.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'n0', from: 'n1' }], 1000);
    const deadline = 1000 + (lifeguard ? 6 * min : min);
    c.tick(deadline - 1);
    assert.equal(c.member('n0')?.state, 'suspect');
    if (lifeguard) {
      c.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'n0', from: 'n1' }], 2000);
      c.tick(1000 + 4 * min);
      assert.equal(c.member('n0')?.state, 'suspect', 'the same accuser again is no confirmation');
      c.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'n0', from: 'n2' }], 2000);
      c.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'n0', from: 'n3' }], 2000);
      c.tick(1000 + min - 1);
      assert.equal(c.member('n0')?.state, 'suspect');
      c.tick(1000 + min);
    } else {
      c.tick(deadline);
    }
    assert.equal(c.member('n0')?.state, 'dead', `lifeguard ${lifeguard}`);
    assert.equal(c.stats.deadDeclared, 1);
  }
});

test('a refutation arriving in time cancels the suspicion', () => {
  const c = withMembers(['a', 'b', 'c']);
  c.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'a', from: 'b' }], 0);
  c.handle('x:1', [alive('a', 2)], 100);
  c.tick(1_000_000);
  assert.equal(c.member('a')?.state, 'alive');
});

/** Run the core's own timers until `until`, collecting its output. */
function runTo(c: SwimCore, until: number, onPacket?: (s: Sent, now: number) => void): { sent: Sent[]; events: SwimEvent[] } {
  const all = { sent: [] as Sent[], events: [] as SwimEvent[] };
  for (;;) {
    const t = c.nextDeadline();
    if (t > until) return all;
    c.tick(t);
    const r = split(c.drain());
    for (const s of r.sent) onPacket?.(s, t);
    all.sent.push(...r.sent);
    all.events.push(...r.events);
  }
}

test('probe cycle: ping, indirect pings with nack requests after the timeout, then suspicion', () => {
  const c = withMembers(['a', 'b', 'c', 'd']);
  const { sent, events } = runTo(c, 1999);
  const ping = sent.find((s) => s.msgs[0]?.type === 'ping');
  assert.ok(ping, 'a ping went out within one interval');
  const target = ping.to;
  const indirect = sent.filter((s) => s.msgs[0]?.type === 'indirect-ping');
  assert.equal(indirect.length, 3, 'k = 3 helpers');
  for (const s of indirect) {
    assert.notEqual(s.to, target);
    const m = s.msgs[0];
    assert.ok(m?.type === 'indirect-ping' && m.nack && m.targetAddr === target);
  }
  const suspected = events.find((e) => e.kind === 'suspect');
  assert.equal(suspected && `${suspected.member.addr}`, target);
  assert.equal(c.healthScore, 3, 'three expected nacks missing: the prober doubts itself');
});

test('an ack ends the probe; nacks from helpers keep the health score down', () => {
  const c = withMembers(['a', 'b', 'c', 'd']);
  // Answer every ping directly.
  runTo(c, 10_000, (s, now) => {
    const m = s.msgs[0];
    if (m?.type === 'ping') c.handle(s.to, [{ type: 'ack', seq: m.seq }], now + 1);
  });
  assert.equal(c.stats.probeFailures, 0);
  assert.equal(c.healthScore, 0);
  // Now the target is silent but every helper nacks: the target is the problem, not us.
  const d = withMembers(['a', 'b', 'c', 'd']);
  runTo(d, 1999, (s, now) => {
    const m = s.msgs[0];
    if (m?.type === 'indirect-ping') d.handle(s.to, [{ type: 'nack', seq: m.seq }], now + 1);
  });
  assert.equal(d.stats.probeFailures, 1);
  assert.equal(d.stats.nacksReceived, 3);
  assert.equal(d.healthScore, 0);
});

test('the local health score stretches the probe interval', () => {
  const c = withMembers(['a', 'b', 'c', 'd']);
  c.handle('a:1', [{ type: 'suspect', incarnation: 1, node: 'me', from: 'a' }], 0); // refute: score 1
  c.handle('a:1', [{ type: 'suspect', incarnation: 2, node: 'me', from: 'a' }], 0); // score 2
  assert.equal(c.healthScore, 2);
  const pings: number[] = [];
  runTo(c, 20_000, (s, now) => {
    const m = s.msgs[0];
    if (m?.type === 'ping') {
      pings.push(now);
      c.handle(s.to, [{ type: 'ack', seq: m.seq }], now); // each success lowers the score by one
    }
  });
  const gaps = pings.slice(1).map((t, i) => t - (pings[i] as number));
  assert.deepEqual(gaps.slice(0, 3), [3000, 2000, 1000]);
});

test('buddy system: a probe of a suspect carries the suspicion', () => {
  const c = withMembers(['a']);
  c.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'a', from: 'z' }], 0);
  c.drain();
  const { sent } = runTo(c, 1000);
  const ping = sent.find((s) => s.msgs[0]?.type === 'ping');
  const buddy = (s: Sent | undefined) => s?.msgs.some((m) => m.type === 'suspect' && m.node === 'a' && m.from === 'me');
  assert.ok(buddy(ping));
  const off = withMembers(['a'], { lifeguard: false });
  off.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'a', from: 'z' }], 0);
  off.drain();
  const p2 = runTo(off, 1000).sent.find((s) => s.msgs[0]?.type === 'ping');
  assert.ok(p2 && !buddy(p2));
});

test('indirect probe helper: relays the ack, or nacks after its probe timeout', () => {
  const c = withMembers(['a', 't']);
  c.handle('a:1', [{ type: 'indirect-ping', seq: 77, target: 't', targetAddr: 't:1', nack: true, source: 'a' }], 0);
  const ping = split(c.drain()).sent[0];
  assert.equal(ping?.to, 't:1');
  const m = ping?.msgs[0];
  assert.ok(m?.type === 'ping');
  c.handle('t:1', [{ type: 'ack', seq: m.seq }], 10);
  assert.deepEqual(split(c.drain()).sent[0]?.msgs[0], { type: 'ack', seq: 77 });
  c.handle('a:1', [{ type: 'indirect-ping', seq: 78, target: 't', targetAddr: 't:1', nack: true, source: 'a' }], 1000);
  c.drain();
  c.tick(1000 + 500);
  const nack = split(c.drain()).sent.find((s) => s.msgs[0]?.type === 'nack');
  assert.deepEqual(nack?.msgs[0], { type: 'nack', seq: 78 });
  assert.equal(nack?.to, 'a:1');
});

test('piggybacking fills packets up to the byte budget and no further', () => {
  const many = Array.from({ length: 300 }, (_, i) => `member-with-a-longish-name-${i}`);
  const c = core('me', { maxPacketSize: 1400 });
  c.handle('x:1', many.map((n) => alive(n)), 0);
  c.drain();
  const { sent } = runTo(c, 3000);
  assert.ok(sent.length > 0);
  for (const s of sent) assert.ok(s.bytes <= 1400, `packet of ${s.bytes} bytes`);
  const gossip = sent.filter((s) => s.msgs[0]?.type === 'alive');
  assert.ok(gossip.some((s) => s.bytes > 1300), 'gossip packets are filled, not sent nearly empty');
});

test('each update is retransmitted retransmitMult · ceil(log10(N+1)) times', () => {
  const c = withMembers(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']); // N = 10 → 4 · 2 = 8
  assert.equal(c.retransmitLimit(), 8);
  c.handle('x:1', [{ type: 'suspect', incarnation: 1, node: 'a', from: 'b' }], 0);
  c.drain();
  const { sent } = runTo(c, 20_000);
  const copies = sent.flatMap((s) => s.msgs).filter((m) => m.type === 'suspect' && m.node === 'a' && m.from === 'b');
  assert.equal(copies.length, 8);
});

test('graceful leave: left everywhere, no resurrection by stale alive messages', () => {
  const c = withMembers(['a', 'b']);
  c.leave(0);
  assert.deepEqual(kinds(split(c.drain()).events), ['leave me']);
  assert.equal(c.member('me')?.state, 'left');
  c.handle('a:1', [alive('me', 50)], 1);
  assert.equal(c.member('me')?.state, 'left');
  assert.equal(c.leaveSent(), false);
  const { sent } = runTo(c, 2000);
  assert.ok(sent.some((s) => s.msgs.some((m) => m.type === 'dead' && m.node === 'me' && m.from === 'me')));
  assert.equal(c.leaveSent(), true);
  assert.ok(!sent.some((s) => s.msgs[0]?.type === 'ping'), 'a leaving node stops probing');
});

test('metadata: bounded, and a change is a new incarnation', () => {
  const c = core('me', { metaMaxSize: 8 });
  assert.equal(c.setMeta(new Uint8Array(9)).ok, false);
  assert.ok(c.setMeta(Uint8Array.of(1, 2)).ok);
  assert.equal(c.incarnation, 2);
  assert.deepEqual([...(c.member('me')?.meta ?? [])], [1, 2]);
});

test('user messages go to every live member as their own datagram; too large is refused', () => {
  const c = withMembers(['a', 'b', 'c']);
  c.handle('x:1', [{ type: 'dead', incarnation: 1, node: 'c', from: 'a' }], 0);
  c.drain();
  const payload = new Uint8Array(3050).fill(7);
  const r = c.userMessage(payload);
  assert.deepEqual(r, { ok: true, value: 2 });
  const { sent } = split(c.drain());
  assert.deepEqual(sent.map((s) => s.to).sort(), ['a:1', 'b:1']);
  for (const s of sent) assert.deepEqual(s.msgs.length, 1);
  assert.equal(c.userMessage(new Uint8Array(10_000)).ok, false);
  assert.deepEqual(c.userMessage(payload, ['b', 'c', 'nobody']), { ok: true, value: 1 }, 'only live members named in `to`');
  assert.deepEqual(split(c.drain()).sent.map((s) => s.to), ['b:1']);
  c.handle('a:1', [{ type: 'user', from: 'a', payload: Uint8Array.of(1) }], 1);
  assert.deepEqual(c.drain(), [{ kind: 'user', from: 'a', payload: Uint8Array.of(1) }]);
});

test('dead members are gossiped to for a while, then forgotten at a probe-order wrap-around', () => {
  const c = withMembers(['a', 'b'], { gossipToTheDeadMs: 5000 });
  c.handle('x:1', [{ type: 'dead', incarnation: 1, node: 'a', from: 'b' }], 0);
  c.drain();
  const early = runTo(c, 4000).sent;
  assert.ok(early.some((s) => s.to === 'a:1'), 'the dead member still hears gossip');
  runTo(c, 20_000, (s, now) => {
    const m = s.msgs[0];
    if (m?.type === 'ping') c.handle(s.to, [{ type: 'ack', seq: m.seq }], now);
  });
  assert.equal(c.member('a'), undefined);
});
