/**
 * Reads the web console's build output (dist/web, written by scripts/build-web.mjs) into memory
 * for the API to serve under /ui/. The package root is the nearest directory above this file with
 * amfd's package.json: the repository when amfd runs from its sources, /opt/amfd in the image
 * (where this file is dist/src/daemon/web-assets.js).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebConsole } from '../web/site.js';

export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string | null {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'amfd') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** The console from `dir` (default: <package root>/dist/web); missing output is said, not thrown. */
export function loadWebConsole(dir?: string): WebConsole {
  const root = dir ?? (packageRoot() === null ? null : join(packageRoot()!, 'dist', 'web'));
  if (root === null) return new WebConsole({ missing: 'amfd package root not found' });
  if (!existsSync(join(root, 'index.html'))) return new WebConsole({ missing: `${root}/index.html is missing: build it with npm run build:web (npm ci does it)` });
  try {
    const files = new Map<string, Uint8Array>();
    for (const p of walk(root)) files.set(relative(root, p).split(sep).join('/'), readFileSync(p));
    return new WebConsole({ files });
  } catch (e) {
    return new WebConsole({ missing: `${root}: ${(e as Error).message}` });
  }
}
