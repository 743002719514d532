import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';
import { Envelope } from '../../src/swim/envelope.js';
import { Keyring } from '../../src/swim/keyring.js';
import {
  assembleBody,
  decodeBody,
  decodePushPull,
  encodeMessage,
  encodePushPull,
  type SwimMessage,
} from '../../src/swim/messages.js';

const name = fc.string({ minLength: 1, maxLength: 40 });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const address = fc.tuple(name, fc.integer({ min: 1, max: 65535 })).map(([h, p]) => `${h}:${p}`);
const blob = (max: number) => fc.uint8Array({ maxLength: max });

const message: fc.Arbitrary<SwimMessage> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq: u32, target: name, source: name }),
  fc.record({ type: fc.constant('indirect-ping' as const), seq: u32, target: name, targetAddr: address, nack: fc.boolean(), source: name }),
  fc.record({ type: fc.constant('ack' as const), seq: u32 }),
  fc.record({ type: fc.constant('nack' as const), seq: u32 }),
  fc.record({ type: fc.constant('alive' as const), incarnation: u32, node: name, addr: address, meta: blob(64) }),
  fc.record({ type: fc.constant('suspect' as const), incarnation: u32, node: name, from: name }),
  fc.record({ type: fc.constant('dead' as const), incarnation: u32, node: name, from: name }),
  fc.record({ type: fc.constant('user' as const), from: name, payload: blob(4000) }),
);

/** Compare with Uint8Array fields normalised (the decoder hands back Buffers). */
function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(norm);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

test('property: every message survives encode → compound body → decode', () => {
  fc.assert(
    fc.property(fc.array(message, { minLength: 1, maxLength: 30 }), (msgs) => {
      const back = decodeBody(assembleBody(msgs.map(encodeMessage)));
      assert.ok(back.ok, back.ok ? '' : back.error);
      assert.deepEqual(norm(back.value), norm(msgs));
    }),
  );
});

test('property: random bytes never throw and are refused unless they happen to be valid', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = decodeBody(bytes);
      if (r.ok) assert.ok(r.value.length > 0);
      decodePushPull(bytes);
    }),
    { numRuns: 2000 },
  );
});

test('malformed messages are refused with the field named', () => {
  const bad = assembleBody([encodeMessage({ type: 'ping', seq: 1, target: 'a', source: 'b' }).map((b, i) => (i === 1 ? 0xff : b))]);
  assert.equal(decodeBody(bad).ok, false);
  const r = decodeBody(Uint8Array.from([0x91, 0x94, 0x00, 0xa1, 0x61, 0xa1, 0x62, 0xa1, 0x63])); // [[0,'a','b','c']]
  assert.deepEqual(r, { ok: false, error: 'message type 0: bad seq' });
  assert.equal(decodeBody(Uint8Array.from([0x90])).ok, false, 'empty compound');
});

test('push-pull state round-trips and is validated', () => {
  const state = {
    join: true,
    members: [
      { name: 'a', addr: 'a:1', incarnation: 3, state: 'alive' as const, meta: Uint8Array.of(1) },
      { name: 'b', addr: 'b:1', incarnation: 9, state: 'left' as const, meta: new Uint8Array(0) },
    ],
  };
  const back = decodePushPull(encodePushPull(state));
  assert.ok(back.ok);
  assert.deepEqual(norm(back.value), norm(state));
  assert.equal(decodePushPull(encodeMessage({ type: 'ack', seq: 1 })).ok, false);
});

const key = (b: number) => new Uint8Array(32).fill(b);

test('keyring: install / use / remove rules', () => {
  const ring = Keyring.create(Xoshiro128.fromSeed(1), [key(1)]);
  assert.ok(ring.ok);
  const k = ring.value;
  assert.equal(k.install(new Uint8Array(16)).ok, false, 'AES-256 only');
  assert.ok(k.install(key(2)).ok);
  assert.ok(k.install(key(2)).ok, 'installing twice is a no-op');
  assert.equal(k.size, 2);
  assert.equal(k.remove(key(1)).ok, false, 'the primary cannot be removed');
  assert.equal(k.use(key(3)).ok, false, 'only installed keys can become primary');
  assert.ok(k.use(key(2)).ok);
  assert.deepEqual(k.list()[0], key(2));
  assert.ok(k.remove(key(1)).ok);
  assert.equal(k.size, 1);
  assert.equal(Keyring.create(Xoshiro128.fromSeed(1), [new Uint8Array(5)]).ok, false);
});

