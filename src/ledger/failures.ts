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
