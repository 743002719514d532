/**
 * Real amfd processes on 127.0.0.1 with a keyring (swim.keyring, which LocalCluster, and so
 * `npm start`, generates for every cluster): the cluster forms and fails over as without one, and
 * a process without the key can neither renew a lease nor forward a write.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encode } from '../../src/cluster/codec.js';
import { encodeWire } from '../../src/cluster/wire.js';
import { LocalCluster } from '../../scripts/local-cluster.js';
import { frameHeader } from '../../src/runtime/node/framing.js';
import { allActiveOn, groupsOn, leaderOf, sleep, testGroupsConf, waitFor } from '../e2e/harness.js';

const NODES = ['n1', 'n2', 'n3'];

/** The sum of a counter's samples matching `labels` in a node's /metrics text. */
async function counter(c: LocalCluster, node: string, name: string, labels: string): Promise<number> {
  const r = await fetch(`http://${c.node(node).api}/metrics`, { headers: { authorization: `Bearer ${c.token}` } });
  const text = await r.text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function nodeStates(c: LocalCluster, via: string): Promise<string> {
  const nodes = await c.get<{ nodes: unknown }>(via, '/v1/nodes');
  return JSON.stringify(nodes);
}

describe('amfd cluster of real processes with a keyring', { timeout: 150_000 }, () => {
  let c: LocalCluster;
  let failed = false;

  before(async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'amfd-sealed-'));
    writeFileSync(join(workDir, 'groups.conf'), testGroupsConf());
    c = await LocalCluster.prepare({ workDir, nodes: 3, groupsConf: join(workDir, 'groups.conf'), logLevel: 'info' });
    // Sealed by default: one generated key, the same in every node's configuration.
    const rings = c.nodes.map((n) => (JSON.parse(readFileSync(join(workDir, `${n.name}.json`), 'utf8')) as { swim: { keyring: string[] } }).swim.keyring);
    assert.deepEqual(rings, NODES.map(() => [c.clusterKey]));
    assert.equal(Buffer.from(c.clusterKey, 'base64').length, 32);
    c.startAll();
  });

  after(async () => {
    await c.stop();
    const left = c.strays();
    if (!failed) rmSync(c.o.workDir, { recursive: true, force: true });
    assert.deepEqual(left, [], 'no amfd or component process is left');
  });

  const step = (name: string, fn: () => Promise<void>): Promise<void> =>
    test(name, async () => {
      try {
        await fn();
      } catch (e) {
        failed = true;
        throw e;
      }
    });

  step('forms from cold and assigns every SI, over sealed leases and Raft', async () => {
    await waitFor('every SI active', 40_000, () => allActiveOn(c, NODES, NODES));
    const st = await c.get<{ raft: { voters: string[] } }>((await leaderOf(c, NODES))!, '/status');
    assert.deepEqual([...(st?.raft.voters ?? [])].sort(), NODES);
    assert.ok(!readFileSync(c.node('n1').log, 'utf8').includes('unauthenticated and in clear'), 'no warning: keys are set, binds are loopback');
  });

  step('a renew datagram and a forwarded write from a process without the key are refused and change nothing', async () => {
    const leader = (await leaderOf(c, NODES))!;
    const other = NODES.find((n) => n !== leader)!;
    const rpc = c.node(leader).rpc;
    const [host, port] = [rpc.slice(0, rpc.lastIndexOf(':')), Number(rpc.slice(rpc.lastIndexOf(':') + 1))];
    const nodesBefore = await nodeStates(c, leader);
    const groupsBefore = JSON.stringify(await groupsOn(c, leader));
    // Without sealing, this renewal of a new incarnation would take `other`'s current one down at once.
    const sock = createSocket('udp4');
    const renew = encodeWire({ t: 'renew', node: other, inc: 'ffffffffffff', seq: 1, reports: [], executedThrough: 0 });
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve, reject) => sock.send(renew, port, host, (e) => (e ? reject(e) : resolve())));
    const from = `127.0.0.1:${sock.address().port}`;
    sock.close();
    // And this write would lock the web group.
    const closed = await new Promise<boolean>((resolve) => {
      const s = connect(port, host, () => {
        const body = encode({ type: 'admin', op: 'lock', target: { type: 'sg', name: 'web' } });
        s.write(Buffer.concat([frameHeader(body.length), body]));
      });
      s.on('data', () => resolve(false));
      s.on('close', () => resolve(true));
      s.on('error', () => undefined);
    });
    assert.ok(closed, 'the leader closed the connection without answering');
    await waitFor('the refusals counted', 5000, async () =>
      (await counter(c, leader, 'amf_cluster_unauthenticated_total', 'channel="lease"')) >= 3 && (await counter(c, leader, 'amf_cluster_unauthenticated_total', 'channel="rpc"')) >= 1 ? true : undefined,
    );
    // Counted against the sender: the datagrams by their source address, the stream by its host.
    assert.equal(await counter(c, leader, 'amf_cluster_unauthenticated_total', `channel="lease",reason="datagram",peer="${from}"`), 3);
    assert.ok((await counter(c, leader, 'amf_cluster_unauthenticated_total', 'peer="127.0.0.1"')) >= 1);
    await sleep(1500);
    assert.equal(await nodeStates(c, leader), nodesBefore, 'node incarnations unchanged');
    assert.equal(JSON.stringify(await groupsOn(c, leader)), groupsBefore, 'groups unchanged (web not locked)');
    assert.match(readFileSync(c.node(leader).log, 'utf8'), /refused unauthenticated lease traffic/);
  });

  step('kill -9 of an amfd: its SIs become ACTIVE on the survivors', async () => {
    const placed = await waitFor('every SI active', 10_000, () => allActiveOn(c, NODES, NODES));
    const victim = placed.get('db-main')!;
    const survivors = NODES.filter((n) => n !== victim);
    c.kill(victim);
    const after = await waitFor('SIs on the survivors', 30_000, () => allActiveOn(c, survivors, survivors));
    assert.ok([...after.values()].every((n) => n !== victim));
  });
});
