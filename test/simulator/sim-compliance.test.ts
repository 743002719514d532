/**
 * The runtime's port compliance suites (test/runtime/compliance) run against the simulated
 * implementations. Each fixture is a fresh Simulation in free-running mode: the suites await
 * simulated I/O directly and wait through the harness, on virtual time.
 */
import type { Harness, Program, Programs, DatagramFixture, ProcessFixture, StoreFixture, StreamFixture } from '../runtime/compliance/harness.js';
import { datagramSuite } from '../runtime/compliance/datagram.suite.js';
import { processSuite } from '../runtime/compliance/process.suite.js';
import { storeSuite } from '../runtime/compliance/store.suite.js';
import { streamSuite } from '../runtime/compliance/stream.suite.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { Simulation } from '../../simulator/index.js';

/** A simulation whose nodes are bare ports (the "app" is the ports themselves). */
function freeRunning(nodes: readonly string[]): { sim: Simulation; harness: Harness; dispose: () => Promise<void> } {
  const sim = new Simulation({ seed: 1 });
  for (const n of nodes) sim.addNode(n, (ports: NodePorts) => ports);
  sim.startFreeRun();
  const harness: Harness = {
    async waitFor(cond, timeoutMs, what) {
      if (!(await sim.waitFor(cond, timeoutMs))) throw new Error(`timed out after ${timeoutMs} virtual ms waiting for: ${what}`);
    },
    sleep: (ms) => sim.sleep(ms),
  };
  return { sim, harness, dispose: () => sim.stopFreeRun() };
}

datagramSuite('simulator', async (): Promise<DatagramFixture> => {
  const { sim, harness, dispose } = freeRunning(['a', 'b']);
  return { harness, dispose, a: sim.ports('a').datagram, b: sim.ports('b').datagram, addrA: 'a:0', addrB: 'b:0' };
});

streamSuite('simulator', async (): Promise<StreamFixture> => {
  const { sim, harness, dispose } = freeRunning(['client', 'server']);
  sim.streams.setMaxFrameSize('server', 1024 * 1024);
  return {
    harness,
    dispose,
    server: sim.ports('server').stream,
    client: sim.ports('client').stream,
    listenAddress: 'server:0',
    refusedAddress: 'server:9',
    // A host that never answers: SYNs go nowhere until the connect times out.
    blackholeAddress: 'nowhere:7',
  };
});

processSuite('simulator', async (): Promise<ProcessFixture> => {
  const { sim, harness, dispose } = freeRunning(['host']);
  let grandchildren = 0;
  const prog = (...argv: string[]): Program => ({ argv, env: {} });
  const programs: Programs = {
    exit: (code, afterMs) => prog('sim:exit', String(code), String(afterMs)),
    hang: () => prog('sim:hang'),
    ignoreTerm: () => prog('sim:ignore-term'),
    withGrandchild: () => {
      const name = `test:grandchild-${++grandchildren}`;
      let pid: number | undefined;
      sim.programs.register(name, (ctx) => {
        pid = ctx.spawnChild(() => undefined, ['sim:hang']);
      });
      return { program: prog(name), grandchildPid: () => pid };
    },
    printEnv: (name) => prog('sim:env', name),
    output: (bytes) => prog('sim:output', String(bytes)),
    missing: () => prog('/nonexistent/amfd-compliance-missing'),
  };
  return { harness, dispose, runner: sim.ports('host').processes, programs };
});

storeSuite('simulator', async (): Promise<StoreFixture> => {
  const { sim, harness, dispose } = freeRunning(['db']);
  const up = (): NodePorts => {
    if (!sim.isUp('db')) sim.start('db');
    return sim.ports('db');
  };
  return {
    harness,
    dispose,
    open: async () => up().store,
    crash: async () => sim.crash('db'),
    openBlobs: async () => up().blobs,
  };
});
