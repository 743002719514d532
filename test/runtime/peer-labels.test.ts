import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_PEER_LABELS, OTHER_PEERS, PeerLabels } from '../../src/runtime/peer-labels.js';

test('peer labels: datagrams by address, streams by host; the first MAX_PEER_LABELS keep their own, later ones are "other"', () => {
  const p = new PeerLabels(3);
  assert.equal(p.datagram('10.0.0.1:7946'), '10.0.0.1:7946');
  assert.equal(p.stream('10.0.0.2:51234'), '10.0.0.2');
  assert.equal(p.stream('10.0.0.2:51235'), '10.0.0.2', 'an ephemeral port is not a new peer');
  assert.equal(p.stream('[fe80::1]:4000'), '[fe80::1]');
  assert.equal(p.stream('10.0.0.9:1'), OTHER_PEERS);
  assert.equal(p.datagram('10.0.0.1:7946'), '10.0.0.1:7946', 'a peer seen before keeps its label');
  const flood = new PeerLabels();
  const labels = new Set(Array.from({ length: 10_000 }, (_, i) => flood.datagram(`10.${i >> 8}.${i & 255}.1:7946`)));
  assert.equal(labels.size, MAX_PEER_LABELS + 1);
  assert.ok(labels.has(OTHER_PEERS));
});
