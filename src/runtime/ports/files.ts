import type { Result } from '../../util/result.js';

export type FileError =
  | { readonly kind: 'not-found'; readonly path: string }
  | { readonly kind: 'permission-denied'; readonly path: string }
  | { readonly kind: 'failed'; readonly path: string; readonly detail: string };

export interface FileStat {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  /** Permission bits (mode & 0o7777). */
  readonly mode: number;
  readonly size: number;
}

/**
 * The little of the local file system the node agent needs (pidfiles, command paths, the
 * component socket, the vm driver's state files). Synchronous on purpose: every call is a small
 * local metadata operation, and a synchronous port keeps the simulator's in-memory
 * implementation trivial and deterministic.
 */
export interface FileSystem {
  /** Read a text file, keeping at most maxBytes (the rest is ignored). */
  readText(path: string, maxBytes: number): Result<string, FileError>;
  /** The canonical absolute path with every symlink resolved. */
  realpath(path: string): Result<string, FileError>;
  /** stat() following symlinks. */
  stat(path: string): Result<FileStat, FileError>;
  /** Whether the current user may execute this file. */
  isExecutable(path: string): boolean;
  /**
   * Create or replace a small file whole (written beside it, then renamed over it: a reader never
   * sees half of it). Its parent directory must exist in the real one (the simulator makes it).
   */
  writeText(path: string, text: string, mode?: number): Result<void, FileError>;
  /** Remove a file; removing a missing file is ok. */
  remove(path: string): Result<void, FileError>;
  chmod(path: string, mode: number): Result<void, FileError>;
  /** Create a directory and its parents (ok if it exists). */
  mkdirp(path: string, mode: number): Result<void, FileError>;
}
