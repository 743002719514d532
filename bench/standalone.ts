/**
 * The agent benches' node: one NodeAgent on real ports driven by the AMF engine (StandaloneLoop),
 * and waiting for the engine's inputs: the time (on the loop's clock) one matching arrived.
 */
import { NodeAgent } from '../src/agent/agent.js';
import { MAX_FRAME_BYTES } from '../src/agent/protocol.js';
import type { AmfInput } from '../src/amf/commands.js';
import type { AmfModel } from '../src/model/types.js';
import type { Clock } from '../src/runtime/ports/clock.js';
import type { Logger } from '../src/runtime/ports/observability.js';
import { NodeFileSystem } from '../src/runtime/node/files.js';
import { NodeClock, NodeProcessRunner, NodeStreamNetwork, createNodeRandom } from '../src/runtime/node/index.js';
import { createLogger, createMetricsRegistry } from '../src/runtime/observability.js';
import { StandaloneLoop } from '../test/agent/standalone.js';

export interface BenchNode {
  readonly agent: NodeAgent;
  readonly loop: StandaloneLoop;
  readonly clock: NodeClock;
  readonly processes: NodeProcessRunner;
  readonly logger: Logger;
}

/** node1: its agent started (component API on `socketPath`), the loop not yet (see startWithPair). */
export async function benchNode(model: AmfModel, socketPath: string, path: string): Promise<BenchNode> {
  const logger = createLogger({ node: 'node1', level: (process.env.BENCH_LOG as 'info' | undefined) ?? 'silent' });
  const metrics = createMetricsRegistry('node1');
  const clock = new NodeClock();
  const processes = new NodeProcessRunner({ logger, metrics });
  const agent = new NodeAgent(
    { clock, random: createNodeRandom(), processes, files: new NodeFileSystem(), stream: new NodeStreamNetwork({ logger, metrics, maxFrameSize: MAX_FRAME_BYTES }), logger, metrics },
    model,
    { socketPath, baseEnv: { PATH: path } },
  );
  const started = await agent.start();
  if (!started.ok) throw new Error(started.error);
  return { agent, loop: new StandaloneLoop(model, agent, 'node1', clock, logger), clock, processes, logger };
}

export type WaitInput = (pred: (i: AmfInput) => boolean, what: string, timeoutMs?: number) => Promise<number>;

export function inputWaiter(loop: StandaloneLoop, clock: Clock, defaultTimeoutMs = 30_000): WaitInput {
  const waiters: Array<{ pred: (i: AmfInput) => boolean; resolve: (at: number) => void }> = [];
  loop.onInput((input) => {
    const at = clock.now();
    for (const w of [...waiters]) {
      if (w.pred(input)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(at);
      }
    }
  });
  return (pred, what, timeoutMs = defaultTimeoutMs) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: no ${what} within ${timeoutMs} ms`)), timeoutMs);
      waiters.push({ pred, resolve: (at) => (clearTimeout(timer), resolve(at)) });
    });
}

/** csi-set-done of `su` in HA state `ha`. */
export const csiDone = (su: string, ha: string) => (i: AmfInput): boolean => i.kind === 'csi-set-done' && i.su === su && i.haState === ha;

/**
 * Start the loop and wait until a 2N pair has its active and its standby and a single SU its
 * active assignment; the pair's active SU.
 */
export async function startWithPair(loop: StandaloneLoop, waitInput: WaitInput, pair: readonly string[], single: string): Promise<string> {
  const ready = Promise.all([
    Promise.race(pair.map((su) => waitInput(csiDone(su, 'active'), 'initial active').then(() => su))),
    Promise.race(pair.map((su) => waitInput(csiDone(su, 'standby'), 'initial standby'))),
    waitInput(csiDone(single, 'active'), `${single} active`),
  ]);
  loop.start();
  return (await ready)[0];
}
