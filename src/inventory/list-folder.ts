// Names of the files directly inside a local folder, as `glob("<dir>/*<suffix>")` sees them. Names
// only, no stat per file: a tab has ~120,000 files per stage and the check must stay interactive.
import { readdir } from 'node:fs/promises';
import { FerryError } from '../errors.ts';

/** `what` says which configured folder this is, so the message names the field to fix. */
export async function listFolderNames(dir: string, what: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    const names: string[] = [];
    // Symlinked tiles count; sub-folders do not (they are other stages or other tabs).
    for (const e of entries) if (e.isFile() || e.isSymbolicLink()) names.push(e.name);
    return names;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such folder' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'not a folder' : String(code ?? e);
    throw new FerryError(`${what}: cannot list ${dir}: ${reason}`, {
      hint: code === 'EACCES' ? 'run as a user who can read this folder (the FlyEM scripts run as "flyem")' : `check ${what} in the tab description`,
      code: code ?? 'ListFailed',
      cause: e,
    });
  }
}
