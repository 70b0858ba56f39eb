// Where the ledger lives: `--ledger`, else FERRY_LEDGER, else a SQLite file in the working folder.
import path from 'node:path';
import { FerryError } from '../errors.ts';

export const DEFAULT_LEDGER = '.ferry/ledger.sqlite';

export type LedgerLocation =
  | { engine: 'sqlite'; path: string; url: string }
  | { engine: 'postgres'; url: string };

export function resolveLedgerLocation(given?: string, cwd = process.cwd()): LedgerLocation {
  const raw = (given ?? process.env.FERRY_LEDGER ?? '').trim() || DEFAULT_LEDGER;
  if (/^postgres(ql)?:\/\//i.test(raw)) {
    try {
      new URL(raw);
    } catch {
      throw new FerryError(`the ledger URL ${redactUrl(raw)} is not a valid URL`, {
        hint: 'write it as postgres://USER:PASSWORD@HOST:PORT/DATABASE',
      });
    }
    return { engine: 'postgres', url: raw };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) && !raw.startsWith('sqlite:')) {
    throw new FerryError(`unsupported ledger location ${redactUrl(raw)}`, {
      hint: 'use a SQLite file path (e.g. .ferry/ledger.sqlite or sqlite:/abs/path) or a postgres:// URL',
    });
  }
  const file = raw.replace(/^sqlite:(\/\/)?/, '');
  // Absolute, so that workers started elsewhere (a cluster node, another folder) find the same file.
  const abs = path.resolve(cwd, file);
  return { engine: 'sqlite', path: abs, url: abs };
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]+):[^@/]*@/i, '$1:***@');
}
