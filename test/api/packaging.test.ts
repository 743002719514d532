/**
 * No Docker engine here, so the Dockerfile and the compose file are checked by parsing them: the
 * structure the brief requires, and that everything they refer to exists.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadDaemonConfig } from '../../src/daemon/config.js';
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
  assert.equal(cmd[1], '/opt/amfd/bin/amfd.js');
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
    ports.add(s.ports[0]!);
    assert.deepEqual(s.secrets, ['api_token']);
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
    writeFileSync(join(dir, 'groups.conf'), doc.configs['groups']!.content);
    for (const name of names) {
      const env: Record<string, string> = { ...doc.services[name]!.environment, AMFD_API_TOKEN_FILE: join(dir, 'token'), AMFD_GROUPS_CONF: join(dir, 'groups.conf'), AMFD_DATA_DIR: join(dir, name) };
      const cfg = loadDaemonConfig({ argv: [], env, cwd: root, defaultFile: 'conf/amfd.json' });
      assert.ok(cfg.ok, cfg.ok ? '' : cfg.error.join('\n'));
      assert.equal(cfg.value.nodeName, env['AMFD_NODE_NAME']);
      assert.deepEqual(cfg.value.join, ['amfd1:7946', 'amfd2:7946', 'amfd3:7946']);
      assert.equal(cfg.value.api.bind, '0.0.0.0:7950');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
