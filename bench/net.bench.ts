/**
 * Issue 25's attacks on the listeners between nodes, against the cluster `npm start` runs (three
 * real amfd processes on loopback, sealed with the key the launcher generates): at each of the
 * leader's Raft, rpc and SWIM push-pull ports, CONNECTIONS connections that announce a 16 MiB frame
 * and send half of it (8 MiB) without ever saying hello, all at once; then the same number of
 * plaintext forgeries at its SWIM UDP port: a `dead` of a follower at incarnation 0xFFFFFFFF and the
 * `alive` of a stranger with a Raft address. Measured: the leader's RSS (/proc VmRSS) before, its
 * peak while the attack runs (sampled every 20 ms) and 3 s after; how many attack connections the
 * leader closed; the refusals it counted (its /metrics: stream= the listeners' amfd_stream_events_total,
 * sealed= amf_cluster_unauthenticated_total, swim= swim_packets_dropped_total); members and Raft
 * voters after.
 * Last line: `net connections=… closed=… stream=… sealed=… swim=… rss_before_mb=… rss_peak_mb=…
 *   rss_after_mb=… members_alive=3/3 voters=n1,n2,n3`.
 * Before issue 25 (the probe that filed it, a clear cluster): 20 such frames at the Raft port alone
 * took the leader from 98 MB to 394 MB RSS, not returned afterwards.
 */
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from '../scripts/local-cluster.js';
import { frameHeader } from '../src/runtime/node/framing.js';
import { Xoshiro128 } from '../src/runtime/xoshiro.js';
import { Envelope } from '../src/swim/envelope.js';
import { Keyring } from '../src/swim/keyring.js';
import { assembleBody, encodeMessage } from '../src/swim/messages.js';
import { allActiveOn, leaderOf, sleep, testGroupsConf, waitFor } from '../test/e2e/harness.js';

const NODES = ['n1', 'n2', 'n3'];
const CONNECTIONS = 20;
const ANNOUNCED = 16 * 1024 * 1024;
const SENT = ANNOUNCED / 2;
const MB = 1024 * 1024;
const say = (s: string): void => void process.stdout.write(`${s}\n`);
const round = (x: number): number => Math.round(x * 10) / 10;

function rssMb(pid: number | undefined): number {
  const m = pid === undefined ? null : /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const split = (addr: string): [string, number] => [addr.slice(0, addr.lastIndexOf(':')), Number(addr.slice(addr.lastIndexOf(':') + 1))];

/** A connection that announces ANNOUNCED bytes and sends SENT of them; resolves true when the server closed it. */
function halfSent(addr: string): Promise<boolean> {
  const [host, port] = split(addr);
  return new Promise((resolve) => {
    const s = connect(port, host, () => {
      s.write(frameHeader(ANNOUNCED));
      s.write(Buffer.alloc(SENT, 0x41));
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(true));
    // Not closed by the server within 15 s: count it as held.
    setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 15_000).unref();
  });
}

/** Plaintext SWIM datagrams to `addr`: the forgeries issue 25 found (a max-incarnation dead, a stranger's alive). */
async function forge(addr: string, victim: string): Promise<void> {
  const ring = Keyring.create(Xoshiro128.fromSeed(1), []);
  if (!ring.ok) throw new Error(ring.error);
  const env = new Envelope('', ring.value);
  const [host, port] = split(addr);
  const sock = createSocket('udp4');
  for (let i = 0; i < CONNECTIONS; i++) {
    const msgs = [
      { type: 'dead' as const, incarnation: 0xffffffff, node: victim, from: 'n9' },
      { type: 'alive' as const, incarnation: 1, node: `ghost${i}`, addr: `127.0.0.1:${40000 + i}`, meta: new Uint8Array(0) },
    ];
    const body = env.wrap(assembleBody(msgs.map(encodeMessage)));
    await new Promise<void>((resolve) => sock.send(body, port, host, () => resolve()));
  }
  sock.close();
}

/** The leader's refusal counters, summed over their labels (one connection may count in two: the listener's and the seal's). */
async function refusals(c: LocalCluster, node: string): Promise<Record<string, number>> {
  const r = await fetch(`http://${c.node(node).api}/metrics`, { headers: { authorization: `Bearer ${c.token}` } });
  const lines = (await r.text()).split('\n');
  const sum = (name: string): number =>
    lines.filter((l) => l.startsWith(`${name}{`) && !l.includes('kind="connect-')).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { stream: sum('amfd_stream_events_total'), sealed: sum('amf_cluster_unauthenticated_total'), swim: sum('swim_packets_dropped_total') };
}

const workDir = mkdtempSync(join(tmpdir(), 'amfd-bench-net-'));
writeFileSync(join(workDir, 'groups.conf'), testGroupsConf());
const c = await LocalCluster.prepare({ workDir, nodes: 3, groupsConf: join(workDir, 'groups.conf'), logLevel: 'warn' });
try {
  c.startAll();
  await waitFor('every SI active', 90_000, () => allActiveOn(c, NODES, NODES));
  const leader = (await leaderOf(c, NODES))!;
  const victim = NODES.find((n) => n !== leader)!;
  const pid = c.node(leader).process?.pid;
  await sleep(3000);
  const before = rssMb(pid);
  const refused0 = await refusals(c, leader);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 20);
  const targets = [c.node(leader).raft, c.node(leader).rpc, c.node(leader).swim];
  const closed = (await Promise.all(targets.flatMap((t) => Array.from({ length: CONNECTIONS }, () => halfSent(t))))).filter(Boolean).length;
  await forge(c.node(leader).swim, victim);
  await sleep(3000);
  clearInterval(sampler);
  const after = rssMb(pid);
  const r1 = await refusals(c, leader);
  const refused = Object.entries(r1).map(([k, v]) => `${k}=${v - (refused0[k] ?? 0)}`).join(' ');
  const nodes = await c.get<{ nodes: Array<{ name: string; up: boolean }> }>(leader, '/v1/nodes');
  const st = await c.get<{ raft: { voters: string[] } }>(leader, '/status');
  const alive = NODES.filter((n) => nodes?.nodes.find((x) => x.name === n)?.up).length;
  const strangers = (nodes?.nodes ?? []).filter((x) => !NODES.includes(x.name)).length;
  say(`leader ${leader}: ${targets.length} listeners x ${CONNECTIONS} connections announcing ${ANNOUNCED / MB} MiB, ${SENT / MB} MiB sent each; then ${CONNECTIONS} forged dead(${victim}, 0xFFFFFFFF) + alive(stranger) datagrams`);
  say(`strangers listed: ${strangers}`);
  say(
    `net connections=${targets.length * CONNECTIONS} closed=${closed} ${refused} rss_before_mb=${round(before)} rss_peak_mb=${round(peak)} rss_after_mb=${round(after)} members_alive=${alive}/${NODES.length} voters=${[...(st?.raft.voters ?? [])].sort().join(',')}`,
  );
} finally {
  await c.stop();
  rmSync(workDir, { recursive: true, force: true });
}
