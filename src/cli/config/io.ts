/**
 * What a command needs from the outside world. Commands are `(args, io) → exit code` so that tests
 * call them with an in-memory io instead of spawning amfctl.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readFile: (path: string) => Promise<string>;
  /** Replaces the file as a whole or not at all (see writeFileAtomic). */
  readonly writeFile: (path: string, text: string) => Promise<void>;
}

/** The real io of the amfctl process. */
export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readFile: (path) => readFile(path, 'utf8'),
    writeFile: writeFileAtomic,
  };
}

/**
 * Replace a file so that a crash or a full disk at any moment leaves either the old or the new
 * text, never a truncated mix: write a temp file in the same directory, fsync it, rename it over
 * the file, fsync the directory. The file keeps its mode (and owner, when we may set it); a
 * symlink keeps pointing where it did and its target is replaced. On failure the temp file is
 * removed, the original is untouched, and the error names the file.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const target = await realpath(path).catch((e: unknown) => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return path;
    throw e;
  });
  const old = await stat(target).catch(() => undefined);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(tmp, 'wx', old ? old.mode & 0o7777 : 0o666);
    try {
      await file.writeFile(text, 'utf8');
      if (old) {
        await file.chmod(old.mode & 0o7777); // the umask may have narrowed it at creation
        if (old.uid !== process.getuid?.() || old.gid !== process.getgid?.()) await file.chown(old.uid, old.gid).catch(() => undefined);
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`${why}; ${target === path ? path : `${path} (-> ${target})`} was left unchanged`, { cause: e });
  }
  // The rename is durable once the directory is; the new file is in place either way.
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Reads a file, reporting failure on stderr as `amfctl: cannot read …`. */
export async function readText(path: string, io: CliIo): Promise<string | undefined> {
  try {
    return await io.readFile(path);
  } catch (e) {
    io.stderr(`amfctl: cannot read ${path}: ${e instanceof Error ? e.message : String(e)}\n`);
    return undefined;
  }
}
