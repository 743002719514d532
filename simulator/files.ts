import { posix } from 'node:path';
import type { FileError, FileStat, FileSystem } from '../src/runtime/ports/files.js';
import { err, ok, type Result } from '../src/util/result.js';

interface Entry {
  readonly dir: boolean;
  /** A Unix socket's file (made by listening on `unix:<path>`): neither a file nor a directory. */
  readonly socket?: boolean;
  mode: number;
  text: string;
}

/** Directories kept in RAM on a real machine: emptied when the machine (not just the daemon) reboots. */
const VOLATILE = ['/run', '/var/run', '/tmp'];

/**
 * One machine's file system, in memory: plain files and directories (no symlinks), deterministic.
 * It belongs to the machine, so it outlives daemon crashes; `reboot()` (a machine crash) empties
 * the volatile directories (pidfiles, sockets), like tmpfs.
 */
export class SimFileSystem implements FileSystem {
  private readonly entries = new Map<string, Entry>([['/', { dir: true, mode: 0o755, text: '' }]]);

  /** Create or replace a file (parents created): for scenarios that install scripts or pidfiles. */
  writeText(path: string, text: string, mode = 0o644): Result<void, FileError> {
    const p = norm(path);
    const parent = this.mkdirp(posix.dirname(p), 0o755);
    if (!parent.ok) return parent;
    if (this.entries.get(p)?.dir) return err({ kind: 'failed', path: p, detail: 'is a directory' });
    this.entries.set(p, { dir: false, mode: mode & 0o7777, text });
    return ok(undefined);
  }

  /**
   * The socket file a `unix:` listener creates (bind(2)): its directory must exist and nothing may
   * be at the path (EADDRINUSE, even for a stale socket).
   */
  bindSocket(path: string): Result<void, string> {
    const p = norm(path);
    if (this.entries.get(posix.dirname(p))?.dir !== true) return err(`${posix.dirname(p)}: no such directory (ENOENT)`);
    if (this.entries.has(p)) return err(`${p} exists (EADDRINUSE)`);
    this.entries.set(p, { dir: false, socket: true, mode: 0o755, text: '' });
    return ok(undefined);
  }

  /** Whether a socket file is at the path (what connect(2) on a Unix socket needs first). */
  isSocket(path: string): boolean {
    return this.entries.get(norm(path))?.socket === true;
  }

  readText(path: string, maxBytes: number): Result<string, FileError> {
    const p = norm(path);
    const e = this.entries.get(p);
    if (!e) return err({ kind: 'not-found', path: p });
    if (e.dir) return err({ kind: 'failed', path: p, detail: 'is a directory' });
    if (e.socket) return err({ kind: 'failed', path: p, detail: 'is a socket (ENXIO)' });
    return ok(Buffer.from(e.text).subarray(0, Math.max(0, maxBytes)).toString());
  }

  realpath(path: string): Result<string, FileError> {
    const p = norm(path);
    return this.entries.has(p) ? ok(p) : err({ kind: 'not-found', path: p });
  }

  stat(path: string): Result<FileStat, FileError> {
    const p = norm(path);
    const e = this.entries.get(p);
    if (!e) return err({ kind: 'not-found', path: p });
    return ok({ isFile: !e.dir && e.socket !== true, isDirectory: e.dir, mode: e.mode, size: Buffer.byteLength(e.text) });
  }

  isExecutable(path: string): boolean {
    const e = this.entries.get(norm(path));
    return e !== undefined && !e.dir && e.socket !== true && (e.mode & 0o111) !== 0;
  }

  remove(path: string): Result<void, FileError> {
    const p = norm(path);
    const e = this.entries.get(p);
    if (e?.dir) return err({ kind: 'failed', path: p, detail: 'is a directory' });
    this.entries.delete(p);
    return ok(undefined);
  }

  chmod(path: string, mode: number): Result<void, FileError> {
    const p = norm(path);
    const e = this.entries.get(p);
    if (!e) return err({ kind: 'not-found', path: p });
    e.mode = mode & 0o7777;
    return ok(undefined);
  }

  mkdirp(path: string, mode: number): Result<void, FileError> {
    const p = norm(path);
    const e = this.entries.get(p);
    if (e) return e.dir ? ok(undefined) : err({ kind: 'failed', path: p, detail: 'exists and is not a directory' });
    const parent = this.mkdirp(posix.dirname(p), mode);
    if (!parent.ok) return parent;
    this.entries.set(p, { dir: true, mode: mode & 0o7777, text: '' });
    return ok(undefined);
  }

  /** The machine crashed and booted again: tmpfs contents are gone, the disk's stay. */
  reboot(): void {
    for (const p of [...this.entries.keys()]) if (VOLATILE.some((v) => p.startsWith(`${v}/`))) this.entries.delete(p);
  }

  /** Paths in sorted order (for tests and traces). */
  list(): string[] {
    return [...this.entries.keys()].sort();
  }
}

function norm(path: string): string {
  return posix.resolve('/', path);
}
