// openLedger: the one way every module reaches the ledger. A new ledger is created at the current
// schema; an existing one must be at exactly the version this Ferry knows. Commands that only read
// open it read-only: they never create, migrate or otherwise change the file they are pointed at.
import fs from 'node:fs';
import { FerryError } from '../errors.ts';
import type { Engine } from './engine.ts';
import { sqliteFailure, unreachable } from './failures.ts';
import { Ledger } from './ledger.ts';
import { resolveLedgerLocation } from './location.ts';
import { MIGRATION_TABLE, migrations, migrator } from './migrations.ts';
import { openSqlite } from './sqlite.ts';

const FERRY_TABLES = ['runs', 'jobs', 'job_events', 'records', 'transfer_destinations', 'manifest_files', 'upload_journal', 'upload_parts'];

export interface OpenOptions {
  /**
   * The ledger must be there already (commands that work on planned jobs): no new SQLite file is
   * created, and a SQLite file without Ferry's tables is refused rather than given them.
   */
  mustExist?: boolean;
  /**
   * Only read (status, jobs list|show|log, the web page): implies mustExist; a SQLite file is
   * opened read-only and nothing is created or migrated, on either engine.
   */
  readOnly?: boolean;
}

export async function openLedger(url?: string, opts: OpenOptions = {}): Promise<Ledger> {
  // A writable SQLite connection turns the file to WAL at once: an existing file is looked at
  // read-only first, so that one which is not a ledger is left byte for byte as it was.
  const loc = resolveLedgerLocation(url);
  if (!opts.readOnly && loc.engine === 'sqlite' && (opts.mustExist || fs.statSync(loc.path, { throwIfNoEntry: false })?.size)) {
    const probe = await connect(url, { readOnly: true });
    try {
      const state = await schemaState(probe);
      if (state.kind !== 'current' && (opts.mustExist || isSomeoneElses(probe, state) || state.kind !== 'empty')) throw schemaError(probe, state, url);
    } finally {
      await probe.close();
    }
  }
  const engine = await connect(url, opts);
  try {
    const state = await schemaState(engine);
    const mayCreate = !opts.readOnly && !(engine.kind === 'sqlite' && opts.mustExist) && !isSomeoneElses(engine, state);
    if (state.kind === 'empty' && mayCreate) await runMigrations(engine);
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
  // An existing SQLite file is looked at read-only first: one that is not Ferry's stays unchanged.
  const loc = resolveLedgerLocation(url);
  if (loc.engine === 'sqlite' && fs.existsSync(loc.path)) {
    const probe = await connect(url, { readOnly: true });
    try {
      await migratable(probe, url);
    } finally {
      await probe.close();
    }
  }
  const engine = await connect(url);
  try {
    await migratable(engine, url);
    return { applied: await runMigrations(engine), where: engine.where };
  } finally {
    await engine.close();
  }
}

/** Throws unless migrations may run on this database. */
async function migratable(engine: Engine, url?: string): Promise<void> {
  const state = await schemaState(engine);
  if (state.kind === 'foreign' || state.kind === 'newer' || isSomeoneElses(engine, state)) throw schemaError(engine, state, url);
}

type SchemaState =
  /** No Ferry table: a new file or database, or one that holds something else. */
  | { kind: 'empty'; tables: string[] }
  | { kind: 'current' }
  | { kind: 'older'; missing: string[] }
  | { kind: 'newer'; unknown: string[] }
  | { kind: 'foreign'; tables: string[] };

async function connect(url?: string, opts: OpenOptions = {}): Promise<Engine> {
  const loc = resolveLedgerLocation(url);
  if (loc.engine === 'sqlite' && (opts.mustExist || opts.readOnly) && !fs.existsSync(loc.path)) {
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
    return openSqlite(loc.path, { readOnly: opts.readOnly });
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
    return ours.length === 0 ? { kind: 'empty', tables } : { kind: 'foreign', tables: ours };
  }
  const known = Object.keys(migrations(engine.kind));
  const rows = await engine.db
    .selectFrom(MIGRATION_TABLE as 'runs')
    .select('name')
    .execute();
  const applied = rows.map((r) => r.name);
  // Another process is creating this ledger right now: the migration table is made before its
  // migrations commit, together. Migrating waits for that process's lock, then finds nothing to do.
  if (applied.length === 0 && !tables.some((t) => FERRY_TABLES.includes(t))) return { kind: 'empty', tables: [] };
  const unknown = applied.filter((n) => !known.includes(n));
  if (unknown.length) return { kind: 'newer', unknown };
  const missing = known.filter((n) => !applied.includes(n));
  return missing.length ? { kind: 'older', missing } : { kind: 'current' };
}

/**
 * A SQLite file is a new ledger only when it holds nothing yet: Ferry's tables are never added to
 * someone else's database. (A PostgreSQL database may well be shared with other tables.)
 */
function isSomeoneElses(engine: Engine, state: SchemaState): boolean {
  return engine.kind === 'sqlite' && state.kind === 'empty' && state.tables.length > 0;
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
    case 'empty':
      return new FerryError(
        `${engine.where} is not a Ferry ledger: ${state.tables.length ? `it holds tables named ${state.tables.slice(0, 5).join(', ')}${state.tables.length > 5 ? ', ...' : ''}` : 'it has no tables'} and none of Ferry's`,
        { hint: 'point --ledger / FERRY_LEDGER at the ledger the work was planned in; it was left as it is' },
      );
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
  if (e instanceof FerryError) return e;
  const failure = sqliteFailure(file, e);
  if (failure !== e) return failure as FerryError;
  return new FerryError(`cannot open the ledger file ${file} (${e instanceof Error ? e.message : String(e)})`, {
    hint: 'check that the folder exists and is writable, or choose another place with --ledger / FERRY_LEDGER',
    kind: 'environment',
    cause: e,
  });
}
