import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p` without `mkdirSync({ recursive: true })`: Node's recursive mkdir never returns when a
 * parent exists but refuses children with ENOENT (anything under /proc), so amfd with such a
 * data_dir hung silently. Each missing level is made on its own; any error but EEXIST throws.
 */
export function makeDirs(path: string, mode: number): void {
  const target = resolve(path);
  const missing: string[] = [];
  for (let p = target; ; p = dirname(p)) {
    try {
      if (!statSync(p).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p}'`), { code: 'ENOTDIR' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(p) === p) throw e;
      missing.push(p);
    }
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
