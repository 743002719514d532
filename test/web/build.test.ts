/**
 * The web console's build (scripts/build-web.mjs): every module the page loads is in the output
 * and every import in it resolves to a file there (relative, or preact through the import map);
 * nothing reaches for node or the network; rebuilding changes nothing and drops stale files; the
 * prepare hook of `npm ci` skips cleanly where there are no sources (the image's first layer).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { loadWebConsole, packageRoot } from '../../src/daemon/web-assets.js';
// @ts-expect-error: a plain ES module script without types
import { buildWeb, importsOf } from '../../scripts/build-web.mjs';

const root = new URL('../..', import.meta.url).pathname;
const build = buildWeb as (o: { outDir: string }) => string[];
const imports = importsOf as (js: string) => string[];

test('build: every import of every served module resolves to a served file; nothing from node or elsewhere', () => {
  const out = mkdtempSync(join(tmpdir(), 'amfd-web-build-'));
  try {
    const files = build({ outDir: out });
    assert.ok(files.includes('index.html') && files.includes('js/web/app/main.js') && files.includes('vendor/preact.mjs') && files.includes('style.css'));
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    const map = JSON.parse(/<script type="importmap">(.*?)<\/script>/.exec(html)![1]!) as { imports: Record<string, string> };
    const entry = /<script type="module" src="\.\/([^"]+)"><\/script>/.exec(html)![1]!;
    assert.ok(files.includes(entry), `the entry ${entry} is served`);
    for (const target of Object.values(map.imports)) assert.ok(files.includes(target.replace(/^\.\//, '')), `${target} is served`);
    let checked = 0;
    for (const f of files.filter((x) => x.endsWith('.js') || x.endsWith('.mjs'))) {
      for (const spec of imports(readFileSync(join(out, f), 'utf8'))) {
        checked++;
        if (spec.startsWith('.')) assert.ok(files.includes(posix.normalize(posix.join(posix.dirname(f), spec))), `${f}: ${spec} is served`);
        else assert.ok(spec in map.imports, `${f}: ${spec} is in the import map`);
      }
    }
    assert.ok(checked > 20, `${checked} imports checked`);
    assert.ok(!files.some((f) => f.endsWith('.ts') || f.endsWith('.tsx')), 'no TypeScript source is served');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('build: a rebuild rewrites nothing unchanged and drops files that are no longer built', () => {
  const out = mkdtempSync(join(tmpdir(), 'amfd-web-build-'));
  try {
    build({ outDir: out });
    const page = join(out, 'index.html');
    const before = statSync(page).mtimeMs;
    writeFileSync(join(out, 'js', 'stale.js'), 'export {};\n');
    build({ outDir: out });
    assert.equal(statSync(page).mtimeMs, before);
    assert.equal(existsSync(join(out, 'js', 'stale.js')), false);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('prepare: npm ci builds the console in a checkout, and skips (exit 0) where the sources are not there yet', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts['prepare']!, /scripts\/build-web\.mjs/);
  assert.match(pkg.scripts['build']!, /node scripts\/build-web\.mjs/, 'npm run build (the image) builds it too');
  const empty = mkdtempSync(join(tmpdir(), 'amfd-web-prepare-'));
  try {
    const r = spawnSync('sh', ['-c', pkg.scripts['prepare']!], { cwd: empty, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const here = spawnSync(process.execPath, [join(root, 'scripts/build-web.mjs'), '--prepare'], { cwd: dirname(root), encoding: 'utf8' });
    assert.equal(here.status, 0, here.stderr);
    assert.match(here.stderr, /build-web: \d+ files/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('the daemon serves what the build wrote: every file under its path; without a build it says how to make one', () => {
  const out = mkdtempSync(join(tmpdir(), 'amfd-web-build-'));
  try {
    const files = build({ outDir: out });
    const ui = loadWebConsole(out);
    assert.equal(ui.missing, null);
    assert.deepEqual(ui.paths(), [...files].sort());
    assert.equal(ui.get('', undefined)?.status, 200, 'the page itself');
    assert.equal(ui.get('js/web/app/main.js', undefined)?.headers['content-type'], 'text/javascript; charset=utf-8');
    const none = loadWebConsole(join(out, 'nothing-here'));
    assert.match(none.missing ?? '', /index\.html is missing: build it with npm run build:web/);
    assert.equal(none.get('', undefined)?.status, 503);
    assert.equal(packageRoot(), root.replace(/\/$/, ''), 'the package root is found from the daemon\'s own file');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
