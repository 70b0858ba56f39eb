// Admitting a `.dat` into the archive: it must open as a `.dat` (magic number, known version) and be
// as long as its header says (FileLength and the pixel data). A good file is added to the archive
// with a create-only write, so an archive file that appeared meanwhile is never replaced; a bad one
// goes to the quarantine folder with a `<name>.reason.txt` beside it. The file admitted is only
// read: removing a staged copy is the caller's.
import { errorMessage, isFerryError } from '../../errors.ts';
import { DAT_SUFFIX } from '../../formats/fibsem/names.ts';
import { openDat } from '../../formats/fibsem/read.ts';
import { joinLocation } from '../../storage/location.ts';
import type { StoreFile, StoreFolder } from '../../storage/location.ts';

export type Intake = { ok: true; path: string; bytes: number } | { ok: false; quarantined: string; reason: string };

/** `core` names the tile (`<core>.dat` in the archive); `source` is where the bytes came from, for the reason file. */
export async function admitDat(file: StoreFile, archive: StoreFolder, quarantineDir: StoreFolder, core: string, source: string): Promise<Intake> {
  let bytes: number;
  try {
    const dat = await openDat(file);
    bytes = dat.size;
    await dat.close();
  } catch (e) {
    if (!isFerryError(e)) throw e;
    // The message names the file read (perhaps a staged copy); the reason file names the source.
    const reason = errorMessage(e).replaceAll(file.name, source);
    return { ok: false, quarantined: await quarantine(file, quarantineDir, core, `${reason}\nsource: ${source}\nat: ${new Date().toISOString()}\n`), reason };
  }
  await copy(file, archive, core + DAT_SUFFIX);
  return { ok: true, path: joinLocation(archive.name, core + DAT_SUFFIX), bytes };
}

async function quarantine(file: StoreFile, dir: StoreFolder, core: string, reason: string): Promise<string> {
  // A second bad copy of the same tile keeps the first one's evidence: `<core>.2.dat`, `.3`...
  // The reason file claims the name, as only one writer can create it.
  let base = core;
  for (let i = 2; (await dir.store.write(`${base}.reason.txt`, Buffer.from(reason), { ifAbsent: true, contentType: 'text/plain' })).existed; i++) {
    base = `${core}.${i}`;
  }
  await copy(file, dir, `${base}${DAT_SUFFIX}`);
  return joinLocation(dir.name, `${base}${DAT_SUFFIX}`);
}

/** Adds `file` as `key` in `dir` unless something is there already. */
async function copy(file: StoreFile, dir: StoreFolder, key: string): Promise<void> {
  const body = await file.store.openRange(file.key);
  try {
    await dir.store.write(key, body, { ifAbsent: true });
  } finally {
    await body.close?.();
  }
}
