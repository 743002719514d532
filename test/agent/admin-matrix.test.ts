/**
 * Every admin operation × every component kind × every redundancy model, with real processes:
 * three nodes' agents driven by one engine (StandaloneLoop), each operation awaited until
 * adminProgress says it took effect, the AMF invariants checked after each. The regression it
 * guards: a shutdown left a non-SA-aware component quiescing for good (nobody confirmed it).
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AdminTarget } from '../../src/amf/commands.js';
import { invariantViolations } from '../../src/amf/invariants.js';
import { adminProgress } from '../../src/amf/progress.js';
import type { AdminOp } from '../../src/model/vocabulary.js';
import { StandaloneLoop } from './standalone.js';
import { clock, eventually, logger, makeDir, model, startAgent, writeScript, type TestAgent } from './harness.js';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const DUMMY = '/usr/lib/ocf/resource.d/heartbeat/Dummy';
const NODES = ['n1', 'n2', 'n3'];

type Kind = 'command' | 'clccli' | 'ocf' | 'sa_aware';
type Model = '2n' | 'nplusm' | 'nway' | 'nwayactive' | 'noredundancy';

const GROUP: Record<Model, { head: string; units: number; sis: string[]; si?: string }> = {
  '2n': { head: 'model = 2n', units: 2, sis: ['s1'] },
  nplusm: { head: 'model = nplusm\n\tpreferred-active-units = 2\n\tpreferred-standby-units = 1\n\tmaximum-active-instances = 1\n\tmaximum-standby-instances = 2', units: 3, sis: ['s1', 's2'] },
  nway: { head: 'model = nway\n\tmaximum-active-instances = 2\n\tmaximum-standby-instances = 2', units: 3, sis: ['s1', 's2'], si: 'preferred-standby-assignments = 1' },
  nwayactive: { head: 'model = nwayactive\n\tmaximum-active-instances = 2', units: 3, sis: ['s1'], si: 'preferred-active-assignments = 2' },
  noredundancy: { head: 'model = noredundancy', units: 3, sis: ['s1', 's2'] },
};

function component(kind: Kind, dir: string, su: string): string {
  switch (kind) {
    case 'command':
      return 'command = /bin/sleep 1000';
    case 'clccli':
      return `comptype = non_proxied_non_sa_aware\n\t\t\tclccli_path = ${dir}\n\t\t\tinstantiate = inst.sh\n\t\t\tcleanup = clean.sh\n\t\t\tpidfile = ${dir}/${su}.pid\n\t\t\tenv {\n\t\t\t\tPIDFILE = ${dir}/${su}.pid\n\t\t\t}`;
    case 'ocf':
      return `ocf = heartbeat:Dummy\n\t\t\tenv {\n\t\t\t\tstate = ${dir}/${su}.state\n\t\t\t}`;
    case 'sa_aware':
      return `comptype = sa_aware\n\t\t\tcommand = node --import tsx ${ROOT}/test/agent/fixtures/sa-component.ts\n\t\t\tinstantiate_timeout = 60s\n\t\t\tterminate_timeout = 5s`;
  }
}

export function matrixConf(m: Model, kind: Kind, dir: string, extra = ''): string {
  const g = GROUP[m];
  const units = Array.from({ length: g.units }, (_, i) => `su${i + 1}`);
  return [
    ...NODES.map((n) => `node {\n\tname = ${n}\n}`),
    `group {\n\tname = g\n\t${g.head}`,
    ...units.map(
      (u, i) => `\tunit {\n\t\tname = ${u}\n\t\tnode = ${NODES[i]}\n\t\trank = ${i + 1}\n\t\tcomponent {\n\t\t\tname = c\n\t\t\t${component(kind, dir, u)}${extra}\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}`,
    ),
    ...g.sis.map((s) => `\tserviceinstance {\n\t\tname = ${s}\n${g.si ? `\t\t${g.si}\n` : ''}\t\tcsi_descriptor {\n\t\t\tcsi_name = ${s}-csi\n\t\t\ttype_name = t\n\t\t}\n\t}`),
    '}',
    '',
  ].join('\n');
}

/** Three agents (n1..n3) under one engine; `stop` cleans every component up. */
async function cluster(text: string, dir: string): Promise<{ loop: StandaloneLoop; agents: TestAgent[]; refusals: string[]; stop(): Promise<void> }> {
  const m = model(dir, text);
  const agents: TestAgent[] = [];
  for (let i = 0; i < NODES.length; i++) agents.push(await startAgent(makeDir(), m));
  const loop = new StandaloneLoop(m, agents[0]!.agent, 'n1', clock, logger);
  agents.slice(1).forEach((a, i) => loop.addNode(a.agent, NODES[i + 1]!));
  const refusals: string[] = [];
  loop.onRefusal((_, error) => refusals.push(error));
  return {
    loop,
    agents,
    refusals,
    async stop() {
      loop.stop();
      for (const a of agents) {
        for (const c of a.agent.components()) await a.agent.cleanup(c.entry.su.name, c.entry.config.name, 'end');
        await a.close();
      }
    },
  };
}

