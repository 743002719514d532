/**
 * Simulated openais CLC-CLI components for the real-agent path: INSTANTIATE, TERMINATE and CLEANUP
 * scripts installed in each machine's file system (the agent resolves and checks them there, then
 * runs them as processes), and the component process the INSTANTIATE script leaves behind in its
 * process group with a pidfile, which the agent watches passively. CLEANUP can be made slow (a
 * fault): the component keeps running until the script gets to it.
 */
import type { ProcessContext } from '../process.js';
import type { Simulation } from '../simulation.js';
import type { ComponentWorld } from './components.js';

/** The scripts' directory (the components' clccli_path). */
export const CLC_DIR = '/opt/amf-sim/clc';
const SCRIPTS = ['instantiate', 'terminate', 'cleanup'] as const;
const DAEMON = '/opt/amf-sim/bin/clc-daemon';
/** How long each script takes (cleanup: unless slowed by a fault). */
const SCRIPT_MS = 20;
/** How often TERMINATE looks whether the process is gone. */
const POLL_MS = 20;

/** The pidfile a CLC-CLI component's INSTANTIATE writes (its `pidfile =` in groups.conf). */
export function clcPidfile(su: string, comp: string): string {
  return `/var/run/amf-sim/${su}-${comp}.pid`;
}

export class ClcScripts {
  /** Cleanups still to be slowed, by node, then `su/comp` → extra ms (consumed by the next cleanup). */
  private readonly slow = new Map<string, Map<string, number>>();

  constructor(
    private readonly sim: Simulation,
    private readonly world: ComponentWorld,
  ) {
    sim.programs.register(`${CLC_DIR}/instantiate`, (ctx) => this.instantiate(ctx));
    sim.programs.register(`${CLC_DIR}/terminate`, (ctx) => this.terminate(ctx));
    sim.programs.register(`${CLC_DIR}/cleanup`, (ctx) => this.cleanup(ctx));
  }

  /** Put the scripts on a machine's disk (idempotent; the agent checks they exist and are executable). */
  install(node: string): void {
    const files = this.sim.files(node);
    for (const s of SCRIPTS) files.writeText(`${CLC_DIR}/${s}`, `#!/bin/sh\n# amf-sim CLC-CLI ${s}\n`, 0o755);
  }

  /** The next cleanup of this component takes `ms` longer (a fault). */
  slowCleanup(node: string, key: string, ms: number): void {
    let m = this.slow.get(node);
    if (!m) this.slow.set(node, (m = new Map()));
    m.set(key, ms);
  }

  private instantiate(ctx: ProcessContext): void {
    const ref = compOf(ctx);
    if (!ref) return ctx.exit(1);
    this.world.stats.clcScripts++;
    ctx.after(SCRIPT_MS, () => {
      // The component daemonizes: a child in the script's group that outlives the script.
      const pid = ctx.spawnChild(() => undefined, [DAEMON, ref.key]);
      this.world.track(ctx.node, ref.key, pid, 'clccli');
      const w = this.sim.files(ctx.node).writeText(clcPidfile(ref.su, ref.comp), `${pid}\n`);
      ctx.exit(w.ok ? 0 : 1);
    });
  }

  private terminate(ctx: ProcessContext): void {
    const ref = compOf(ctx);
    if (!ref) return ctx.exit(1);
    this.world.stats.clcScripts++;
    const pid = this.pidOf(ctx.node, ref.su, ref.comp);
    if (pid !== undefined) this.sim.processTable(ctx.node).signal(pid, 'SIGTERM');
    const poll = (): void => {
      if (pid !== undefined && this.sim.processTable(ctx.node).livePids().includes(pid)) return ctx.after(POLL_MS, poll);
      this.sim.files(ctx.node).remove(clcPidfile(ref.su, ref.comp));
      ctx.exit(0);
    };
    ctx.after(SCRIPT_MS, poll);
  }

  private cleanup(ctx: ProcessContext): void {
    const ref = compOf(ctx);
    if (!ref) return ctx.exit(1);
    this.world.stats.clcScripts++;
    const slow = this.slow.get(ctx.node);
    const extra = slow?.get(ref.key) ?? 0;
    slow?.delete(ref.key);
    ctx.after(SCRIPT_MS + extra, () => {
      const pid = this.pidOf(ctx.node, ref.su, ref.comp);
      if (pid !== undefined) this.sim.processTable(ctx.node).signal(pid, 'SIGKILL');
      this.sim.files(ctx.node).remove(clcPidfile(ref.su, ref.comp));
      ctx.exit(0);
    });
  }

  private pidOf(node: string, su: string, comp: string): number | undefined {
    const text = this.sim.files(node).readText(clcPidfile(su, comp), 64);
    const pid = text.ok ? Number(text.value.trim()) : NaN;
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  }
}

/** The component a script runs for, from the DN the agent puts in its environment. */
function compOf(ctx: ProcessContext): { su: string; comp: string; key: string } | undefined {
  const m = /^safComp=([^,]+),safSu=([^,]+),/.exec(ctx.env.SA_AMF_COMPONENT_DN ?? '');
  if (!m) return undefined;
  const [, comp, su] = m as unknown as [string, string, string];
  return { su, comp, key: `${su}/${comp}` };
}
