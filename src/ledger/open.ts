// openLedger: the one way every module reaches the ledger. A new ledger is created at the current
// schema; an existing one must be at exactly the version this Ferry knows.
import fs from 'node:fs';
import { FerryError } from '../errors.ts';
import type { Engine } from './engine.ts';
import { unreachable } from './failures.ts';
import { Ledger } from './ledger.ts';
import { resolveLedgerLocation } from './location.ts';
import { MIGRATION_TABLE, migrations, migrator } from './migrations.ts';
import { openSqlite } from './sqlite.ts';

const FERRY_TABLES = ['runs', 'jobs', 'job_events', 'records', 'transfer_destinations', 'manifest_files', 'upload_journal', 'upload_parts'];

export interface OpenOptions {
  /** Refuse to create a new SQLite ledger (commands that only read or work on planned jobs). */
  mustExist?: boolean;
}

export async function openLedger(url?: string, opts: OpenOptions = {}): Promise<Ledger> {
  const engine = await connect(url, opts);
  try {
    const state = await schemaState(engine);
    if (state.kind === 'empty') await runMigrations(engine);
    else if (state.kind !== 'current') throw schemaError(engine, state, url);
    return new Ledger(engine);
  } catch (e) {
    await engine.close().catch(() => {});
    throw e;
  }
}

/**
 * The ledger a dry run plans against: the real one when it exists (plans that depend on what was
 * done before see it), else an empty one in memory, so a dry run never creates a ledger file.
 */
export async function openLedgerForDryRun(url?: string): Promise<Ledger> {
  const loc = resolveLedgerLocation(url);
  if (loc.engine === 'postgres' || fs.existsSync(loc.path)) return openLedger(url, { mustExist: true });
  const engine = openSqlite(':memory:');
  await runMigrations(engine);
  return new Ledger(engine);
}

/** `ferry ledger migrate`: brings an older ledger (or an empty database) to the current schema. */
export async function migrateLedger(url?: string): Promise<{ applied: string[]; where: string }> {
  const engine = await connect(url);
  try {
    const state = await schemaState(engine);
    if (state.kind === 'foreign' || state.kind === 'newer') throw schemaError(engine, state, url);
    return { applied: await runMigrations(engine), where: engine.where };
  } finally {
    await engine.close();
  }
}

type SchemaState =
  | { kind: 'empty' }
  | { kind: 'current' }
  | { kind: 'older'; missing: string[] }
  | { kind: 'newer'; unknown: string[] }
  | { kind: 'foreign'; tables: string[] };

async function connect(url?: string, opts: OpenOptions = {}): Promise<Engine> {
  const loc = resolveLedgerLocation(url);
  if (loc.engine === 'sqlite' && opts.mustExist && !fs.existsSync(loc.path)) {
    throw new FerryError(`there is no ledger at ${loc.path}`, {
      hint: 'run this where the work was planned, or point --ledger / FERRY_LEDGER at the ledger',
    });
  }
  if (loc.engine === 'postgres') {
    // Loaded only here: the pg driver is ~15 ms of start-up that a SQLite ledger never uses.
    const { openPostgres } = await import('./postgres.ts');
    const engine = openPostgres(loc.url);
    try {
      await engine.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute();
    } catch (e) {
      await engine.close().catch(() => {});
      throw unreachable(engine.where, e);
    }
    return engine;
  }
  try {
    return openSqlite(loc.path);
  } catch (e) {
    throw sqliteOpenError(loc.path, e);
  }
}

async function schemaState(engine: Engine): Promise<SchemaState> {
  let tables: string[];
  try {
    tables = (await engine.db.introspection.getTables()).map((t) => t.name);
  } catch (e) {
    if (engine.kind === 'sqlite') throw sqliteOpenError(engine.where, e);
    throw unreachable(engine.where, e);
  }
  if (!tables.includes(MIGRATION_TABLE)) {
    const ours = tables.filter((t) => FERRY_TABLES.includes(t));
    return ours.length === 0 ? { kind: 'empty' } : { kind: 'foreign', tables: ours };
  }
  const known = Object.keys(migrations(engine.kind));
  const rows = await engine.db
    .selectFrom(MIGRATION_TABLE as 'runs')
    .select('name')
    .execute();
  const applied = rows.map((r) => r.name);
  // Another process is creating this ledger right now: the migration table is made before its
  // migrations commit, together. Migrating waits for that process's lock, then finds nothing to do.
  if (applied.length === 0 && !tables.some((t) => FERRY_TABLES.includes(t))) return { kind: 'empty' };
  const unknown = applied.filter((n) => !known.includes(n));
  if (unknown.length) return { kind: 'newer', unknown };
  const missing = known.filter((n) => !applied.includes(n));
  return missing.length ? { kind: 'older', missing } : { kind: 'current' };
}

async function runMigrations(engine: Engine): Promise<string[]> {
  const { error, results } = await migrator(engine.db, engine.kind).migrateToLatest();
  if (error) throw new FerryError(`could not bring the ledger at ${engine.where} to the current schema: ${(error as Error).message}`, { cause: error });
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function schemaError(engine: Engine, state: SchemaState, url?: string): FerryError {
  const ledgerArg = url ? ` --ledger ${JSON.stringify(engine.where)}` : '';
  switch (state.kind) {
    case 'older':
      return new FerryError(
        `the ledger at ${engine.where} has an older schema (missing ${state.missing.join(', ')})`,
        { hint: `upgrade it with: ferry ledger migrate${ledgerArg}  (stop running workers first)` },
      );
    case 'newer':
      return new FerryError(`the ledger at ${engine.where} was written by a newer Ferry (schema ${state.unknown.join(', ')})`, {
        hint: 'upgrade Ferry on this machine to the version that the other workers run',
      });
    case 'foreign':
      return new FerryError(
        `${engine.where} is not a Ferry ledger: it has tables named ${state.tables.join(', ')} but no Ferry schema version`,
        { hint: 'point --ledger / FERRY_LEDGER at a Ferry ledger, or at a new file or empty database' },
      );
    default:
      return new FerryError(`unexpected ledger state at ${engine.where}`);
  }
}

function sqliteOpenError(file: string, e: unknown): FerryError {
  const code = (e as { code?: string })?.code;
  if (code === 'SQLITE_NOTADB') {
    return new FerryError(`${file} is not a Ferry ledger (not a SQLite database)`, {
      hint: 'point --ledger / FERRY_LEDGER at a Ferry ledger, or at a path where a new one can be created',
    });
  }
  return new FerryError(`cannot open the ledger file ${file} (${e instanceof Error ? e.message : String(e)})`, {
    hint: 'check that the folder exists and is writable, or choose another place with --ledger / FERRY_LEDGER',
    cause: e,
  });
}