const settleMs = Number(process.env.MATRIX_SETTLE_MS ?? 60_000);

async function op(loop: StandaloneLoop, refusals: string[], o: AdminOp, target: AdminTarget): Promise<void> {
  const before = refusals.length;
  loop.input({ kind: 'admin', op: o, target });
  assert.equal(refusals.length, before, `${o} ${JSON.stringify(target)} refused: ${refusals.at(-1)}`);
  let last = adminProgress(loop.model, loop.state, o, target);
  const settled = await eventually(() => (last = adminProgress(loop.model, loop.state, o, target)).state !== 'pending', settleMs);
  assert.ok(settled, `${o} ${JSON.stringify(target)} did not take effect: ${JSON.stringify(last)}\n${JSON.stringify(loop.state.sus)}`);
  assert.deepEqual(last, { state: 'done' }, `${o} ${JSON.stringify(target)}`);
  assert.deepEqual(invariantViolations(loop.model, loop.state), [], `after ${o} ${JSON.stringify(target)}`);
}

/** Every SI with an active assignment (the models here all have room for every SI). */
function allActive(loop: StandaloneLoop, sis: readonly string[]): boolean {
  return sis.every((si) => Object.values(loop.state.sus).some((s) => s.assignments[si]?.ha === 'active' && s.assignments[si]!.waiting.length === 0));
}

const kinds: Kind[] = ['command', 'clccli', 'ocf', 'sa_aware'];
const models: Model[] = ['2n', 'nplusm', 'nway', 'nwayactive', 'noredundancy'];
const noDummy = existsSync(DUMMY) ? undefined : `${DUMMY} is missing (install resource-agents)`;

