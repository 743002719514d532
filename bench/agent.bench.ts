/**
 * Node agent bench: one node, the agent driven by the AMF engine (StandaloneLoop), real processes.
 *
 * - failover: a 2N group of two counter-service SA-aware components; `kill -9` the active process,
 *   time until the standby has accepted CSI set active (the engine got csi-set-done active).
 * - restart: a `command` component (/bin/sleep); `kill -9` it, time until it is instantiated again.
 *
 * Usage: npm run bench:agent [-- --trials 50]
 * Last line: agent failover_p50_ms=… failover_p99_ms=… restart_p50_ms=… restart_p99_ms=…
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchNode, csiDone, inputWaiter, startWithPair } from './standalone.js';
import { loadConfig } from '../src/model/index.js';

const trialsArg = process.argv.indexOf('--trials');
const TRIALS = trialsArg > 0 ? Number(process.argv[trialsArg + 1]) : 50;
const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
/** --trace: print the engine's inputs and commands, with times, during the first failover. */
const TRACE = process.argv.includes('--trace');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const ESCALATION_OFF = `cluster {
	node_failover_max = 1000000
}
`;

async function main(): Promise<void> {
  const port = await freePort();
  const counter = readFileSync(join(ROOT, 'conf/examples/counter-service/groups.conf'), 'utf8')
    .replaceAll('/opt/amfd', ROOT)
    .replaceAll('value = 18080', `value = ${port}`)
    .replace('model = 2n', 'model = 2n\n\tcomponent_restart_max = 1000000\n\tunit_restart_max = 1000000');
  const restarter = `group {
	name = sleeper
	model = noredundancy
	component_restart_max = 1000000
	unit_restart_max = 1000000
	unit {
		name = sleeper_su
		component {
			name = sleeper
			comptype = non_proxied_non_sa_aware
			command = /bin/sleep 1000000
			csi_type_name {
				name = sleep_type
			}
		}
	}
	serviceinstance {
		name = sleep_si
		csi_descriptor {
			csi_name = sleep_csi
			type_name = sleep_type
		}
	}
}
`;
  const loaded = loadConfig(ESCALATION_OFF + counter + restarter, 'bench.conf');
  if (!loaded.ok) throw new Error(loaded.error.map((e) => e.message).join('\n'));
  const model = loaded.value;

  const dir = mkdtempSync(join(tmpdir(), 'amf-agent-bench-'));
  const { agent, loop, clock } = await benchNode(model, join(dir, 'amf.sock'), process.env.PATH ?? '/usr/bin:/bin');
  const waitInput = inputWaiter(loop, clock);

  const units = ['counter_a', 'counter_b'];
  let active = await startWithPair(loop, waitInput, units, 'sleeper_su');

  let traceFrom: number | undefined;
  if (TRACE) {
    const show = (what: string, x: unknown): void => {
      if (traceFrom !== undefined) console.log(`${(clock.now() - traceFrom).toFixed(1).padStart(7)} ms ${what} ${JSON.stringify(x)}`);
    };
    loop.onInput((i) => show('in ', i));
    loop.onCommand((c) => show('cmd', c));
  }
  const failover: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const standby = units.find((u) => u !== active)!;
    const pid = agent.pid(active, 'counter');
    if (pid === undefined) throw new Error(`bench: no pid for ${active}`);
    const promoted = waitInput(csiDone(standby, 'active'), `failover to ${standby}`);
    const back = waitInput(csiDone(active, 'standby'), `${active} back as standby`);
    const t0 = clock.now();
    process.kill(pid, 'SIGKILL');
    if (TRACE && i === 0) traceFrom = t0;
    failover.push((await promoted) - t0);
    await back;
    traceFrom = undefined;
    active = standby;
  }

  const restart: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const pid = agent.pid('sleeper_su', 'sleeper');
    if (pid === undefined) throw new Error('bench: no pid for the sleeper');
    const up = waitInput((x) => x.kind === 'comp-instantiated' && x.su === 'sleeper_su', 'sleeper restart');
    const assigned = waitInput(csiDone('sleeper_su', 'active'), 'sleeper reassigned');
    const t0 = clock.now();
    process.kill(pid, 'SIGKILL');
    restart.push((await up) - t0);
    await assigned;
  }

  loop.stop();
  for (const su of units) await agent.cleanup(su, 'counter', 'bench end');
  await agent.cleanup('sleeper_su', 'sleeper', 'bench end');
  await agent.stop();
  rmSync(dir, { recursive: true, force: true });

  const f = failover.sort((a, b) => a - b);
  const r = restart.sort((a, b) => a - b);
  const fmt = (x: number): string => x.toFixed(1);
  console.log(`failover (${f.length} trials, kill -9 active → standby CSI set active): min ${fmt(f[0]!)} p50 ${fmt(percentile(f, 50))} p90 ${fmt(percentile(f, 90))} p99 ${fmt(percentile(f, 99))} max ${fmt(f[f.length - 1]!)} ms`);
  console.log(`restart (${r.length} trials, kill -9 command component → instantiated again): min ${fmt(r[0]!)} p50 ${fmt(percentile(r, 50))} p90 ${fmt(percentile(r, 90))} p99 ${fmt(percentile(r, 99))} max ${fmt(r[r.length - 1]!)} ms`);
  console.log(`agent failover_p50_ms=${fmt(percentile(f, 50))} failover_p99_ms=${fmt(percentile(f, 99))} restart_p50_ms=${fmt(percentile(r, 50))} restart_p99_ms=${fmt(percentile(r, 99))}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
