/**
 * Server-group messaging across three real amfd processes: each member is a `command` component
 * running `amf-sg-agent --listen` on its channel socket (standing in for QEMU and the guest), the
 * apps are real `server-group-app` processes against the agents' app sockets. The seed's steps
 * a) to g), a member that dies, a node that is lost (cluster-scenario.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalCluster } from '../../scripts/local-cluster.js';
import { findMarked } from '../../src/daemon/orphans.js';
import { hostAgentsConf, hostApp, nodeLoss, seedValidation, type App, type Member } from './cluster-scenario.js';

const GROUP = 'web';

describe('server-group messaging across three amfd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'amfd-sg-'));
  let cluster: LocalCluster | undefined;
  const apps: App[] = [];
  let failed = false;
  const members: Member[] = [1, 2, 3].map((i) => ({ su: `sg${i}`, instance: `instance-${i}`, node: `n${i}`, app: hostApp(join(dir, `sg${i}.app`)) }));

  before(async () => {
    writeFileSync(join(dir, 'groups.conf'), hostAgentsConf(dir, GROUP, { startLocked: true }));
    cluster = await LocalCluster.prepare({ workDir: dir, nodes: 3, groupsConf: join(dir, 'groups.conf'), logLevel: 'info' });
    cluster.startAll();
  });

  after(async () => {
    for (const a of apps) a.stop();
    await cluster?.stop();
    const left = cluster?.strays() ?? [];
    if (!failed && process.env['AMFD_E2E_KEEP'] !== '1') rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`server-group daemon test: work dir kept at ${dir}\n`);
    assert.deepEqual(left, [], 'nothing of the cluster is left running');
  });

  const step = (name: string, fn: () => Promise<void>): void =>
    void it(name, async () => {
      try {
        await fn();
      } catch (e) {
        failed = true;
        throw e;
      }
    });

  const log = (s: string): void => void process.stdout.write(`${s}\n`);

  step('the seed validation, steps a) to g), across three amfd', async () => {
    assert.ok(cluster);
    await seedValidation(cluster, GROUP, members, apps, log);
  });

  step('a member that dies: the others hear it failed, then instantiated again', async () => {
    assert.ok(cluster);
    const [a1, a3] = [apps[0]!, apps[2]!];
    const back = /^got server group notification msg: .*"instance_id":"instance-2".*"event":"instantiated"/;
    const before = new Map([a1, a3].map((a) => [a, a.out.filter((l) => back.test(l)).length]));
    const pids = findMarked('SA_AMF_COMPONENT_DN', (v) => v.startsWith('safComp=guest,safSu=sg2,'));
    assert.ok(pids.length > 0, 'sg2 runs its guest agent');
    for (const p of pids) process.kill(p, 'SIGKILL');
    for (const a of [a1, a3]) await a.saw('sg2 failed', /^got server group notification msg: .*"instance_id":"instance-2".*"event":"failed"/);
    for (const a of [a1, a3]) await a.saw('sg2 back', back, (before.get(a) ?? 0) + 1);
    log('sg2 killed: app1 and app3 heard it failed and instantiated again');
  });

  step('a node lost: the members elsewhere hear that the member on it lost its host', async () => {
    assert.ok(cluster);
    await nodeLoss(cluster, members[2]!, [apps[0]!], log);
  });
});
