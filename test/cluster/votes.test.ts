/**
 * Votes before an admin operation is committed, on a whole simulated cluster with the real agent:
 * the components with a guest_heartbeat block that the operation would stop, restart or take out of
 * service (amf/affected.ts) are asked on the node that runs them (locally or over its rpc address,
 * cluster/votes.ts); a veto refuses the operation before anything is proposed, with who refused
 * and why; no veto, or a node that cannot answer, lets it go ahead.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ClusterHarness } from '../../simulator/cluster/harness.js';
import { clusterConfig } from '../../simulator/cluster/scenario.js';
import { affectedComponents } from '../../src/amf/affected.js';
import type { NodeService, ServiceContext } from '../../src/cluster/node-service.js';
import { ok, type Result } from '../../src/util/result.js';

/** Vetoes what `no` names (SU names), recording every vote it is asked. */
class Voter implements NodeService {
  readonly name = 'voter';
  readonly no = new Set<string>();
  readonly asked: string[] = [];
  start(ctx: ServiceContext): Promise<Result<void, string>> {
    ctx.agent.onPreTerminate((c, intent) => {
      this.asked.push(`${c.su.name}/${c.config.name} ${intent.action}: ${intent.reason}`);
      return Promise.resolve(this.no.has(c.su.name) ? { by: 'voter', reason: `${c.su.name} is busy` } : undefined);
    });
    return Promise.resolve(ok(undefined));
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
}

/** Every component of the web group heartbeated (the channel is never opened: no such service here). */
function heartbeated(text: string): string {
  return text.replace(/(\t\tcomponent \{\n\t\t\tname = [^\n]+\n)/g, '$1\t\t\tguest_heartbeat {\n\t\t\t\tchannel = /run/amfd-test-none.sock\n\t\t\t}\n');
}

/** A promise settled by running the simulation (its network and clock move only then). */
async function settle<T>(h: ClusterHarness, p: Promise<T>): Promise<T> {
  let out: { v: T } | undefined;
  void p.then((v) => (out = { v }));
  assert.ok(await h.sim.runUntil(() => out !== undefined, 120_000), 'the operation answered');
  return out!.v;
}

test('an admin operation is voted on by the heartbeated components it affects, on their own nodes: a veto refuses it with the reason, else it is committed', async () => {
  const voters = new Map<string, Voter>();
  const h = new ClusterHarness({
    seed: 5,
    nodes: 3,
    agent: 'real',
    services: (ports) => {
      const v = new Voter();
      voters.set(ports.nodeName, v);
      return [v];
    },
  });
  assert.ok(await h.sim.runUntil(() => h.formed(), 20_000), 'the cluster formed');
  assert.ok(await h.setConfig(heartbeated(clusterConfig(h.names, false, 'real'))));
  assert.ok(await h.sim.runUntil(() => h.convergence().length === 0, 30_000), h.convergence().join('; '));
  const leader = h.leader()!.node;
  const web = leader.fsm.model.groups.find((g) => g.name === 'web')!;
  const placement = leader.fsm.placement();
  const activeSu = web.units.find((u) => Object.values(leader.fsm.assignments()).some((a) => a[u.name] === 'active'))!.name;
  const where = placement[activeSu]!;
  const elsewhere = h.names.find((n) => n !== where)!;

  const affected = affectedComponents(leader.fsm.model, leader.fsm.state.amf, leader.fsm.state.time, { kind: 'admin', op: 'lock', target: { type: 'su', name: activeSu } });
  assert.ok(affected.length > 0 && affected.every((a) => a.su === activeSu && a.node === where && a.effect === 'out-of-service'), JSON.stringify(affected));
  const restart = affectedComponents(leader.fsm.model, leader.fsm.state.amf, leader.fsm.state.time, { kind: 'admin', op: 'restart', target: { type: 'su', name: activeSu } });
  assert.ok(restart.length > 0 && restart.every((a) => a.effect === 'restart'), JSON.stringify(restart));
  assert.deepEqual(affectedComponents(leader.fsm.model, leader.fsm.state.amf, leader.fsm.state.time, { kind: 'admin', op: 'unlock', target: { type: 'su', name: activeSu } }), [], 'unlocking what is unlocked affects nothing');

  voters.get(where)!.no.add(activeSu);
  const from = h.app(elsewhere)!.node;
  const refused = await settle(h, from.admin('lock', { type: 'su', name: activeSu }));
  assert.ok(!refused.ok && refused.code === 'vetoed', JSON.stringify(refused));
  assert.match(refused.error, new RegExp(`^lock on SU ${activeSu} refused: ${activeSu}/\\S+ on ${where} vetoed it \\(voter\\): ${activeSu} is busy$`));
  assert.ok(voters.get(where)!.asked.some((a) => a.endsWith('move: admin lock takes it out of service')), voters.get(where)!.asked.join('\n'));
  assert.deepEqual(voters.get(elsewhere)!.asked, [], 'only the node running it is asked');
  await h.sim.runFor(1000);
  assert.equal(leader.fsm.state.amf.sus[activeSu]!.admin, 'unlocked', 'nothing was proposed');

  voters.get(where)!.no.clear();
  const done = await settle(h, from.admin('lock', { type: 'su', name: activeSu }));
  assert.ok(done.ok, JSON.stringify(done));
  assert.ok(await h.sim.runUntil(() => h.leader()!.node.fsm.state.amf.sus[activeSu]!.admin === 'locked', 10_000));
});
