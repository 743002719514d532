/**
 * A cluster of bench/raft-node.ts processes on loopback, shared by the real-process test and the
 * benchmark: spawn with port 0, bootstrap with the addresses they report, SIGKILL and restart on
 * the same ports, KV clients to each node, leader discovery.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NodeClock, NodeStreamNetwork } from '../src/runtime/node/index.js';
import { createLogger, createMetricsRegistry } from '../src/runtime/observability.js';
import { KvClient } from './kv-service.js';

const root = new URL('..', import.meta.url).pathname;

export interface ProcNode {
  readonly id: string;
  readonly dir: string;
  raftAddr: string;
  kvAddr: string;
  proc: ChildProcess | undefined;
  client: KvClient | undefined;
}

export class ProcCluster {
  readonly nodes: ProcNode[] = [];
  readonly clock = new NodeClock();
  readonly net = new NodeStreamNetwork({ logger: createLogger({ node: 'client', level: 'silent' }), metrics: createMetricsRegistry('client') });
  private readonly base: string;
  stderr = '';

  constructor(size: number) {
    this.base = mkdtempSync(join(tmpdir(), 'amfd-raft-'));
    for (let i = 1; i <= size; i++) this.nodes.push({ id: `n${i}`, dir: join(this.base, `n${i}`), raftAddr: '127.0.0.1:0', kvAddr: '127.0.0.1:0', proc: undefined, client: undefined });
  }

  async start(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.spawn(n)));
    const servers = this.nodes.map((n) => ({ id: n.id, address: n.raftAddr }));
    for (const n of this.nodes) n.proc!.stdin!.write(`${JSON.stringify({ bootstrap: servers })}\n`);
  }

  /** Start (or restart, on the same ports) one node; resolves once it listens. */
  spawn(n: ProcNode): Promise<void> {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/raft-node.ts'), '--id', n.id, '--dir', n.dir, '--raft', n.raftAddr, '--kv', n.kvAddr], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    n.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: proc.stdout! });
      lines.on('line', (line) => {
        if (!line.startsWith('READY ')) return;
        const a = JSON.parse(line.slice(6)) as { raft: string; kv: string };
        n.raftAddr = a.raft;
        n.kvAddr = a.kv;
        void this.connect(n).then(resolve, reject);
      });
      proc.on('exit', (code, signal) => {
        if (n.proc === proc) n.proc = undefined;
        reject(new Error(`${n.id} exited (${code ?? signal}) before READY: ${this.stderr.slice(-2000)}`));
      });
    });
  }

  private async connect(n: ProcNode): Promise<void> {
    n.client?.close();
    const c = await KvClient.connect(this.net, n.kvAddr, this.clock);
    if (!c.ok) throw new Error(c.error);
    n.client = c.value;
  }

  /** A client connection to node `n`, reconnecting if it was lost (e.g. after a restart). */
  async client(n: ProcNode): Promise<KvClient | undefined> {
    if (!n.client || n.client.closed) {
      const c = await KvClient.connect(this.net, n.kvAddr, this.clock, 300);
      n.client = c.ok ? c.value : undefined;
    }
    return n.client;
  }

  kill(n: ProcNode): void {
    n.proc?.kill('SIGKILL');
    n.proc = undefined;
    n.client?.close();
    n.client = undefined;
  }

  /** The node every reachable node names as leader, if they agree. */
  async leader(timeoutMs = 200): Promise<ProcNode | undefined> {
    const views = await Promise.all(this.nodes.map(async (n) => (n.proc ? (await (await this.client(n))?.status(timeoutMs))?.leader : undefined)));
    const named = views.filter((v): v is string => !!v);
    const id = named[0];
    return id && named.every((v) => v === id) ? this.nodes.find((n) => n.id === id) : undefined;
  }

  async waitForLeader(maxMs: number): Promise<ProcNode> {
    const t0 = this.clock.now();
    while (this.clock.now() - t0 < maxMs) {
      const l = await this.leader();
      if (l) return l;
      await sleep(20);
    }
    throw new Error(`no leader within ${maxMs} ms: ${this.stderr.slice(-2000)}`);
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) {
      n.client?.close();
      n.proc?.kill('SIGKILL');
    }
    await sleep(50);
    rmSync(this.base, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
