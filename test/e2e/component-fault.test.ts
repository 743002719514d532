/**
 * Real amfd processes (issue 24 "Must show"): the SA-aware counter service cannot take its port on
 * any node (this test holds it, as a second demo cluster would). Its CSI set active fails on every
 * node it is tried on; the blast-radius rules disable the counter SUs for repair with the reason,
 * no node is disabled, and the unrelated web group stays assigned. Once the port is free, `amfctl
 * admin repair` brings the counter back and it serves on that port.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { GroupView, NodeView } from '../../src/api/backend.js';
import { freePort, LocalCluster, ROOT } from '../../scripts/local-cluster.js';
import { clusterSteps, groupsOn, leaderOf, sleep, stopTestCluster, testGroupsConf, waitFor } from './harness.js';

const NODES = ['n1', 'n2', 'n3'];
const COUNTER = `/bin/sh ${join(ROOT, 'conf/examples/counter-service/counter-service')}`;

function counterUnit(name: string, nodes: string): string {
  return `\tunit {\n\t\tname = ${name}\n\t\tnodes = ${nodes}\n\t\tcomponent {\n\t\t\tname = counter\n\t\t\tcomptype = sa_aware\n\t\t\tcommand = ${COUNTER}\n\t\t\tinstantiate_timeout = 60000\n\t\t\trecovery_on_error = component-failover\n\t\t\tcsi_type_name {\n\t\t\t\tname = counter_type\n\t\t\t}\n\t\t}\n\t}\n`;
}

/** The e2e web and db groups, and the demo's 2N counter on `port`. */
function groupsConf(port: number): string {
  const si = `\tserviceinstance {\n\t\tname = counter_si\n\t\tcsi_descriptor {\n\t\t\tcsi_name = counter_csi\n\t\t\ttype_name = counter_type\n\t\t\tname_value {\n\t\t\t\tname = port\n\t\t\t\tvalue = ${port}\n\t\t\t}\n\t\t}\n\t}\n`;
  return `${testGroupsConf()}group {\n\tname = counter\n\tmodel = 2n\n${counterUnit('counter_a', 'n1 n2 n3')}${counterUnit('counter_b', 'n2 n3 n1')}${si}}\n`;
}

/** Listen on the port (and drop whatever connects: the standby's follower polls it). */
function hold(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((sock) => sock.destroy());
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

describe('a component failing on every node takes down only itself (real processes)', { timeout: 420_000 }, () => {
  let c: LocalCluster;
  let port = 0;
  let blocker: Server | undefined;
  /** Every node seen disabled by any node's view while the fault lasts. */
  const disabledNodes = new Set<string>();
  let watching = true;
  let watcher: Promise<void> = Promise.resolve();
  const { run, step } = clusterSteps();

  before(async () => {
    port = await freePort();
    blocker = await hold(port);
    const workDir = mkdtempSync(join(tmpdir(), 'amfd-e2e-compfault-'));
    const groups = join(workDir, 'groups.conf');
    writeFileSync(groups, groupsConf(port));
    c = await LocalCluster.prepare({ workDir, nodes: 3, groupsConf: groups, logLevel: 'info' });
    c.startAll();
    watcher = (async () => {
      while (watching) {
        for (const n of NODES) {
          const v = await c.get<{ nodes: NodeView[] }>(n, '/v1/nodes');
          for (const x of v?.nodes ?? []) if (x.oper === 'disabled') disabledNodes.add(`${x.name} (${x.disabledReason ?? '?'})`);
        }
        await sleep(100);
      }
    })();
  });

  after(async () => {
    watching = false;
    await watcher;
    blocker?.close();
    const left = await stopTestCluster(c, run.failed);
    assert.deepEqual(left, [], 'no amfd or component process is left');
  });

  const counterSus = (g: readonly GroupView[]): GroupView['units'] => g.find((x) => x.name === 'counter')?.units ?? [];
  const leaderGroups = async (): Promise<readonly GroupView[] | undefined> => {
    const leader = await leaderOf(c, NODES);
    return leader ? groupsOn(c, leader) : undefined;
  };

  step('the counter SUs are disabled for repair with the reason; web and db stay assigned, no node is disabled', async () => {
    const units = await waitFor('both counter SUs disabled for repair', 180_000, async () => {
      const g = await leaderGroups();
      const u = g ? counterSus(g) : [];
      return u.length === 2 && u.every((x) => x.disabledCause === 'component-fault') ? u : undefined;
    });
    for (const u of units) {
      assert.match(u.disabledReason ?? '', /^failing on every node it was tried on: /, `${u.name}: ${u.disabledReason}`);
      assert.match(u.disabledReason ?? '', new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use by pid ${process.pid} `), `${u.name} names the port and its holder: ${u.disabledReason}`);
    }
    const g = (await leaderGroups())!;
    for (const name of ['web', 'db']) {
      for (const si of g.find((x) => x.name === name)!.sis) assert.ok(si.assignments.some((a) => a.ha === 'active'), `${si.name} stays active`);
    }
    const nodes = (await c.get<{ nodes: NodeView[] }>((await leaderOf(c, NODES))!, '/v1/nodes'))!.nodes;
    assert.deepEqual(nodes.filter((n) => n.oper !== 'enabled').map((n) => n.name), [], 'no node is disabled');
    assert.deepEqual([...disabledNodes], [], 'no node was ever disabled');
  });

  step('amfctl status says why the counter SUs are disabled', async () => {
    const leader = (await leaderOf(c, NODES))!;
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/amfctl.js'), 'status'], { env: { ...process.env, AMFCTL_ADDR: c.node(leader).api, AMFCTL_TOKEN_FILE: c.tokenFile }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /counter_a disabled \(component-fault\): failing on every node it was tried on: .*\(amfctl admin repair su\/counter_a\)/);
    assert.match(r.stdout, /counter_b disabled \(component-fault\): failing on every node it was tried on: /);
  });

  step('with the port free, admin repair brings the counter back and it serves there', async () => {
    await new Promise<void>((r) => blocker!.close(() => r()));
    blocker = undefined;
    const leader = (await leaderOf(c, NODES))!;
    for (const su of ['counter_a', 'counter_b']) {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/amfctl.js'), 'admin', 'repair', `su/${su}`], { env: { ...process.env, AMFCTL_ADDR: c.node(leader).api, AMFCTL_TOKEN_FILE: c.tokenFile }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, `repair ${su}: ${r.stdout}${r.stderr}`);
    }
    let last = '';
    await waitFor('counter_si active and standby, both SUs enabled', 120_000, async () => {
      const g = await leaderGroups();
      const u = g ? counterSus(g) : [];
      last = JSON.stringify(u.map((x) => [x.name, x.node, x.oper, x.presence, x.readiness, x.assignments]));
      const has = (ha: string): boolean => u.some((x) => x.assignments.some((a) => a.si === 'counter_si' && a.ha === ha));
      return u.length === 2 && u.every((x) => x.oper === 'enabled') && has('active') && has('standby') ? true : undefined;
    }).catch((e: unknown) => assert.fail(`${String(e)}; counter SUs: ${last}`));
    const body = await waitFor(`the counter on port ${port}`, 30_000, async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/next`, { signal: AbortSignal.timeout(2000) });
        return r.ok ? ((await r.json()) as { counter: number }) : undefined;
      } catch {
        return undefined;
      }
    });
    assert.equal(body.counter, 1);
  });
});
