// Writes a file so that readers see either nothing or the whole file: a temporary file in the same
// folder (same filesystem, so rename is atomic), flushed to disk, then renamed over the target.
// A crash leaves at most a dot-file named `.<name>.<random>.part`, never a partial target.
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * With `keepExisting`, a file already at `path` is left as it is (the new content is dropped) and
 * the result is false: for repairs that may add to a stage but never change what is there.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, opts: { keepExisting?: boolean } = {}): Promise<boolean> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.part`);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await unlink(temp).catch(() => {});
    throw e;
  }
  await handle.close();
  let written = true;
  try {
    if (opts.keepExisting) {
      // link() never replaces its target, unlike rename().
      await link(temp, path).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
        written = false;
      });
      await unlink(temp);
    } else await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => {});
    throw e;
  }
  await syncDir(dir);
  return written;
}

// The rename itself lives in the folder's entry table; flush it so a power cut cannot undo it.
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