test('key rotation: install everywhere → use → remove keeps every step decryptable', () => {
  const rnd = Xoshiro128.fromSeed(2);
  const a = Keyring.create(rnd, [key(1)]);
  const b = Keyring.create(rnd, [key(1)]);
  assert.ok(a.ok && b.ok);
  const ea = new Envelope('c', a.value);
  const eb = new Envelope('c', b.value);
  const body = Uint8Array.of(1, 2, 3);
  const roundTrip = (from: Envelope, to: Envelope) => to.unwrap(from.wrap(body));
  assert.ok(roundTrip(ea, eb).ok);
  a.value.install(key(2));
  b.value.install(key(2));
  a.value.use(key(2)); // a encrypts with the new key, b still with the old: both decrypt both.
  assert.ok(roundTrip(ea, eb).ok);
  assert.ok(roundTrip(eb, ea).ok);
  b.value.use(key(2));
  a.value.remove(key(1));
  b.value.remove(key(1));
  assert.ok(roundTrip(ea, eb).ok);
  // A node still on the old key only is now locked out.
  const old = Keyring.create(rnd, [key(1)]);
  assert.ok(old.ok);
  const r = roundTrip(new Envelope('c', old.value), eb);
  assert.equal(r.ok ? 'ok' : r.error.reason, 'decrypt');
});

test('envelope: label, mode and tampering are checked; IVs come from the injected Random', () => {
  const mk = (label: string, keys: Uint8Array[], seed = 3) => {
    const r = Keyring.create(Xoshiro128.fromSeed(seed), keys);
    assert.ok(r.ok);
    return new Envelope(label, r.value);
  };
  const body = Uint8Array.of(9, 9, 9);
  const reason = (r: ReturnType<Envelope['unwrap']>) => (r.ok ? 'ok' : r.error.reason);
  assert.equal(reason(mk('x', []).unwrap(mk('y', []).wrap(body))), 'label');
  assert.equal(reason(mk('x', [key(1)]).unwrap(mk('x', []).wrap(body))), 'plaintext');
  assert.equal(reason(mk('x', []).unwrap(mk('x', [key(1)]).wrap(body))), 'encrypted');
  assert.equal(reason(mk('x', []).unwrap(Uint8Array.of(7, 0, 0))), 'version');
  assert.equal(reason(mk('x', []).unwrap(Uint8Array.of(1))), 'truncated');
  const sealed = mk('x', [key(1)]).wrap(body);
  const flipped = sealed.slice();
  flipped[flipped.length - 1] = (flipped[flipped.length - 1] ?? 0) ^ 1;
  assert.equal(reason(mk('x', [key(1)]).unwrap(flipped)), 'decrypt');
  // The label is authenticated: swapping it (same length) breaks decryption, not just the check.
  const relabelled = sealed.slice();
  relabelled[2] = 'y'.charCodeAt(0);
  assert.equal(reason(mk('y', [key(1)]).unwrap(relabelled)), 'decrypt');
  assert.deepEqual(mk('x', [key(1)], 5).wrap(body), mk('x', [key(1)], 5).wrap(body), 'same seed, same bytes');
  assert.equal(mk('x', [key(1)]).overhead, 3 + 1 + 28);
});

test('member addresses must end in a port of 1..65535', () => {
  const alive = (addr: string) => decodeBody(assembleBody([encodeMessage({ type: 'alive', incarnation: 1, node: 'x', addr, meta: new Uint8Array(0) })])).ok;
  assert.equal(alive('10.0.0.1:7946'), true);
  assert.equal(alive('n3:65535'), true);
  for (const bad of ['10.0.0.1:0', '10.0.0.1:65536', '10.0.0.1', ':7946', '10.0.0.1:', 'x:123456']) assert.equal(alive(bad), false, bad);
  const pp = (addr: string) => decodePushPull(encodePushPull({ join: false, members: [{ name: 'x', addr, incarnation: 1, state: 'alive', meta: new Uint8Array(0) }] })).ok;
  assert.equal(pp('10.0.0.1:1'), true);
  assert.equal(pp('10.0.0.1:0'), false);
});
