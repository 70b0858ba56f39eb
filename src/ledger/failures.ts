// Which database failures mean "the ledger is (for now) out of reach", and how to say so to a user.
import { FerryError } from '../errors.ts';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'EPIPE', 'EAI_AGAIN']);

/** True for failures that go away when the server comes back (restart, failover, network blip). */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: string }).code ?? '';
  if (NETWORK_CODES.has(code)) return true;
  // 57P01-3: admin shutdown, crash shutdown, cannot connect now; 08xxx: connection exceptions.
  if (/^57P0[123]$/.test(code) || code.startsWith('08')) return true;
  // 40P01/40001: deadlock or serialization failure; the statement was rolled back whole.
  if (code === 'SQLITE_BUSY' || code === '40P01' || code === '40001') return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    e.message,
  );
}

export function unreachable(where: string, e: unknown): FerryError {
  const detail = e instanceof Error ? ((e as { code?: string }).code ?? e.message) : String(e);
  const code = (e as { code?: string })?.code;
  if (code === '28P01' || code === '28000') {
    return new FerryError(`the ledger at ${where} refused the credentials (${(e as Error).message})`, {
      hint: 'check the user and password in --ledger or FERRY_LEDGER',
      cause: e,
    });
  }
  if (code === '3D000') {
    return new FerryError(`the ledger database at ${where} does not exist`, {
      hint: 'create it (createdb) or fix the database name in --ledger or FERRY_LEDGER',
      cause: e,
    });
  }
  return new FerryError(`cannot reach the ledger at ${where} (${detail})`, {
    hint: 'start the database server or point --ledger / FERRY_LEDGER at a reachable ledger',
    cause: e,
  });
}

/**
 * A SQLite failure that is the file's or the disk's, not Ferry's, as a FerryError naming the ledger
 * and what to do; anything else is returned as it is.
 */
export function sqliteFailure(file: string, e: unknown): unknown {
  if (e instanceof FerryError) return e;
  const code = (e as { code?: string })?.code ?? '';
  const detail = e instanceof Error ? e.message : String(e);
  const say = (what: string, hint: string) => new FerryError(`the ledger ${file} ${what} (${detail})`, { hint, kind: 'environment', code, cause: e });
  if (code === 'SQLITE_NOTADB') {
    return new FerryError(`${file} is not a Ferry ledger (not a SQLite database)`, {
      hint: 'point --ledger / FERRY_LEDGER at a Ferry ledger, or at a path where a new one can be created',
      code,
    });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return say('is damaged', `nothing was changed; restore it from a copy, or save what is readable with \`sqlite3 ${file} .recover\` into a new file and point --ledger at that`);
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
    return say('cannot be written', 'run this as a user who may write the file and its folder (SQLite keeps its lock files beside the ledger, even to read it), or on a copy');
  }
  if (code === 'SQLITE_FULL') return say('is on a full disk', 'free space on the disk that holds the ledger, then run the same command again');
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) {
    return say('cannot be read or written', 'check that this user may read the ledger and write its folder, and the disk or network mount that holds them');
  }
  return e;
}
