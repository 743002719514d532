/**
 * A cluster of real `amfd` processes on 127.0.0.1, each with its own data dir under one work dir:
 * what `npm start` runs, and what the e2e tests and bench:cluster drive. Every amfd and every
 * component carries the work dir in its environment, so stop() can prove nothing is left over.
 * A test may instead give each node a network namespace and an address in it (`hosts`), so that a
 * partition is cut below the process (test/e2e/netns.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdirSync, openSync, closeSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER_DEFAULTS } from '../src/cluster/options.js';
import { AMFD_NODE_FLAGS } from '../src/daemon/node-flags.js';
import { findMarked, OWNER_VAR } from '../src/daemon/orphans.js';
import { DEFAULT_SWIM_PROFILE } from '../src/swim/index.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Set on every amfd the launcher starts (and absent from their components, see AMFD_OWNER). */
export const LAUNCH_VAR = 'AMFD_LAUNCH_DIR';

export interface LocalNode {
  readonly name: string;
  readonly dataDir: string;
  readonly api: string;
  readonly swim: string;
  readonly raft: string;
  readonly rpc: string;
  readonly log: string;
  /** The network namespace its amfd runs in, if any. */
  readonly netns: string | undefined;
  process: ChildProcess | undefined;
}

export interface LocalClusterOptions {
  readonly workDir: string;
  readonly nodes: number;
  readonly groupsConf: string;
  readonly logLevel?: string;
  readonly leaseMs?: number;
  /** The amfd entry script; default bin/amfd.js (compiled dist/ when built, else tsx). */
  readonly entry?: string;
  /** Extra settings merged into every node's JSON config. */
  readonly extra?: Record<string, unknown>;
  /**
   * Per node (in order): the address it binds (its API, SWIM, Raft and RPC ports) and the network
   * namespace its amfd runs in (`ip netns exec`, root only). Default: all on 127.0.0.1, no namespace.
   */
  readonly hosts?: ReadonlyArray<{ readonly address: string; readonly netns: string }>;
}

