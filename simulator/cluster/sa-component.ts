/**
 * A simulated SA-aware component for the real-agent path: a process of its machine that uses the
 * REAL client library (src/client) over the machine's simulated `unix:` socket, as a component
 * author would. It registers with the secret from its environment, starts an AMF-invoked
 * healthcheck, answers CSI set / remove callbacks (recording what it serves in the checker's
 * table), completes quiescing, tracks the protection group of each CSI it takes, reports errors
 * when told to, and exits when its connection to the agent closes (as conf/examples'
 * counter-service does). Its injected faults (CompFaults) make it hang, answer late, fail CSI
 * sets or fail healthchecks.
 */
import type { HaState } from '../../src/model/vocabulary.js';
import { AmfClient } from '../../src/client/index.js';
import type { ProcessContext } from '../process.js';
import type { Simulation } from '../simulation.js';
import type { ComponentWorld, RunningComp } from './components.js';

export const SA_COMPONENT_COMMAND = '/usr/libexec/amf-sim/sa-component';
/** The global healthcheck key every simulated SA-aware component starts (see scenario.ts). */
export const SA_HEALTHCHECK_KEY = 'sa-hc';
/** How long draining takes between the quiescing callback and quiescing-complete. */
const QUIESCE_MS = 50;
/** How long it takes to exit after the terminate callback. */
const TERMINATE_MS = 20;

export function registerSaComponent(sim: Simulation, world: ComponentWorld): void {
  sim.programs.register(SA_COMPONENT_COMMAND, (ctx) => void run(ctx, world));
}

/** A promise that never settles: a hung component never answers. */
const never = (): Promise<void> => new Promise(() => undefined);

async function run(ctx: ProcessContext, world: ComponentWorld): Promise<void> {
  // The executor recorded this process under `su/comp` when the agent spawned it.
  const comp = world.comps(ctx.node).get(ctx.argv[1] ?? '');
  if (comp?.pid !== ctx.pid) return ctx.exit(2);
  const wait = (ms: number): Promise<void> => new Promise((resolve) => ctx.after(ms, resolve));
  let client: AmfClient;
  try {
    client = await AmfClient.connect({ network: ctx.stream, env: ctx.env, connectTimeoutMs: 1000 });
  } catch {
    return ctx.exit(1);
  }
  if (!ctx.alive) return;
  const hold = (si: string, csi: string, ha: HaState | undefined): void => {
    if (ctx.alive) world.setCsi(comp, si, csi, ha);
  };
  const tracked = new Set<string>();
  client.onCsiSet(async (d) => {
    world.stats.csiCallbacks++;
    if (comp.faults.hung) return never();
    if (comp.faults.slowCsiMs > 0) await wait(comp.faults.slowCsiMs);
    if (comp.faults.failCsiSets > 0) {
      comp.faults.failCsiSets--;
      throw new Error('simulated CSI set failure');
    }
    if (!ignoresQuiesce(world, comp, d.si, d.csi, d.haState)) hold(d.si, d.csi, d.haState);
    if (d.haState === 'quiescing') {
      ctx.after(QUIESCE_MS, () => {
        if (!ignoresQuiesce(world, comp, d.si, d.csi, 'quiesced')) hold(d.si, d.csi, 'quiesced');
        world.stats.quiescingCompletes++;
        client.quiescingComplete(d.invocation).catch(() => undefined);
      });
    }
    if (!tracked.has(d.csi)) {
      tracked.add(d.csi);
      client
        .protectionGroupTrack(d.csi, 'changes')
        .then((members) => world.pgLast.set(`${ctx.node} ${ctx.argv[1] ?? ''} ${d.csi}`, { csi: d.csi, members, changes: [] }))
        .catch(() => undefined);
    }
  });
  client.onCsiRemove(async (r) => {
    world.stats.csiCallbacks++;
    if (comp.faults.hung) return never();
    hold(r.si, r.csi, undefined);
  });
  client.onHealthcheck(async () => {
    world.stats.healthcheckCallbacks++;
    if (comp.faults.hung) return never();
    if (comp.faults.sickHealthcheck) throw new Error('simulated sick component');
  });
  client.onTerminate(async () => {
    if (comp.faults.hung) return never();
    ctx.after(TERMINATE_MS, () => ctx.exit(0));
  });
  client.onProtectionGroup((u) => {
    world.stats.pgUpdates++;
    world.pgLast.set(`${ctx.node} ${ctx.argv[1] ?? ''} ${u.csi}`, u);
  });
  client.onClose(() => ctx.exit(1));
  try {
    await client.register();
  } catch {
    return ctx.exit(1);
  }
  if (!ctx.alive) return;
  world.stats.saRegistrations++;
  comp.reportError = (reason) => {
    world.stats.componentErrorReports++;
    client.errorReport('component-restart', reason).catch(() => undefined);
  };
  await client.healthcheckStart(SA_HEALTHCHECK_KEY, { invocation: 'amf' }).catch(() => undefined);
}

/** The `sa-ignores-quiesce` bug: told to quiesce an active CSI, the component keeps serving it. */
function ignoresQuiesce(world: ComponentWorld, comp: RunningComp, si: string, csi: string, ha: HaState): boolean {
  return world.bug === 'sa-ignores-quiesce' && (ha === 'quiescing' || ha === 'quiesced') && comp.csis.get(`${si}/${csi}`) === 'active';
}
