/**
 * AMF engine bench: 100 SGs (N+M, 10 SUs and 10 SIs each: 1 000 SUs, 1 000 SIs) spread over 10
 * nodes so that node n0 holds SU0 of every SG, an active SU: 100 active SUs. The settled state is
 * built once through the harness; then the engine decides the full reassignment after n0 fails.
 * step() is pure, so the same decision is timed repeatedly on the same input. Prints the median.
 *
 *   npm run bench:amf          last line: amf node_failure_step_ms=<median>
 */
import { performance } from 'node:perf_hooks';
import { step } from '../src/amf/engine.js';
import { Harness } from '../src/amf/harness.js';
import { describeGroups } from '../src/amf/plan.js';
import { loadConfig } from '../src/model/index.js';

const SGS = Number(process.env.SGS ?? 100);
const PER = 10;
const NODES = 10;

function config(): string {
  const out: string[] = [];
  for (let n = 0; n < NODES; n++) out.push(`node {\n\tname = n${n}\n}\n`);
  for (let g = 0; g < SGS; g++) {
    out.push(`group {\n\tname = g${g}\n\tmodel = nplusm\n\tpreferred-active-units = 5\n\tmaximum-active-instances = 2\n\tpreferred-standby-units = 2\n\tmaximum-standby-instances = 5\n`);
    for (let u = 0; u < PER; u++) {
      out.push(`\tunit {\n\t\tname = g${g}su${u}\n\t\tnode = n${u % NODES}\n\t\trank = ${u}\n\t\tcomponent {\n\t\t\tname = c\n\t\t\tinstantiate = clc\n\t\t\tcleanup = clc\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n`);
    }
    for (let s = 0; s < PER; s++) {
      out.push(`\tserviceinstance {\n\t\tname = g${g}si${s}\n\t\tcsi_descriptor {\n\t\t\tcsi_name = x\n\t\t\ttype_name = t\n\t\t}\n\t}\n`);
    }
    out.push('}\n');
  }
  return out.join('');
}

const conf = loadConfig(config(), 'bench.conf');
if (!conf.ok) throw new Error(conf.error.map(String).join('\n'));
const model = conf.value;

const t0 = performance.now();
const h = new Harness(model);
h.send(...Array.from({ length: NODES }, (_, n) => ({ kind: 'node-up' as const, node: `n${n}` })));
const setupMs = performance.now() - t0;

const activeOnN0 = Object.values(h.state.sus).filter((s) => s.node === 'n0' && Object.values(s.assignments).some((a) => a.ha === 'active')).length;
const assigned = describeGroups(model, h.state).reduce((n, g) => n + g.assignments.length, 0);
console.log(`setup: ${SGS} SGs, ${SGS * PER} SUs, ${SGS * PER} SIs, ${assigned} SU-SI assignments, settled in ${setupMs.toFixed(0)} ms`);
console.log(`node n0 holds ${activeOnN0} active SUs`);

const input = { kind: 'node-down' as const, node: 'n0' };
// Warm up the JIT on the very decision being measured (the function is pure: same input, same output).
let last = step(model, h.state, input, h.now);
for (let i = 0; i < 200; i++) step(model, h.state, input, h.now);
const times: number[] = [];
// CPU time of this process too: on a shared, loaded machine wall time includes waiting for a core.
const cpu0 = process.cpuUsage();
for (let i = 0; i < 30; i++) {
  const t = performance.now();
  last = step(model, h.state, input, h.now);
  times.push(performance.now() - t);
}
const cpu = process.cpuUsage(cpu0);
times.sort((a, b) => a - b);
const csiSets = last.commands.filter((c) => c.kind === 'csi-set');
console.log(`decision: ${last.commands.length} commands (${csiSets.filter((c) => c.kind === 'csi-set' && c.haState === 'active').length} csi-set active, ${csiSets.filter((c) => c.kind === 'csi-set' && c.haState === 'standby').length} csi-set standby), ${last.notices.length} notices`);
console.log(`step times ms: min ${times[0]!.toFixed(2)} median ${times[15]!.toFixed(2)} max ${times[29]!.toFixed(2)} (30 runs)`);
console.log(`cpu time per step: ${((cpu.user + cpu.system) / 1000 / 30).toFixed(2)} ms (user+system, mean of 30)`);
console.log(`amf node_failure_step_ms=${times[15]!.toFixed(2)}`);
