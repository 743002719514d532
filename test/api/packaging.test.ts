/**
 * No Docker engine here, so the Dockerfile and the compose file are checked by parsing them: the
 * structure the brief requires, that everything they refer to exists (or is emitted by
 * `npm run build`, by the compiler's own account), that the image's production dependencies cover
 * every runtime import, and the HEALTHCHECK command itself run against a real API listener.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { tmpdir } from 'node:os';
import ts from 'typescript';
import { startApi } from './helpers.js';
import { MemoryBackend } from './memory-backend.js';
import { loadDaemonConfig } from '../../src/daemon/config.js';
import type { AddressFile } from '../../src/daemon/daemon.js';
import { loadConfig } from '../../src/model/index.js';

const root = new URL('../..', import.meta.url).pathname;

interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}

/** Dockerfile instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let l = lines[i]!;
    if (/^\s*(#|$)/.test(l)) continue;
    while (l.endsWith('\\')) l = `${l.slice(0, -1)} ${lines[++i] ?? ''}`;
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(l);
    assert.ok(m, `Dockerfile:${start + 1}: not an instruction: ${l}`);
    out.push({ op: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start + 1 });
  }
  return out;
}

const KNOWN = new Set(['FROM', 'ARG', 'ENV', 'RUN', 'COPY', 'ADD', 'WORKDIR', 'USER', 'VOLUME', 'EXPOSE', 'HEALTHCHECK', 'ENTRYPOINT', 'CMD', 'LABEL', 'STOPSIGNAL', 'SHELL']);

test('Dockerfile: multi-stage on node:20-bookworm-slim, non-root, /var/lib/amfd volume, tini, HEALTHCHECK on /ping, exec-form CMD, sources exist', () => {
  const ins = parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  for (const i of ins) assert.ok(KNOWN.has(i.op), `Dockerfile:${i.line}: unknown instruction ${i.op}`);
  const arg = ins.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
  assert.equal(arg?.args, 'NODE_IMAGE=node:20-bookworm-slim');
  const froms = ins.filter((i) => i.op === 'FROM');
  assert.equal(froms.length, 2, 'two stages');
  assert.equal(froms[0]!.args, '${NODE_IMAGE} AS build');
  assert.equal(froms[1]!.args, '${NODE_IMAGE}');
  const final = ins.slice(ins.indexOf(froms[1]!));

  // Every COPY --from names an earlier stage; every plain COPY source exists in the repository.
  for (const c of final.filter((i) => i.op === 'COPY')) {
    const from = /--from=(\S+)/.exec(c.args)?.[1];
    if (from) assert.equal(from, 'build');
    else for (const src of c.args.split(/\s+/).slice(0, -1)) assert.ok(existsSync(join(root, src)), `Dockerfile:${c.line}: ${src} does not exist`);
  }
  for (const c of ins.slice(0, ins.indexOf(froms[1]!)).filter((i) => i.op === 'COPY')) {
    for (const src of c.args.split(/\s+/).slice(0, -1)) assert.ok(existsSync(join(root, src)), `Dockerfile:${c.line}: ${src} does not exist`);
  }

  const user = final.filter((i) => i.op === 'USER').at(-1);
  assert.ok(user && !/^(root|0)(:|$)/.test(user.args), 'runs as a non-root user');
  assert.ok(final.some((i) => i.op === 'RUN' && /useradd .*--uid 10001/.test(i.args)));
  const volume = final.find((i) => i.op === 'VOLUME');
  assert.deepEqual(JSON.parse(volume!.args), ['/var/lib/amfd']);

  const exec = (op: string): string[] => {
    const i = final.find((x) => x.op === op);
    assert.ok(i, `${op} present`);
    const args = op === 'HEALTHCHECK' ? i.args.replace(/^(--\S+\s+)*CMD\s+/, '') : i.args;
    const parsed = JSON.parse(args) as unknown;
    assert.ok(Array.isArray(parsed) && parsed.every((x) => typeof x === 'string'), `${op} is in exec form (a JSON array)`);
    return parsed as string[];
  };
  assert.deepEqual(exec('ENTRYPOINT'), ['/usr/bin/tini', '--']);
  assert.ok(final.some((i) => i.op === 'RUN' && /apt-get install .*tini/.test(i.args)));
  const cmd = exec('CMD');
  assert.equal(cmd[0], 'node');
  assert.equal(cmd.at(-1), '/opt/amfd/bin/amfd.js');
  assert.ok(existsSync(join(root, 'bin/amfd.js')) && existsSync(join(root, 'conf/amfd.json')), 'the entry and the default config it reads');
  const health = exec('HEALTHCHECK');
  assert.equal(health[0], 'node');
  assert.match(health[2]!, /\/ping/);
  assert.match(health[2]!, /amfd\.addr\.json/);
  // The healthcheck script itself is valid JavaScript.
  assert.doesNotThrow(() => new Function(health[2]!));
  assert.match(final.find((i) => i.op === 'HEALTHCHECK')!.args, /--interval=\d+s .*--timeout=\d+s/);
});

test('compose.yaml: three amfd nodes, each with its own data volume, the API on host loopback, a valid groups.conf', () => {
  const require = createRequire(import.meta.url);
  const yaml = require('js-yaml') as { load: (s: string) => unknown };
  const doc = yaml.load(readFileSync(join(root, 'conf/examples/compose.yaml'), 'utf8')) as {
    services: Record<string, { build: { context: string; dockerfile: string }; environment: Record<string, string>; volumes: string[]; ports: string[]; secrets: string[]; hostname: string }>;
    volumes: Record<string, unknown>;
    secrets: Record<string, { file: string }>;
    configs: Record<string, { content: string }>;
  };
  const names = Object.keys(doc.services);
  assert.deepEqual(names, ['amfd1', 'amfd2', 'amfd3']);
  const ports = new Set<string>();
  names.forEach((name, i) => {
    const s = doc.services[name]!;
    assert.ok(existsSync(join(root, 'conf/examples', s.build.context, s.build.dockerfile)), 'builds the repository Dockerfile');
    assert.equal(s.hostname, name);
    assert.equal(s.environment['AMFD_NODE_NAME'], `n${i + 1}`);
    assert.equal(s.environment['AMFD_BOOTSTRAP_EXPECT'], '3');
    assert.deepEqual(s.volumes, [`${name}-data:/var/lib/amfd`]);
    assert.ok(`${name}-data` in doc.volumes);
    assert.equal(s.ports.length, 1);
    assert.match(s.ports[0]!, /^127\.0\.0\.1:795\d:7950$/);
    assert.equal(s.environment['AMFD_SWIM_BIND'], `${name}:7946`);
    assert.equal(s.environment['AMFD_API_TOKEN_FILE'], '/run/secrets/api_token');
    assert.equal(s.environment['AMFD_SWIM_KEYRING_FILE'], '/run/secrets/cluster_key', 'sealed between nodes');
    ports.add(s.ports[0]!);
    assert.deepEqual(s.secrets, ['api_token', 'cluster_key']);
  });
  assert.equal(ports.size, 3, 'each node on its own host port');
  const conf = loadConfig(doc.configs['groups']!.content, 'compose.yaml:groups');
  assert.ok(conf.ok, conf.ok ? '' : conf.error.join('\n'));
  assert.deepEqual(conf.value.nodes.map((n) => n.name), ['n1', 'n2', 'n3']);

  // Each node's environment is a valid amfd configuration over the image's conf/amfd.json (the
  // secret and the config file are stood in for by temp files).
  const dir = mkdtempSync(join(tmpdir(), 'amfd-compose-test-'));
  try {
    writeFileSync(join(dir, 'token'), 'secret\n');
    writeFileSync(join(dir, 'key'), `${Buffer.alloc(32, 5).toString('base64')}\n`);
    writeFileSync(join(dir, 'groups.conf'), doc.configs['groups']!.content);
    for (const name of names) {
      const env: Record<string, string> = { ...doc.services[name]!.environment, AMFD_API_TOKEN_FILE: join(dir, 'token'), AMFD_SWIM_KEYRING_FILE: join(dir, 'key'), AMFD_GROUPS_CONF: join(dir, 'groups.conf'), AMFD_DATA_DIR: join(dir, name) };
      const cfg = loadDaemonConfig({ argv: [], env, cwd: root, defaultFile: 'conf/amfd.json' });
      assert.ok(cfg.ok, cfg.ok ? '' : cfg.error.join('\n'));
      assert.equal(cfg.value.nodeName, env['AMFD_NODE_NAME']);
      assert.deepEqual(cfg.value.join, ['amfd1:7946', 'amfd2:7946', 'amfd3:7946']);
      assert.equal(cfg.value.api.bind, '0.0.0.0:7950');
      assert.equal(cfg.value.swim.keys.length, 1);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const dockerfile = (): Instruction[] => parseDockerfile(readFileSync(join(root, 'Dockerfile'), 'utf8'));
/** The instructions of the final stage. */
const finalStage = (ins: Instruction[]): Instruction[] => ins.slice(ins.indexOf(ins.filter((i) => i.op === 'FROM').at(-1)!));

