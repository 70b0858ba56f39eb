// The transfer state a command uses (`ferry cp | sync | check | cleanup`): that of the ledger named
// by --ledger, FERRY_LEDGER or the default (.ferry/ledger.sqlite in the working folder). A SQLite
// ledger's state is beside its file and the ledger itself is not opened; a PostgreSQL ledger is
// opened (and created in an empty database) for its tables.
//
// Started from a folder the user cannot write into, with no ledger named, the state goes to the
// user's own state folder ($XDG_STATE_HOME/ferry, else ~/.local/state/ferry), so that a copy out of
// a read-only acquisition folder just works and its re-runs find the same manifest.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FerryError } from '../../errors.ts';
import { resolveLedgerLocation } from '../location.ts';
import { openSqliteTransferState } from './sqlite-state.ts';
import type { TransferState } from './state.ts';

export interface OpenStateOptions {
  /** Told when the state goes to the user's state folder instead of beside the default ledger. */
  note?: (message: string) => void;
  cwd?: string;
}

export async function openTransferState(given?: string, o: OpenStateOptions = {}): Promise<TransferState> {
  const loc = resolveLedgerLocation(given, o.cwd);
  if (loc.engine === 'postgres') {
    // Loaded only here: the ledger and its query builder cost more than a re-sync of unchanged files.
    const { openLedger } = await import('../open.ts');
    const ledger = await openLedger(given);
    try {
      const state = await ledger.transferState();
      return { where: state.where, uploads: state.uploads, manifest: (d) => state.manifest(d), close: () => ledger.close() };
    } catch (e) {
      await ledger.close();
      throw e;
    }
  }
  const dir = path.dirname(loc.path);
  const problem = unwritable(dir);
  if (!problem) return openSqliteTransferState(dir);
  const named = Boolean((given ?? process.env.FERRY_LEDGER ?? '').trim());
  if (named) {
    throw new FerryError(`cannot keep transfer state beside the ledger ${loc.path}: ${problem}`, {
      hint: 'point --ledger / FERRY_LEDGER at a SQLite file in a folder you can write to, or at a PostgreSQL ledger',
      kind: 'environment',
    });
  }
  const mine = userStateDir();
  const alsoProblem = unwritable(mine);
  if (alsoProblem) {
    throw new FerryError(`cannot keep transfer state in ${dir} (${problem}) nor in ${mine} (${alsoProblem})`, {
      hint: 'run from a folder you can write to, or name a ledger with --ledger / FERRY_LEDGER',
      kind: 'environment',
    });
  }
  o.note?.(`${dir} is not writable (${problem}): keeping transfer state in ${mine}`);
  return openSqliteTransferState(mine);
}

/** $XDG_STATE_HOME/ferry, else ~/.local/state/ferry (the XDG base directory default). */
export function userStateDir(): string {
  const base = process.env.XDG_STATE_HOME?.trim() || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'ferry');
}

/** Why `dir` cannot be created or written, or undefined when it can. */
function unwritable(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EROFS') return 'read-only file system';
    return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (e as Error).message;
  }
}
