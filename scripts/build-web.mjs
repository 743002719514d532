#!/usr/bin/env node
// Builds the web console (src/web/app, docs/web.md) into dist/web: every module the entry reaches
// is transpiled from TypeScript on its own (tsc's transpileModule: the type check is
// `npm run typecheck`), written as an ES module under js/ mirroring src/, and served as it is
// with an import map for preact, whose ES modules are copied into vendor/. No bundler and nothing
// fetched at run time: the browser loads exactly these files from the node.
//
// Run by `npm ci` (prepare), `npm run build`, `npm start` and the browser tests; `--prepare`
// skips quietly where there is nothing to build (the image's dependency layer has no sources).
// Files are replaced one by one through a rename and only when they changed, so two builds at
// once, or an amfd reading the output while it is rebuilt, never see half a file.
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APP = 'src/web/app';
const ENTRY = `${APP}/main.tsx`;

/** Bare imports the page may use → the file each is served as (under vendor/), from the package's exports. */
const VENDOR = {
  preact: ['preact', 'dist/preact.mjs', 'preact.mjs'],
  'preact/hooks': ['preact', 'hooks/dist/hooks.mjs', 'preact-hooks.mjs'],
  'preact/jsx-runtime': ['preact', 'jsx-runtime/dist/jsxRuntime.mjs', 'preact-jsx-runtime.mjs'],
};

const IMPORT_RE = /(?:^|[\s;}])(?:import|export)\s[^'"`]*?from\s*["']([^"']+)["']|(?:^|[\s;}])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** The specifiers a module's emitted JavaScript imports. */
export function importsOf(js) {
  return [...js.matchAll(IMPORT_RE)].map((m) => m[1] ?? m[2] ?? m[3]);
}

function compilerOptions(ts, root) {
  const file = join(root, APP, 'tsconfig.json');
  const read = ts.readConfigFile(file, ts.sys.readFile);
  if (read.error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(file));
  if (parsed.errors.length > 0) throw new Error(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'));
  return { ...parsed.options, noEmit: false, sourceMap: false, declaration: false };
}

/** A relative import of `from` (a source file) → the source file it names (`./x.js` is x.ts or x.tsx). */
function resolveSource(root, from, spec) {
  const base = resolve(dirname(from), spec).replace(/\.js$/, '');
  for (const ext of ['.ts', '.tsx']) if (existsSync(base + ext)) return base + ext;
  throw new Error(`${relative(root, from)}: import '${spec}' names no .ts or .tsx file`);
}

/** Where a source file is served from: js/<path under src>.js. */
const servedAs = (root, file) => `js/${relative(join(root, 'src'), file).split(sep).join('/').replace(/\.tsx?$/, '.js')}`;

/** Every file of the console: path under the output dir → contents. */
export function webFiles(root = ROOT) {
  const require = createRequire(join(root, 'package.json'));
  const ts = require('typescript');
  const options = compilerOptions(ts, root);
  const out = new Map();
  const seen = new Set();
  const queue = [join(root, ENTRY)];
  while (queue.length > 0) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    if (!file.startsWith(join(root, 'src') + sep)) throw new Error(`${relative(root, file)}: the console may only load modules under src/`);
    const r = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions: options, fileName: file, reportDiagnostics: true });
    if (r.diagnostics?.length) throw new Error(r.diagnostics.map((d) => `${relative(root, file)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`).join('\n'));
    for (const spec of importsOf(r.outputText)) {
      if (spec.startsWith('.')) queue.push(resolveSource(root, file, spec));
      else if (!(spec in VENDOR)) throw new Error(`${relative(root, file)}: imports '${spec}', which the browser cannot load (only relative modules and ${Object.keys(VENDOR).join(', ')})`);
    }
    out.set(servedAs(root, file), r.outputText);
  }
  const imports = {};
  for (const [spec, [pkg, path, name]] of Object.entries(VENDOR)) {
    const text = readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), path), 'utf8');
    // The maps are not shipped; a browser's devtools would ask for them.
    out.set(`vendor/${name}`, text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n'));
    imports[spec] = `./vendor/${name}`;
  }
  out.set('vendor/preact-LICENSE.txt', readFileSync(join(dirname(require.resolve('preact/package.json')), 'LICENSE'), 'utf8'));
  const page = readFileSync(join(root, APP, 'index.html'), 'utf8');
  if (!page.includes('<!-- importmap -->')) throw new Error(`${APP}/index.html: no <!-- importmap --> placeholder`);
  out.set('index.html', page.replace('<!-- importmap -->', `<script type="importmap">${JSON.stringify({ imports })}</script>`).replace('<!-- entry -->', `<script type="module" src="./${servedAs(root, join(root, ENTRY))}"></script>`));
  for (const f of readdirSync(join(root, APP))) if (f.endsWith('.css') || f.endsWith('.svg')) out.set(f, readFileSync(join(root, APP, f), 'utf8'));
  return out;
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}

/** Writes the console into `outDir` (default dist/web); returns the paths written or kept. */
export function buildWeb({ root = ROOT, outDir = join(root, 'dist', 'web') } = {}) {
  const files = webFiles(root);
  for (const [path, text] of files) {
    const dest = join(outDir, path);
    const bytes = Buffer.from(text, 'utf8');
    if (existsSync(dest) && readFileSync(dest).equals(bytes)) continue;
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = `${dest}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, dest);
  }
  const wanted = new Set([...files.keys()].map((p) => join(outDir, p)));
  for (const f of listFiles(outDir)) if (!wanted.has(f) && !f.endsWith('.tmp')) rmSync(f, { force: true });
  return [...files.keys()].sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const prepare = process.argv.includes('--prepare');
  if (prepare && (!existsSync(join(ROOT, ENTRY)) || !existsSync(join(ROOT, 'node_modules', 'typescript')))) {
    process.stderr.write('build-web: no console sources or no typescript here; skipped (npm run build:web builds it)\n');
    process.exit(0);
  }
  try {
    const written = buildWeb();
    process.stderr.write(`build-web: ${written.length} files in ${relative(process.cwd(), join(ROOT, 'dist', 'web')) || '.'}\n`);
  } catch (e) {
    process.stderr.write(`build-web: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
