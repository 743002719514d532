/** Fixtures that run the compliance suites against the real Node implementations. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlobStore } from '../../src/runtime/node/blob-store.js';
import { NodeDatagramNetwork } from '../../src/runtime/node/datagram.js';
import { LmdbDurableStore } from '../../src/runtime/node/lmdb-store.js';
import { NodeProcessRunner } from '../../src/runtime/node/process.js';
import { NodeStreamNetwork } from '../../src/runtime/node/stream.js';
import { createLogger, createMetricsRegistry } from '../../src/runtime/observability.js';
import type { DurableStore } from '../../src/runtime/ports/storage.js';
import type { DatagramFixture, Harness, ProcessFixture, Program, Programs, StoreFixture, StreamFixture } from './compliance/harness.js';

export const realHarness: Harness = {
  async waitFor(cond, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  },
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export function quietPorts(node = 'test'): { logger: ReturnType<typeof createLogger>; metrics: ReturnType<typeof createMetricsRegistry> } {
  return { logger: createLogger({ node, level: 'silent' }), metrics: createMetricsRegistry(node) };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `amfd-${prefix}-`));
}

export async function makeDatagramFixture(): Promise<DatagramFixture> {
  const q = quietPorts();
  return {
    harness: realHarness,
    a: new NodeDatagramNetwork(q),
    b: new NodeDatagramNetwork(q),
    addrA: '127.0.0.1:0',
    addrB: '127.0.0.1:0',
    dispose: async () => undefined,
  };
}

/** A TCP port on loopback where nothing listens (bound, then closed). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/**
 * A loopback port whose accept queue is full, so further SYNs are dropped and a connect hangs:
 * a child node listens with backlog 1, then blocks its event loop (Atomics.wait, no CPU) so it
 * never accepts; two filler connections fill the queue.
 */
export class Blackhole {
  private constructor(
    readonly address: string,
    private readonly child: ChildProcess,
    private readonly fillers: Socket[],
  ) {}

  static async start(): Promise<Blackhole> {
    const script = `const s=require('net').createServer().listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(s.address().port+'\\n');setTimeout(()=>Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0),50)})`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 150));
    const fillers: Socket[] = [];
    for (let i = 0; i < 2; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      fillers.push(s);
      await new Promise((r) => setTimeout(r, 20));
    }
    return new Blackhole(`127.0.0.1:${port}`, child, fillers);
  }

  stop(): void {
    for (const s of this.fillers) s.destroy();
    this.child.kill('SIGKILL');
  }
}

export async function makeStreamFixture(blackhole?: Blackhole): Promise<StreamFixture> {
  const q = quietPorts();
  return {
    harness: realHarness,
    server: new NodeStreamNetwork({ ...q, maxFrameSize: 1024 * 1024 }),
    client: new NodeStreamNetwork({ ...q, maxFrameSize: 8 * 1024 * 1024 }),
    listenAddress: '127.0.0.1:0',
    refusedAddress: `127.0.0.1:${await freePort()}`,
    ...(blackhole === undefined ? {} : { blackholeAddress: blackhole.address }),
    dispose: async () => undefined,
  };
}

const SH = '/bin/sh';
const BASE_ENV = { PATH: '/usr/bin:/bin' };

function sh(script: string): Program {
  return { argv: [SH, '-c', script], env: BASE_ENV };
}

export async function makeProcessFixture(): Promise<ProcessFixture> {
  const dir = tempDir('proc');
  let seq = 0;
  const programs: Programs = {
    exit: (code, afterMs) => sh(afterMs > 0 ? `sleep ${afterMs / 1000}; exit ${code}` : `exit ${code}`),
    hang: () => sh('exec sleep 1000'),
    // An ignored signal stays ignored across exec.
    ignoreTerm: () => sh("trap '' TERM; exec sleep 1000"),
    withGrandchild: () => {
      const file = join(dir, `grandchild-${seq++}`);
      return {
        program: sh(`sleep 1000 & echo $! > '${file}.part' && mv '${file}.part' '${file}'; wait`),
        grandchildPid: () => {
          try {
            return Number(readFileSync(file, 'utf8').trim());
          } catch {
            return undefined;
          }
        },
      };
    },
    printEnv: (name) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`printEnv: bad name ${name}`);
      return sh(`if [ -n "\${${name}+x}" ]; then printf '%s\\n' "$${name}"; else echo '<unset>'; fi`);
    },
    output: (bytes) => sh(`head -c ${bytes} /dev/zero | tr '\\0' x; head -c ${bytes} /dev/zero | tr '\\0' x >&2`),
    missing: () => ({ argv: ['/nonexistent/amfd-no-such-program'], env: BASE_ENV }),
  };
  return {
    harness: realHarness,
    runner: new NodeProcessRunner(quietPorts()),
    programs,
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function makeStoreFixture(): Promise<StoreFixture> {
  const dir = tempDir('store');
  let current: DurableStore | undefined;
  return {
    harness: realHarness,
    open: async () => {
      current = new LmdbDurableStore({ path: join(dir, 'lmdb') });
      return current;
    },
    // In-process we cannot lose unflushed data on purpose; closing is a crash that happened to lose
    // nothing, which the contract allows. The real kill -9 test is lmdb-crash.test.ts.
    crash: async () => {
      await current?.close();
      current = undefined;
    },
    openBlobs: async () => new FileBlobStore(join(dir, 'blobs')),
    dispose: async () => {
      await current?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