test('image entry points: CMD and the amfctl link run bin/*.js, which load the dist/ files `npm run build` emits; the build stage copies every build input', () => {
  const ins = dockerfile();
  const final = finalStage(ins);
  const build = ins.slice(0, ins.indexOf(final[0]!));
  const workdir = final.find((i) => i.op === 'WORKDIR')!.args;
  assert.equal(workdir, '/opt/amfd');
  // Final stage: image path → repository path (COPY from the context) or build-stage path.
  const copies = final.filter((i) => i.op === 'COPY').map((c) => {
    const parts = c.args.split(/\s+/).filter((x) => !x.startsWith('--'));
    return { from: /--from=build/.test(c.args) ? 'build' : 'context', src: parts[0]!, dest: join(workdir, parts.at(-1)!) };
  });
  assert.ok(copies.some((c) => c.from === 'context' && c.src === 'bin' && c.dest === '/opt/amfd/bin'), 'bin/ is in the image');
  assert.ok(copies.some((c) => c.from === 'build' && c.src === '/src/dist' && c.dest === '/opt/amfd/dist'), 'dist/ comes from the build stage');
  assert.equal(build.find((i) => i.op === 'WORKDIR')?.args, '/src');

  // The compiler's output names for the build config, as `npm run build` (tsc -p tsconfig.build.json) writes them.
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(String(d.messageText)) });
  assert.ok(parsed && parsed.errors.length === 0);
  assert.match(readFileSync(join(root, 'bin/launch.js'), 'utf8'), /`\$\{root\}dist\/\$\{entry\}\.js`/, 'launch.js loads dist/<entry>.js');
  const cmd = JSON.parse(final.find((i) => i.op === 'CMD')!.args) as string[];
  const links = [...final.filter((i) => i.op === 'RUN').map((i) => i.args).join(' ').matchAll(/ln -s (\S+) (\S+)/g)].map((m) => m[1]!);
  assert.deepEqual(links, ['/opt/amfd/bin/amfd.js', '/opt/amfd/bin/amfctl.js']);
  for (const script of [cmd.at(-1)!, ...links]) {
    assert.ok(script.startsWith('/opt/amfd/bin/'), script);
    const local = join(root, relative(workdir, script));
    assert.ok(existsSync(local), `${script}: ${local} exists`);
    const entry = /launch\('([^']+)'\)/.exec(readFileSync(local, 'utf8'))?.[1];
    assert.ok(entry, `${script} launches an entry`);
    const source = join(root, `${entry}.ts`);
    assert.ok(parsed.fileNames.includes(source), `${entry}.ts is part of the build`);
    const js: string | undefined = ts.getOutputFileNames(parsed, source, false).find((f) => f.endsWith('.js'));
    assert.equal(js && relative(root, js), `dist/${entry}.js`, `${script} finds what the build emits`);
  }
  // Every input of the build (tsconfig files and included directories) is copied into the build stage.
  const inputs = new Set(build.filter((i) => i.op === 'COPY').flatMap((c) => c.args.split(/\s+/).slice(0, -1)));
  const raw = parsed.raw as { include: string[]; extends: string };
  // The build script's own files (the web console's build, scripts/build-web.mjs) too.
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const scripts = [...pkg.scripts['build']!.matchAll(/\bnode (\S+)/g)].map((m) => m[1]!);
  assert.deepEqual(scripts, ['scripts/build-web.mjs'], 'npm run build also builds the web console');
  for (const need of ['package.json', 'package-lock.json', 'tsconfig.build.json', raw.extends.replace(/^\.\//, ''), ...raw.include, ...scripts]) assert.ok(inputs.has(need), `the build stage copies ${need}`);
  // The console's build output lands in dist/web, which the final stage copies with dist/; amfd
  // finds it from its package root (src/daemon/web-assets.ts), /opt/amfd in the image.
  assert.match(readFileSync(join(root, 'scripts/build-web.mjs'), 'utf8'), /outDir = join\(root, 'dist', 'web'\)/);
  assert.match(readFileSync(join(root, 'src/daemon/web-assets.ts'), 'utf8'), /join\(packageRoot\(\)!, 'dist', 'web'\)/);
  assert.ok(final.some((i) => i.op === 'COPY' && /--from=build \/src\/package\.json \.\//.test(i.args)), 'the package.json that marks the package root is in the image');
});

test('image dependencies: every runtime import under src/ is a production dependency (the image prunes dev dependencies)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const final = finalStage(dockerfile());
  assert.ok(final.some((i) => i.op === 'COPY' && i.args.includes('/src/node_modules')));
  assert.match(dockerfile().find((i) => i.op === 'RUN' && i.args.includes('npm run build'))!.args, /npm prune --omit=dev/);
  const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : []));
  const used = new Set<string>();
  // The web console's browser code is not run by node: its imports are built into dist/web (test/web/build.test.ts).
  for (const f of files(join(root, 'src')).filter((x) => !x.startsWith(join(root, 'src/web/app/')))) {
    const text = readFileSync(f, 'utf8');
    // Value imports and re-exports (type-only ones are erased by the compiler).
    for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^;'"]*?\sfrom\s+)?'([^']+)'/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.') || spec.startsWith('node:')) continue;
      used.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  assert.ok(used.has('pino') && used.has('commander'), [...used].join(' '));
  for (const dep of used) assert.ok(dep in pkg.dependencies, `src/ imports ${dep}, which is not in package.json "dependencies" (npm prune --omit=dev drops it from the image)`);
});

test('HEALTHCHECK: the command passes against a real API listener found through amfd.addr.json, fails when it is gone; /var/lib/amfd is the volume, the data dir and the fallback', async () => {
  const final = finalStage(dockerfile());
  const health = JSON.parse(final.find((i) => i.op === 'HEALTHCHECK')!.args.replace(/^(--\S+\s+)*CMD\s+/, '')) as string[];
  const conf = JSON.parse(readFileSync(join(root, 'conf/amfd.json'), 'utf8')) as { data_dir: string };
  assert.equal(conf.data_dir, '/var/lib/amfd', 'the default data dir is the volume');
  assert.match(health[2]!, /process\.env\.AMFD_DATA_DIR \|\| '\/var\/lib\/amfd'/);
  assert.ok(final.some((i) => i.op === 'RUN' && /chown amfd:amfd \/var\/lib\/amfd/.test(i.args)), 'the volume belongs to the amfd user');
  const dir = mkdtempSync(join(tmpdir(), 'amfd-health-test-'));
  const api = await startApi(new MemoryBackend());
  // Asynchronously: the API answering the check runs in this process.
  const check = (): Promise<number | null> =>
    new Promise((resolve) => {
      const p = spawn(health[0] === 'node' ? process.execPath : health[0]!, health.slice(1), { env: { ...process.env, AMFD_DATA_DIR: dir }, stdio: 'ignore', timeout: 10_000 });
      p.once('exit', (code) => resolve(code));
    });
  try {
    assert.equal(await check(), 1, 'no address file yet (amfd not started): unhealthy');
    const addr: AddressFile = { node: 'n1', pid: process.pid, swim: '127.0.0.1:1', api: new URL(api.base).host, tls: false };
    writeFileSync(join(dir, 'amfd.addr.json'), JSON.stringify(addr));
    assert.equal(await check(), 0, 'healthy while the API answers /ping');
  } finally {
    await api.close();
  }
  try {
    assert.equal(await check(), 1, 'unhealthy once the API is gone');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compose.yaml: the three services name each other consistently (join list, binds on their own hostname, ports the image exposes)', () => {
  const require = createRequire(import.meta.url);
  const yaml = require('js-yaml') as { load: (s: string) => unknown };
  const doc = yaml.load(readFileSync(join(root, 'conf/examples/compose.yaml'), 'utf8')) as { services: Record<string, { hostname: string; environment: Record<string, string>; ports: string[] }> };
  const exposed = new Set(finalStage(dockerfile()).find((i) => i.op === 'EXPOSE')!.args.split(/\s+/).map((p) => Number(p.split('/')[0])));
  const services = Object.entries(doc.services);
  const swimOf = new Map(services.map(([name, s]) => [name, s.environment['AMFD_SWIM_BIND']!]));
  const names = new Set(services.map(([, s]) => s.environment['AMFD_NODE_NAME']));
  assert.equal(names.size, services.length, 'distinct node names');
  for (const [name, s] of services) {
    const env = s.environment;
    for (const key of ['AMFD_SWIM_BIND', 'AMFD_RAFT_BIND', 'AMFD_RPC_BIND']) {
      const [host, port] = env[key]!.split(':');
      assert.equal(host, s.hostname, `${name} ${key} binds its own hostname (peers reach it by that name)`);
      assert.ok(exposed.has(Number(port)), `${name} ${key} port ${port} is exposed by the image`);
    }
    // Every service joins through every service's SWIM address, itself included.
    assert.deepEqual(env['AMFD_JOIN']!.split(','), [...swimOf.values()]);
    const apiPort = Number(env['AMFD_API_BIND']!.split(':')[1]);
    assert.equal(Number(s.ports[0]!.split(':').at(-1)), apiPort, `${name} publishes its API port`);
    assert.ok(exposed.has(apiPort));
    assert.equal(env['AMFD_DATA_DIR'], '/var/lib/amfd');
  }
});
