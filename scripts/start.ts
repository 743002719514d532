/**
 * `npm start` (scripts/start.mjs): a 3-node amfd cluster on 127.0.0.1 with
 * conf/examples/groups.conf, each node's data dir and log under a work dir, then
 * `amfctl status --watch` on node n1. Ctrl-C (or SIGTERM) stops amfctl, then every amfd
 * gracefully, then kills anything of the cluster still alive, and removes the work dir. So does
 * a hang-up (the terminal closed, an ssh session dropped): the amfds run in sessions of their
 * own and would otherwise be left running with nobody to stop them.
 *
 * --headless: no amfctl; writes <work>/cluster.json (nodes, API addresses, pids, token file) and
 * prints `amfd-start ready <path>`, then runs until signalled (what the launcher test drives).
 * --work-dir DIR (kept afterwards), --nodes N (default 3), --groups FILE.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, LocalCluster, ROOT } from './local-cluster.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const headless = process.argv.includes('--headless') || process.env['AMFD_START_HEADLESS'] === '1';
const given = arg('--work-dir');
const workDir = given ? resolve(given) : mkdtempSync(join(tmpdir(), 'amfd-'));
const nodes = Number(arg('--nodes') ?? '3');
const say = (s: string): void => void process.stdout.write(`${s}\n`);

/** Whether a TCP port on 127.0.0.1 can be listened on now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = createServer();
    s.once('error', () => done(false));
    s.listen(port, '127.0.0.1', () => s.close(() => done(true)));
  });
}

/**
 * A CSI attribute `port` (the demo's counter service) that something on this host holds already,
 * another demo cluster say, is given a free port in a copy of the file in the work dir: two
 * `npm start` clusters then coexist. Returns the file to use.
 */
async function withFreePorts(file: string): Promise<string> {
  const text = readFileSync(file, 'utf8');
  const re = /(name\s*=\s*port\s*\n\s*value\s*=\s*)(\d+)/g;
  const moved = new Map<string, number>();
  for (const m of text.matchAll(re)) {
    const port = m[2]!;
    if (!moved.has(port) && Number(port) > 0 && !(await portFree(Number(port)))) moved.set(port, await freePort());
  }
  if (moved.size === 0) return file;
  for (const [from, to] of moved) say(`amfd: port ${from} of ${file} is taken on 127.0.0.1 (another cluster?); this cluster uses ${to}`);
  const copy = join(workDir, 'groups.conf');
  mkdirSync(workDir, { recursive: true });
  writeFileSync(copy, text.replace(re, (all, key: string, port: string) => (moved.has(port) ? `${key}${moved.get(port)}` : all)));
  return copy;
}

const groupsConf = await withFreePorts(resolve(arg('--groups') ?? join(ROOT, 'conf/examples/groups.conf')));
const cluster = await LocalCluster.prepare({ workDir, nodes, groupsConf });
cluster.startAll();
const first = cluster.nodes[0]!;
say(`amfd: ${nodes} nodes on 127.0.0.1, work dir ${workDir} (logs: <node>.log)`);
for (const n of cluster.nodes) say(`  ${n.name}  API http://${n.api}  pid ${n.process?.pid ?? '?'}`);
say(`amfctl: AMFCTL_ADDR=${first.api} AMFCTL_TOKEN_FILE=${cluster.tokenFile} node bin/amfctl.js status`);
say(`web console: http://${first.api}/ui/ (any node's /ui/; the token is in ${cluster.tokenFile})`);

let stopping: Promise<never> | undefined;
/** Idempotent: Ctrl-C reaches amfctl and us, so both its exit and the signal call this. */
function stop(code: number): Promise<never> {
  stopping ??= doStop(code);
  return stopping;
}
async function doStop(code: number): Promise<never> {
  say('amfd: stopping the cluster…');
  await cluster.stop();
  const left = cluster.strays();
  if (!given) rmSync(workDir, { recursive: true, force: true });
  say(left.length === 0 ? 'amfd: stopped, no processes left' : `amfd: WARNING processes left: ${left.join(' ')}`);
  process.exit(left.length === 0 ? code : 1);
}
let signals = 0;
function onSignal(): void {
  // A second signal while stopping: give up waiting (the amfds got SIGTERM already).
  if (++signals > 1) process.exit(1);
  void stop(0);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// A hang-up may come more than once (from the kernel and from the shell) and nobody is there to
// mean "give up": it only starts the stop. The terminal is gone, so writes to it fail (EIO);
// they must not end the stop half way.
process.on('SIGHUP', () => void stop(0));
for (const out of [process.stdout, process.stderr]) out.on('error', () => undefined);

if (headless) {
  const file = join(workDir, 'cluster.json');
  writeFileSync(file, `${JSON.stringify({ token: cluster.token, tokenFile: cluster.tokenFile, nodes: cluster.nodes.map((n) => ({ name: n.name, api: n.api, pid: n.process?.pid, dataDir: n.dataDir, log: n.log })) }, null, 2)}\n`);
  say(`amfd-start ready ${file}`);
  setInterval(() => undefined, 1 << 30);
} else {
  // amfctl shares our terminal: Ctrl-C reaches it and us; it exits, we stop the cluster.
  const ctl = spawn(process.execPath, [join(ROOT, 'bin/amfctl.js'), 'status', '--watch'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, AMFCTL_ADDR: first.api, AMFCTL_TOKEN_FILE: cluster.tokenFile },
  });
  ctl.on('exit', () => void stop(0));
}
