// The ISPyB database connection: a mysql:// URL, a small mysql2 pool under Kysely's MySQL dialect,
// and the translation of driver failures into errors a user can act on.
import { Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import { FerryError } from '../../errors.ts';
import type { IspybSchema } from './tables.ts';
import { ispybWhere } from './url.ts';

export interface IspybConnectOptions {
  /** How long to wait for the server's handshake before giving up (default 5 s). */
  connectTimeoutMs?: number;
}

export interface IspybDatabase {
  db: Kysely<IspybSchema>;
  /** The URL without its password. */
  where: string;
}

export function connectIspyb(url: string, opts: IspybConnectOptions = {}): IspybDatabase {
  const where = ispybWhere(url);
  const u = new URL(url);
  const pool = createPool({
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    connectionLimit: 4,
    // ISPyB's DATETIME columns hold the facility's local time, without a zone.
    timezone: 'local',
    charset: 'utf8mb4',
  });
  return { db: new Kysely<IspybSchema>({ dialect: new MysqlDialect({ pool }) }), where };
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'PROTOCOL_CONNECTION_LOST', 'EPIPE']);
const NOT_ISPYB = new Set(['ER_NO_SUCH_TABLE', 'ER_BAD_FIELD_ERROR']);

/** A driver error as a FerryError naming the database; anything else (a bug) passes through. */
export function ispybError(e: unknown, where: string): unknown {
  if (e instanceof FerryError) return e;
  const code = (e as { code?: unknown })?.code;
  const detail = e instanceof Error ? e.message : String(e);
  if (typeof code !== 'string') return e;
  if (UNREACHABLE.has(code)) {
    return new FerryError(`the ISPyB database at ${where} is unreachable (${code}: ${detail})`, {
      hint: 'check the host and port in the --ispyb URL and that the database server is running; nothing was recorded',
      code: 'IspybUnreachable',
      cause: e,
    });
  }
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_BAD_DB_ERROR' || code === 'ER_TABLEACCESS_DENIED_ERROR') {
    return new FerryError(`the ISPyB database at ${where} refused Ferry: ${detail}`, {
      hint: 'check the user, password and database name in the --ispyb URL, and that the user may read and write the ISPyB tables',
      code: 'IspybAccessDenied',
      cause: e,
    });
  }
  if (NOT_ISPYB.has(code)) {
    return new FerryError(`the database at ${where} does not have the ISPyB tables Ferry needs: ${detail}`, {
      hint: 'point --ispyb at an ISPyB database (DiamondLightSource/ispyb-database schema)',
      code: 'NotIspyb',
      cause: e,
    });
  }
  if (code.startsWith('ER_')) {
    return new FerryError(`the ISPyB database at ${where} refused a write: ${detail}`, { code: 'IspybRefused', cause: e });
  }
  return e;
}
