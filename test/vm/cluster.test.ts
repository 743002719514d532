import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureGuest, libvirtdMissing, type Guest } from './harness/index.js';
import { NODES, UNITS, until, VmCluster } from './cluster-scenario.js';

const noDaemon = libvirtdMissing();
const built = noDaemon === undefined ? ensureGuest() : undefined;
const skip = noDaemon ?? (built && 'reason' in built ? built.reason : undefined);

// Three real amfd, a 2N group of two VMs under a real libvirtd + QEMU (component_restart_max = 1,
// unit_restart_max = 0): a destroy behind amfd's back is a component restart; the next one is an
// SU failover; killing the active VM's amfd fails over too, and a restarted amfd adopts its VM.
test('2N VMs on amfd: destroy → restart, destroy again → failover, amfd killed → failover, restart adopts', { skip: skip ?? false, timeout: 400_000 }, async () => {
  const c = await VmCluster.start((built as { guest: Guest }).guest, { restartMax: 1 });
  try {
    const first = await until('the SI active', 120_000, () => c.active(), 200);
    const standby = first.su === 'vm1' ? 'vm2' : 'vm1';
    await until('both domains running', 60_000, () => (c.daemon.domains().length === 2 ? true : undefined), 200);
    const dom = UNITS[first.su].domain;

    // 1. A destroy behind amfd's back: the component is restarted in place (same SU stays active).
    let t0 = Date.now();
    assert.equal(c.daemon.virsh('destroy', dom).status, 0);
    await until('the domain started again', 60_000, () => c.event(t0, dom, 'Started'));
    const again = await until('the SI active again', 60_000, () => c.active());
    assert.equal(again.su, first.su, 'a component restart, not a failover');
    console.log(`# destroy → running again ${c.event(t0, dom, 'Started')!.at - t0} ms (component restart)`);

    // 2. Once more: component_restart_max is used up → SU failover to the standby VM's node.
    t0 = Date.now();
    assert.equal(c.daemon.virsh('destroy', dom).status, 0);
    const moved = await until('the SI active on the standby', 60_000, async () => {
      const a = await c.active();
      return a?.su === standby ? a : undefined;
    });
    const stopped = c.event(t0, dom, 'Stopped');
    console.log(`# destroy → standby active ${Date.now() - t0} ms (${stopped ? `${Date.now() - stopped.at} ms after libvirt's Stopped event` : 'no event'}); now on ${moved.node}`);

    // 3. Kill the amfd of the node now active: after its lease the SI comes back to the other VM.
    const victim = moved.node;
    c.cluster.kill(victim, 'SIGKILL');
    t0 = Date.now();
    const back = await until('the SI active on the other node', 120_000, async () => {
      const a = await c.active();
      return a && a.node !== victim ? a : undefined;
    });
    console.log(`# amfd of ${victim} killed → SI active on ${back.node} after ${Date.now() - t0} ms`);
    assert.notEqual(back.node, victim);

    // 4. Restart it: its VM still runs (libvirtd's child) and is adopted, not started twice.
    const victimDomain = UNITS[moved.su].domain;
    const before = c.daemon.virsh('domuuid', victimDomain).stdout.trim();
    t0 = Date.now();
    c.cluster.startNode(victim);
    await until(`${victim} back`, 120_000, async () => {
      const v = await c.cluster.get<{ nodes: Array<{ name: string; up: boolean }> }>(NODES.find((n) => n !== victim)!, '/v1/nodes');
      return v?.nodes.find((n) => n.name === victim)?.up ? true : undefined;
    }, 200);
    await until('its SU instantiated again', 60_000, async () => {
      const g = await c.cluster.get<{ groups: Array<{ units: Array<{ name: string; presence: string }> }> }>(victim, '/v1/groups');
      return g?.groups.flatMap((x) => x.units).find((u) => u.name === moved.su)?.presence === 'instantiated' ? true : undefined;
    }, 200);
    assert.equal(c.daemon.virsh('domuuid', victimDomain).stdout.trim(), before, 'the same domain: adopted, not destroyed and created again');
    assert.equal(c.event(t0, victimDomain, 'Started'), undefined, 'nothing was started for it');
  } finally {
    await c.stop();
  }
});
