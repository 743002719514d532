/**
 * `npm start`'s launcher run headless (issue 9 "Must show"): every SI of conf/examples/groups.conf
 * assigned, one amfd killed and its SIs moved, then a clean stop with no stray process.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { GroupView } from '../../src/api/backend.js';
import { LAUNCH_VAR, ROOT } from '../../scripts/local-cluster.js';
import { findMarked, OWNER_VAR } from '../../src/daemon/orphans.js';
import { actives, sleep, waitFor } from './harness.js';

interface ClusterFile {
  readonly token: string;
  readonly nodes: ReadonlyArray<{ name: string; api: string; pid: number }>;
}

interface Launcher {
  readonly workDir: string;
  readonly process: ChildProcess;
  /** Its stdout so far. */
  out(): string;
  readonly exited: Promise<number | null>;
  /** Processes of its cluster still alive (amfds and components, by their environment). */
  strays(): number[];
  /** The cluster.json path, once the launcher printed its ready line. */
  ready(): Promise<string>;
}

/** `npm start`'s launcher, headless, in a fresh work dir. */
function launch(prefix: string): Launcher {
  const workDir = mkdtempSync(join(tmpdir(), `amfd-e2e-${prefix}-`));
  const p = spawn(process.execPath, [join(ROOT, 'scripts/start.mjs'), '--headless', '--work-dir', workDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return {
    workDir,
    process: p,
    out: () => out,
    exited: new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code))),
    strays: () => [...findMarked(LAUNCH_VAR, (v) => v === workDir), ...findMarked(OWNER_VAR, (v) => v.includes(`@${workDir}/`))],
    ready: () => waitFor('the launcher ready line', 30_000, async () => /amfd-start ready (\S+)/.exec(out)?.[1]),
  };
}

test('npm start launcher, headless: all SIs assigned, a node killed, its SIs move, clean stop', { timeout: 120_000 }, async () => {
  const l = launch('start');
  try {
    const file = await l.ready();
    const cluster = JSON.parse(readFileSync(file, 'utf8')) as ClusterFile;
    const names = cluster.nodes.map((n) => n.name);
    const groups = async (name: string): Promise<readonly GroupView[] | undefined> => {
      const n = cluster.nodes.find((x) => x.name === name)!;
      try {
        const r = await fetch(`http://${n.api}/v1/groups`, { headers: { authorization: `Bearer ${cluster.token}` }, signal: AbortSignal.timeout(2000) });
        return r.ok ? ((await r.json()) as { groups: GroupView[] }).groups : undefined;
      } catch {
        return undefined;
      }
    };
    const placement = async (via: readonly string[]): Promise<Map<string, string> | undefined> => {
      for (const n of via) {
        const g = await groups(n);
        if (!g) continue;
        const m = new Map<string, string>();
        for (const [si, list] of actives(g)) if (list.length === 1 && list[0]!.node) m.set(si, list[0]!.node);
        const all = g.flatMap((x) => x.sis.map((s) => s.name));
        return all.length > 0 && all.every((s) => m.has(s)) ? m : undefined;
      }
      return undefined;
    };
    const before = await waitFor('every SI of conf/examples/groups.conf active', 60_000, () => placement(names));
    assert.deepEqual([...before.keys()].sort(), ['counter_si', 'web-a', 'web-b']);
    const victim = cluster.nodes.find((n) => [...before.values()].includes(n.name))!;
    process.kill(victim.pid, 'SIGKILL');
    const survivors = names.filter((n) => n !== victim.name);
    const after = await waitFor('the SIs moved to the survivors', 30_000, async () => {
      const p = await placement(survivors);
      return p && [...p.values()].every((n) => n !== victim.name) ? p : undefined;
    });
    assert.equal(after.size, before.size);
  } finally {
    l.process.kill('SIGTERM');
    const code = await l.exited;
    await sleep(200);
    const left = l.strays();
    rmSync(l.workDir, { recursive: true, force: true });
    assert.equal(code, 0, `launcher exit status (output:\n${l.out()})`);
    assert.deepEqual(left, [], 'no amfd or component process is left');
  }
});

test('npm start launcher: a hang-up (terminal closed) stops the whole cluster too', { timeout: 60_000 }, async () => {
  const l = launch('hup');
  try {
    await l.ready();
    await waitFor('three amfd running', 10_000, async () => (findMarked(LAUNCH_VAR, (v) => v === l.workDir).length === 3 ? true : undefined));
    // Twice, as a closing terminal may deliver it: the second must not abandon the stop.
    l.process.kill('SIGHUP');
    l.process.kill('SIGHUP');
    assert.equal(await l.exited, 0, `launcher exit status (output:\n${l.out()})`);
    assert.match(l.out(), /stopped, no processes left/);
    assert.deepEqual(l.strays(), [], 'no amfd or component process is left');
  } finally {
    if (l.process.exitCode === null) l.process.kill('SIGKILL');
    for (const pid of l.strays()) process.kill(pid, 'SIGKILL');
    rmSync(l.workDir, { recursive: true, force: true });
  }
});
