// Names of the entries directly inside a local folder that are not folders themselves, as
// `glob("<dir>/*<suffix>")` sees them less any sub-folder (sub-folders are other stages or other
// tabs; symlinked tiles count). Names only, no stat per file: a tab has ~120,000 files per stage and
// the check must stay interactive.
//
// A folder's link count is 2 plus its number of sub-folders (ext4, XFS, tmpfs, NFS from those):
// when it is 2 the names are read without their types, which saves building an object per entry
// (a third of the time a 120,000-entry folder takes, bench/fibsem-check.ts). Any other count
// (sub-folders, or a filesystem such as btrfs that does not keep it) reads the types.
import { readdir, stat } from 'node:fs/promises';
import { FerryError } from '../errors.ts';

/** `what` says which configured folder this is, so the message names the field to fix. */
export async function listFolderNames(dir: string, what: string): Promise<string[]> {
  try {
    if ((await stat(dir)).nlink === 2) return await readdir(dir);
    const entries = await readdir(dir, { withFileTypes: true });
    const names: string[] = [];
    for (const e of entries) if (!e.isDirectory()) names.push(e.name);
    return names;
  } catch (e) {
    throw listFailure(e, dir, what);
  }
}

/** The FerryError for a folder of the tab that cannot be listed. */
export function listFailure(e: unknown, dir: string, what: string): FerryError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'no such folder' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'not a folder' : String(code ?? e);
  return new FerryError(`${what}: cannot list ${dir}: ${reason}`, {
    hint: code === 'EACCES' ? 'run as a user who can read this folder (the FlyEM scripts run as "flyem")' : `check ${what} in the tab description`,
    code: code ?? 'ListFailed',
    cause: e,
  });
}
