/** Real-process test harness for the node agent: real ports, a temp dir, and a fault log. */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeAgent, type AgentOptions, type AgentPorts } from '../../src/agent/agent.js';
import type { AgentFault } from '../../src/agent/component.js';
import { MAX_FRAME_BYTES } from '../../src/agent/protocol.js';
import { loadConfig } from '../../src/model/index.js';
import type { AmfModel } from '../../src/model/types.js';
import { NodeFileSystem } from '../../src/runtime/node/files.js';
import { NodeClock, NodeProcessRunner, NodeStreamNetwork } from '../../src/runtime/node/index.js';
import { createLogger, createMetricsRegistry } from '../../src/runtime/observability.js';
import { Xoshiro128 } from '../../src/runtime/xoshiro.js';

export const logger = createLogger({ node: 'test', level: (process.env.AGENT_TEST_LOG as 'debug' | undefined) ?? 'silent' });

export function makeDir(): string {
  return mkdtempSync(join(tmpdir(), 'amf-agent-'));
}

export function writeScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** groups.conf text with `@DIR@` replaced by the test's temp dir. */
export function model(dir: string, text: string): AmfModel {
  const r = loadConfig(text.replaceAll('@DIR@', dir), 'test.conf');
  if (!r.ok) throw new Error(r.error.map((e) => e.message).join('\n'));
  return r.value;
}

/**
 * One noredundancy group of one SU (su1, with the lines `unit` such as `nodes = n1 n2`) of one
 * component (`comp`) whose kind lines are `kind`, and one SI.
 */
export function oneComponentConf(kind: string, comp = 'c1', unit = ''): string {
  return `group {
	name = g
	model = noredundancy
	unit {
		name = su1
		${unit}
		component {
			name = ${comp}
			comptype = non_proxied_non_sa_aware
			${kind}
			csi_type_name {
				name = t
			}
		}
	}
	serviceinstance {
		name = si1
		csi_descriptor {
			csi_name = csi1
			type_name = t
		}
	}
}
`;
}

/** The environment a component dumped with `env > file` (its AMF_COMPONENT_SECRET included). */
export function readEnvFile(path: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  ) as Record<string, string>;
}

export function streamNetwork(): NodeStreamNetwork {
  const metrics = createMetricsRegistry('test');
  return new NodeStreamNetwork({ logger, metrics, maxFrameSize: MAX_FRAME_BYTES });
}

export const processes = new NodeProcessRunner({ logger, metrics: createMetricsRegistry('test') });
export const clock = new NodeClock();

export interface TestAgent {
  readonly agent: NodeAgent;
  readonly dir: string;
  readonly socketPath: string;
  readonly faults: AgentFault[];
  /** Resolve with the first fault (already seen or future) matching pred; reject after timeoutMs. */
  waitFault(pred: (f: AgentFault) => boolean, timeoutMs?: number): Promise<AgentFault>;
  close(): Promise<void>;
}

export async function startAgent(dir: string, m: AmfModel, options: Partial<AgentOptions> = {}, ports: Partial<AgentPorts> = {}): Promise<TestAgent> {
  const socketPath = join(dir, 'amf.sock');
  const agent = new NodeAgent(
    { clock, random: new Xoshiro128([1, 2, 3, 4]), processes, files: new NodeFileSystem(), stream: streamNetwork(), logger, metrics: createMetricsRegistry('test'), ...ports },
    m,
    { socketPath, baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, openaisPidDirs: [dir], killGraceMs: 200, ...options },
  );
  const started = await agent.start();
  if (!started.ok) throw new Error(started.error);
  const faults: AgentFault[] = [];
  const waiters: Array<() => void> = [];
  agent.onFault((f) => {
    faults.push(f);
    for (const w of waiters.splice(0)) w();
  });
  const waitFault = (pred: (f: AgentFault) => boolean, timeoutMs = 5000): Promise<AgentFault> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching fault within ${timeoutMs} ms; seen ${JSON.stringify(faults)}`)), timeoutMs);
      const check = (): void => {
        const f = faults.find(pred);
        if (f) {
          clearTimeout(timer);
          resolve(f);
        } else waiters.push(check);
      };
      check();
    });
  return {
    agent,
    dir,
    socketPath,
    faults,
    waitFault,
    async close() {
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Live (not zombie) processes in a process group, from /proc. */
export function groupMembers(pgid: number): number {
  let n = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) n++;
  }
  return n;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll until pred() holds or the time is up; returns the last value of pred(). */
export async function eventually(pred: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pred()) return true;
    await sleep(10);
  }
  return pred();
}

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The sample's own groups.conf, pointed at this source tree and a free port; `<dir>/fail` fails its healthchecks. */
export function counterConf(dir: string, port: number): string {
  return readFileSync(join(ROOT, 'conf/examples/counter-service/groups.conf'), 'utf8')
    .replaceAll('/opt/amfd', ROOT)
    .replaceAll('value = 18080', `value = ${port}`)
    .replaceAll('period = 1000', 'period = 200')
    .replaceAll('HEALTHCHECK_KEY = counter-hc', `HEALTHCHECK_KEY = counter-hc\n\t\t\t\tFAIL_HEALTHCHECK_FILE = ${dir}/fail`);
}