describe('admin operations × component kinds × redundancy models, real processes', () => {
  for (const kind of kinds) {
    for (const m of models) {
      const skip = kind === 'ocf' ? noDummy : undefined;
      it(`${kind} × ${m}`, { skip: skip ?? false }, async () => {
        const dir = makeDir();
        writeScript(dir, 'inst.sh', 'sleep 1000 >/dev/null 2>&1 &\necho $! > "$PIDFILE"');
        writeScript(dir, 'clean.sh', '[ -f "$PIDFILE" ] && kill $(cat "$PIDFILE") 2>/dev/null; rm -f "$PIDFILE"; exit 0');
        const c = await cluster(matrixConf(m, kind, dir), dir);
        const { loop, refusals } = c;
        const sis = GROUP[m].sis;
        const redundant = m !== 'noredundancy';
        try {
          loop.start();
          assert.ok(await eventually(() => allActive(loop, sis), settleMs), `never fully assigned: ${JSON.stringify(loop.state.sus)}`);
          const su1 = { type: 'su', name: 'su1' } as const;
          // The defect: a shutdown of an SU holding an active assignment never completed.
          const held = Object.keys(loop.state.sus.su1!.assignments);
          await op(loop, refusals, 'shutdown', su1);
          assert.deepEqual(loop.state.sus.su1!.assignments, {});
          if (redundant) assert.ok(await eventually(() => allActive(loop, sis), settleMs), `the SIs su1 held (${held.join(', ')}) are active elsewhere: ${JSON.stringify(loop.state.sus)}`);
          await op(loop, refusals, 'unlock', su1);
          await op(loop, refusals, 'lock', su1);
          await op(loop, refusals, 'lock-instantiation', su1);
          assert.equal(c.agents[0]!.agent.pid('su1', 'c'), undefined, 'su1/c is stopped');
          await op(loop, refusals, 'unlock-instantiation', su1);
          await op(loop, refusals, 'unlock', su1);
          await op(loop, refusals, 'restart', su1);
          await op(loop, refusals, 'restart', { type: 'comp', su: 'su1', comp: 'c' });
          if (m === '2n' || m === 'nplusm' || m === 'nway') {
            assert.ok(await eventually(() => allActive(loop, sis) && Object.values(loop.state.sus).some((s) => s.assignments.s1?.ha === 'standby' && s.assignments.s1.waiting.length === 0), settleMs));
            if (m === 'nplusm') {
              // 2+1: the one standby SU backs both actives, so N+M refuses to swap just one of them.
              loop.input({ kind: 'admin', op: 'si-swap', target: { type: 'si', name: 's1' } });
              assert.match(refusals.pop() ?? '', /may not be both active and standby/);
            } else await op(loop, refusals, 'si-swap', { type: 'si', name: 's1' });
          }
          await op(loop, refusals, 'shutdown', { type: 'si', name: 's1' });
          await op(loop, refusals, 'unlock', { type: 'si', name: 's1' });
          await op(loop, refusals, 'shutdown', { type: 'sg', name: 'g' });
          await op(loop, refusals, 'unlock', { type: 'sg', name: 'g' });
          assert.ok(await eventually(() => allActive(loop, sis), settleMs));
          await op(loop, refusals, 'shutdown', { type: 'node', name: 'n2' });
          assert.deepEqual(loop.state.sus.su2!.assignments, {});
          await op(loop, refusals, 'unlock', { type: 'node', name: 'n2' });
          await op(loop, refusals, 'lock', { type: 'node', name: 'n2' });
          await op(loop, refusals, 'unlock', { type: 'node', name: 'n2' });
          assert.ok(await eventually(() => allActive(loop, sis), settleMs));
        } finally {
          await c.stop();
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  }

  it('an SA-aware component that never confirms quiescing: after quiescing_complete_timeout its recovery_on_error runs and the shutdown completes', async () => {
    const dir = makeDir();
    const text = matrixConf('2n', 'sa_aware', dir, '\n\t\t\tquiescing_complete_timeout = 300\n\t\t\trecovery_on_error = component-failover\n\t\t\tenv {\n\t\t\t\tIGNORE_QUIESCING = 1\n\t\t\t}');
    const c = await cluster(text, dir);
    const { loop, refusals } = c;
    const notices: string[] = [];
    loop.onNotice((n) => {
      if (n.kind === 'recovery') notices.push(`${n.action} ${n.reason}`);
    });
    try {
      loop.start();
      assert.ok(await eventually(() => allActive(loop, ['s1']), settleMs));
      const active = Object.entries(loop.state.sus).find(([, s]) => s.assignments.s1?.ha === 'active')![0];
      loop.input({ kind: 'admin', op: 'shutdown', target: { type: 'su', name: active } });
      assert.deepEqual(refusals, []);
      assert.ok(await eventually(() => adminProgress(loop.model, loop.state, 'shutdown', { type: 'su', name: active }).state !== 'pending', settleMs), JSON.stringify(loop.state.sus));
      assert.ok(notices.some((n) => /no quiescing-complete for s1\/s1-csi within 300 ms/.test(n)), JSON.stringify(notices));
      assert.ok(await eventually(() => allActive(loop, ['s1']), settleMs), 'the other SU took s1 over');
      assert.equal(loop.state.sus[active]!.admin, 'locked');
    } finally {
      await c.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
