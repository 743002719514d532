import { readdirSync, unlinkSync } from 'node:fs';
import { makeDirs } from './make-dirs.js';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../ports/storage.js';

const TMP_SUFFIX = '.tmp';

/**
 * Blobs as files in one directory. write() is atomic and durable: temp file, fsync, rename over
 * the name, fsync the directory (so the rename itself survives power loss). Leftover temp files
 * of an interrupted write are invisible to list() and removed on open.
 */
export class FileBlobStore implements BlobStore {
  private seq = 0;

  /** Creates the directory if needed and removes temp files an earlier crash left behind. */
  constructor(private readonly dir: string) {
    makeDirs(dir, 0o700);
    for (const f of readdirSync(dir)) if (f.endsWith(TMP_SUFFIX)) unlinkSync(join(dir, f));
  }

  async write(name: string, data: Uint8Array): Promise<void> {
    checkName(name);
    const tmp = join(this.dir, `.${name}.${process.pid}.${this.seq++}${TMP_SUFFIX}`);
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(this.dir, name));
    } catch (e) {
      // A failed write (disk full, a directory in the way) leaves no temp file behind to fill the disk.
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    await this.syncDir();
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    checkName(name);
    try {
      return new Uint8Array(await readFile(join(this.dir, name)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((f) => !f.endsWith(TMP_SUFFIX)).sort();
  }

  async remove(name: string): Promise<void> {
    checkName(name);
    try {
      await unlink(join(this.dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    await this.syncDir();
  }

  private async syncDir(): Promise<void> {
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || name.endsWith(TMP_SUFFIX)) {
    throw new Error(`blob store: bad blob name ${JSON.stringify(name)}`);
  }
}