/** A port free on 127.0.0.1 for both TCP and UDP (the cluster binds both on the SWIM and RPC ports). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

export class LocalCluster {
  readonly nodes: LocalNode[] = [];
  readonly token = randomBytes(16).toString('hex');
  /** The cluster key every node seals its traffic with: the demo is sealed, as what users copy should be. */
  readonly clusterKey = randomBytes(32).toString('base64');
  readonly tokenFile: string;

  private constructor(readonly o: LocalClusterOptions) {
    this.tokenFile = join(o.workDir, 'api-token');
  }

  /** Allocate ports and write each node's config; no process runs yet. */
  static async prepare(o: LocalClusterOptions): Promise<LocalCluster> {
    const c = new LocalCluster(o);
    mkdirSync(o.workDir, { recursive: true });
    writeFileSync(c.tokenFile, `${c.token}\n`, { mode: 0o600 });
    if (o.hosts !== undefined && o.hosts.length !== o.nodes) throw new Error(`${o.hosts.length} hosts for ${o.nodes} nodes`);
    const used = new Set<number>();
    // Ports free on loopback; a node in its own namespace has all of its ports free anyway.
    const port = async (host: string): Promise<string> => {
      let p = await freePort();
      while (used.has(p)) p = await freePort();
      used.add(p);
      return `${host}:${p}`;
    };
    for (let i = 1; i <= o.nodes; i++) {
      const name = `n${i}`;
      const host = o.hosts?.[i - 1];
      const a = host?.address ?? '127.0.0.1';
      c.nodes.push({ name, dataDir: join(o.workDir, name), api: await port(a), swim: await port(a), raft: await port(a), rpc: await port(a), log: join(o.workDir, `${name}.log`), netns: host?.netns, process: undefined });
    }
    for (const n of c.nodes) c.writeConfig(n);
    return c;
  }

  private writeConfig(n: LocalNode): void {
    const cfg = {
      node_name: n.name,
      data_dir: n.dataDir,
      log_level: this.o.logLevel ?? 'info',
      swim: { bind: n.swim, profile: DEFAULT_SWIM_PROFILE, keyring: [this.clusterKey] },
      raft: { bind: n.raft },
      rpc: { bind: n.rpc },
      join: this.nodes.filter((m) => m !== n).map((m) => m.swim),
      bootstrap_expect: Math.min(CLUSTER_DEFAULTS.bootstrapExpect, this.nodes.length),
      lease: { timeout_ms: this.o.leaseMs ?? CLUSTER_DEFAULTS.leaseMs, policy: 'stop' },
      groups_conf: this.o.groupsConf,
      api: { bind: n.api, token_file: this.tokenFile },
      ...this.o.extra,
    };
    writeFileSync(join(this.o.workDir, `${n.name}.json`), `${JSON.stringify(cfg, null, 2)}\n`);
  }

  node(name: string): LocalNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** Start (or restart) one node's amfd, logging to <work>/<name>.log. */
  startNode(name: string, env: Record<string, string> = {}): ChildProcess {
    const n = this.node(name);
    const out = openSync(n.log, 'a');
    const amfd = [process.execPath, ...AMFD_NODE_FLAGS, this.o.entry ?? join(ROOT, 'bin/amfd.js'), '--config', join(this.o.workDir, `${name}.json`)];
    // `ip netns exec` execs amfd in place: the child's pid is amfd's.
    const [file, ...args] = n.netns === undefined ? amfd : ['ip', 'netns', 'exec', n.netns, ...amfd];
    const child = spawn(file!, args, {
      cwd: ROOT,
      env: { ...process.env, ...env, [LAUNCH_VAR]: this.o.workDir },
      stdio: ['ignore', out, out],
      detached: true,
    });
    closeSync(out);
    child.on('error', () => undefined);
    n.process = child;
    return child;
  }

  startAll(env: Record<string, string> = {}): void {
    for (const n of this.nodes) this.startNode(n.name, env);
  }

  /** Signal one node's amfd (SIGKILL: a crash; its components keep running as they would). */
  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const p = this.node(name).process;
    if (p?.pid !== undefined && p.exitCode === null && p.signalCode === null) process.kill(p.pid, signal);
  }

  /** GET an API path on a node; undefined when the node does not answer. */
  async get<T>(name: string, path: string, timeoutMs = 2000): Promise<T | undefined> {
    try {
      const r = await fetch(`http://${this.node(name).api}${path}`, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(timeoutMs) });
      return r.ok ? ((await r.json()) as T) : undefined;
    } catch {
      return undefined;
    }
  }

  async post(name: string, path: string, body: unknown): Promise<number> {
    try {
      const r = await fetch(`http://${this.node(name).api}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      await r.text();
      return r.status;
    } catch {
      return 0;
    }
  }

  /** Processes of this cluster still alive: amfds and components (found by their environment). */
  strays(): number[] {
    const dir = this.o.workDir;
    return [...new Set([...findMarked(LAUNCH_VAR, (v) => v === dir), ...findMarked(OWNER_VAR, (v) => v.includes(`@${dir}/`))])];
  }

  /**
   * SIGTERM every amfd (graceful: they stop their components), wait up to graceMs, then SIGKILL
   * whatever of this cluster is left, amfds and components alike.
   */
  async stop(graceMs = 15_000): Promise<void> {
    const running = this.nodes.map((n) => n.process).filter((p): p is ChildProcess => p !== undefined && p.exitCode === null && p.signalCode === null);
    const exited = running.map((p) => new Promise<void>((resolve) => p.once('exit', () => resolve())));
    for (const p of running) if (p.pid !== undefined) process.kill(p.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(exited), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (let round = 0; round < 20; round++) {
      const left = this.strays();
      if (left.length === 0) return;
      for (const pid of left) {
        for (const t of [-pid, pid]) {
          try {
            process.kill(t, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
