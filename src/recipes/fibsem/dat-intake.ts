// Admitting a freshly copied `.dat` into the archive: it must open as a `.dat` (magic number, known
// version) and be as long as its header says (FileLength and the pixel data). A good file is
// linked into place, so an archive file that appeared meanwhile is never replaced; a bad one goes
// to the quarantine folder with a `<name>.reason.txt` beside it. Nothing is ever deleted except
// the temporary copy itself.
import { copyFile, link, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, isFerryError } from '../../errors.ts';
import { openDat } from '../../formats/fibsem/read.ts';

export type Intake = { ok: true; path: string; bytes: number } | { ok: false; quarantined: string; reason: string };

/** `temp` must be in the same folder as `target` (a hidden `.part` file written by the caller). */
export async function admitDat(temp: string, target: string, quarantineDir: string, name: string, source: string): Promise<Intake> {
  let bytes: number;
  try {
    const dat = await openDat(temp);
    bytes = dat.size;
    await dat.handle.close();
  } catch (e) {
    if (!isFerryError(e)) throw e;
    // The message names the temporary file; the reason file names the source instead.
    const reason = errorMessage(e).replaceAll(temp, source);
    return { ok: false, quarantined: await quarantine(temp, quarantineDir, name, `${reason}\nsource: ${source}\nat: ${new Date().toISOString()}\n`), reason };
  }
  try {
    await link(temp, target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  await unlink(temp);
  await syncDir(join(target, '..'));
  return { ok: true, path: target, bytes };
}

async function quarantine(temp: string, dir: string, name: string, reason: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const base = await freeName(dir, name);
  const dest = join(dir, `${base}.dat`);
  try {
    await rename(temp, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    await copyFile(temp, dest);
    await unlink(temp);
  }
  await writeFile(join(dir, `${base}.reason.txt`), reason);
  return dest;
}

// A second bad copy of the same tile keeps the first one's evidence: `<name>.2.dat`, `.3`...
async function freeName(dir: string, name: string): Promise<string> {
  for (let i = 1; ; i++) {
    const base = i === 1 ? name : `${name}.${i}`;
    try {
      const h = await open(join(dir, `${base}.reason.txt`), 'wx');
      await h.close();
      return base;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
