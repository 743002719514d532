/**
 * The cost of sealing cluster traffic on a Raft-like load: 1 KiB frames.
 *   1. seal + open alone (one core, no I/O): the crypto's own ceiling;
 *   2. frames streamed over loopback TCP (NodeStreamNetwork), in clear and sealed, with
 *      backpressure as the Raft transport does it: what the decorator costs end to end.
 * Last line: `sealed frame_bytes=1024 seal_open_frames_per_s=… seal_open_mb_per_s=…
 *   tcp_plain_frames_per_s=… tcp_sealed_frames_per_s=… tcp_sealed_mb_per_s=…`.
 */
import { randomBytes } from 'node:crypto';
import { SealContext } from '../src/cluster/sealed-channel.js';
import { sealedStreamNetwork } from '../src/cluster/sealed-stream.js';
import { createLogger, createMetricsRegistry } from '../src/runtime/observability.js';
import { NodeClock, NodeStreamNetwork, createNodeRandom } from '../src/runtime/node/index.js';
import type { StreamNetwork } from '../src/runtime/ports/stream.js';
import { Keyring } from '../src/swim/index.js';
import { measure, summarize } from './harness.js';

const FRAME = 1024;
const CPU_FRAMES = 100_000;
const TCP_FRAMES = 50_000;
const MB = 1024 * 1024;

const logger = createLogger({ node: 'bench', level: 'silent' });
const metrics = createMetricsRegistry('bench');
const clock = new NodeClock();
const random = createNodeRandom();
const ring = Keyring.create(random.fork('iv'), [randomBytes(32)]);
if (!ring.ok) throw new Error(ring.error);
const seal = new SealContext(ring.value, random.fork('nonce'), clock, logger, metrics);

function sealOpen(): void {
  const frame = randomBytes(FRAME);
  const ctx = [randomBytes(9), randomBytes(16), randomBytes(16)];
  for (let i = 0; i < CPU_FRAMES; i++) {
    const r = seal.open('raft', 4, ctx, seal.seal('raft', 4, ctx, frame));
    if (!r.ok) throw new Error(r.error);
  }
}

/** Stream TCP_FRAMES frames from a client to a server on loopback; resolves when all arrived. */
async function stream(net: StreamNetwork): Promise<void> {
  const listener = await net.listen('127.0.0.1:0');
  let received = 0;
  const done = new Promise<void>((resolve) =>
    listener.onConnection((conn) =>
      conn.onFrame(() => {
        if (++received === TCP_FRAMES) resolve();
      }),
    ),
  );
  const c = await net.connect(listener.address, { timeoutMs: 5000 });
  if (!c.ok) throw new Error(c.error.kind);
  const conn = c.value;
  const frame = randomBytes(FRAME);
  let sent = 0;
  const pump = (): void => {
    while (sent < TCP_FRAMES) {
      sent++;
      if (!conn.send(frame)) return;
    }
  };
  conn.onDrain(pump);
  pump();
  await done;
  conn.close();
  await listener.close();
}

const perSecond = (n: number, ms: number): number => (n / ms) * 1000;

const cpu = summarize((await measure(sealOpen, { warmup: 1, runs: 5 })).map((s) => s.wallMs));
const plainNet = new NodeStreamNetwork({ logger, metrics });
const plain = summarize((await measure(() => stream(plainNet), { warmup: 1, runs: 5 })).map((s) => s.wallMs));
const sealedNet = sealedStreamNetwork(plainNet, seal, 'raft');
const sealed = summarize((await measure(() => stream(sealedNet), { warmup: 1, runs: 5 })).map((s) => s.wallMs));

const sealOpenFps = perSecond(CPU_FRAMES, cpu.median);
const plainFps = perSecond(TCP_FRAMES, plain.median);
const sealedFps = perSecond(TCP_FRAMES, sealed.median);
console.log(`seal+open of ${CPU_FRAMES} frames of ${FRAME} B: median ${cpu.median.toFixed(0)} ms (5 runs); ${TCP_FRAMES} frames over loopback TCP: plain median ${plain.median.toFixed(0)} ms, sealed median ${sealed.median.toFixed(0)} ms (5 runs each, wall time)`);
console.log(
  `sealed frame_bytes=${FRAME} seal_open_frames_per_s=${sealOpenFps.toFixed(0)} seal_open_mb_per_s=${((sealOpenFps * FRAME) / MB).toFixed(1)} ` +
    `tcp_plain_frames_per_s=${plainFps.toFixed(0)} tcp_sealed_frames_per_s=${sealedFps.toFixed(0)} tcp_sealed_mb_per_s=${((sealedFps * FRAME) / MB).toFixed(1)}`,
);
