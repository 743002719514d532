import { makeDirs } from './make-dirs.js';
import { accessSync, chmodSync, constants, openSync, readSync, closeSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { err, ok, type Result } from '../../util/result.js';
import type { FileError, FileStat, FileSystem } from '../ports/files.js';

function toError(path: string, e: unknown): FileError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'not-found', path };
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'permission-denied', path };
  return { kind: 'failed', path, detail: e instanceof Error ? e.message : String(e) };
}

function attempt<T>(path: string, fn: () => T): Result<T, FileError> {
  try {
    return ok(fn());
  } catch (e) {
    return err(toError(path, e));
  }
}

/** The real file system (node:fs, synchronous calls). */
export class NodeFileSystem implements FileSystem {
  readText(path: string, maxBytes: number): Result<string, FileError> {
    return attempt(path, () => {
      const fd = openSync(path, 'r');
      try {
        const buf = Buffer.alloc(maxBytes);
        let used = 0;
        while (used < maxBytes) {
          const n = readSync(fd, buf, used, maxBytes - used, null);
          if (n === 0) break;
          used += n;
        }
        return buf.subarray(0, used).toString('utf8');
      } finally {
        closeSync(fd);
      }
    });
  }

  realpath(path: string): Result<string, FileError> {
    return attempt(path, () => realpathSync(path));
  }

  stat(path: string): Result<FileStat, FileError> {
    return attempt(path, () => {
      const s = statSync(path);
      return { isFile: s.isFile(), isDirectory: s.isDirectory(), mode: s.mode & 0o7777, size: s.size };
    });
  }

  isExecutable(path: string): boolean {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }

  writeText(path: string, text: string, mode = 0o644): Result<void, FileError> {
    const aside = `${path}.${process.pid}.tmp`;
    const r = attempt(path, () => {
      writeFileSync(aside, text, { mode });
      renameSync(aside, path);
    });
    if (!r.ok) rmSync(aside, { force: true });
    return r;
  }

  remove(path: string): Result<void, FileError> {
    return attempt(path, () => rmSync(path, { force: true }));
  }

  chmod(path: string, mode: number): Result<void, FileError> {
    return attempt(path, () => chmodSync(path, mode));
  }

  mkdirp(path: string, mode: number): Result<void, FileError> {
    return attempt(path, () => {
      makeDirs(path, mode);
    });
  }
}
