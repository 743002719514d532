import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runScaleCommand, type ScaleFlags } from '../../simulator/scale/command.js';
import { runScale, SCALE_DEFAULTS, scaleConfig } from '../../simulator/scale/scenario.js';

// The CI-sized `amf-sim scale`: correctness only (figures are the benchmark's business, docs/simulator.md).
test('amf-sim scale 8 nodes x 200 SUs: every SI active after the cold start, the crashed node\'s SIs active elsewhere, invariants hold', async () => {
  const r = await runScale({ ...SCALE_DEFAULTS, nodes: 8, sgs: 100, susPerSg: 2 });
  assert.deepEqual(r.violations, []);
  assert.equal(r.sus, 200);
  assert.equal(r.sis, 100);
  assert.ok(r.coldStartMs !== undefined && r.coldStartMs > 0);
  // Group i's active is on node i mod 8: a non-leader node holds about 100 / 8 of them.
  assert.ok(r.victim !== undefined && r.victimSis >= 12, `victim ${r.victim} held ${r.victimSis} SIs`);
  assert.ok(r.failoverMs !== undefined);
  assert.ok(r.logEntries > r.logEntriesColdStart && r.logEntriesColdStart > 0, `log ${r.logEntriesColdStart} then ${r.logEntries}`);
  assert.ok(r.snapshotBytes > 0 && r.leaderCpuS > 0);
});

test('amf-sim scale prints its figures on the last line and exits 1 when an SI is not assigned in time', async () => {
  const flags: ScaleFlags = { seed: 1, nodes: 3, sgs: 3, susPerSg: 2, sisPerSg: 2, agent: 'real', coldStartMax: 60_000, failoverMax: 30_000 };
  const lines: string[] = [];
  assert.equal(await runScaleCommand(flags, (l) => lines.push(l)), 0, lines.join('\n'));
  assert.match(lines.at(-1) ?? '', /^scale nodes=3 sus=6 sis=6 cold_start_virtual_s=\d+\.\d .*failover_virtual_ms=\d+ .*snapshot_kb=\d+ state_mb=\d+\.\d violations=0$/);
  // No virtual time for the cold start: the run must say so, not report figures.
  const short: string[] = [];
  assert.equal(await runScaleCommand({ ...flags, coldStartMax: 1 }, (l) => short.push(l)), 1);
  assert.match(short.join('\n'), /VIOLATION: cold start: \d+ SIs not active after 1 ms/);
  assert.match(short.at(-1) ?? '', /cold_start_virtual_s=none .*failover_virtual_ms=none .*violations=1$/);
});

test('scaleConfig: group i\'s SU j on node (i + j) mod N, every SU and SI named once', () => {
  const text = scaleConfig(['a', 'b', 'c'], 4, 2, 3);
  assert.equal((text.match(/^\tunit \{/gm) ?? []).length, 8);
  assert.equal((text.match(/^\tserviceinstance \{/gm) ?? []).length, 12);
  assert.match(text, /name = g4u1\n\t\tnodes = a\n/);
  assert.match(text, /name = g4u2\n\t\tnodes = b\n/);
});
