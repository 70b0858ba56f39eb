// Versioned schema changes, applied in name order by Kysely's migrator. A migration is never edited
// once released: a change to the schema is a new entry at the end of the list.
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Migration, MigrationProvider } from 'kysely/migration';
import type { LedgerSchema } from './schema.ts';

export type EngineKind = 'sqlite' | 'postgres';

export const MIGRATION_TABLE = 'ferry_migration';

export function migrations(engine: EngineKind): Record<string, Migration> {
  const id = engine === 'postgres' ? 'bigserial' : 'integer';
  const ms = engine === 'postgres' ? 'bigint' : 'integer';
  const num = engine === 'postgres' ? 'double precision' : 'real';
  return {
    '0001_runs_jobs': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('runs')
          .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('labels', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('created_at', ms, (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('jobs')
          .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          // No foreign key: its per-row check triples the time to plan a million jobs on PostgreSQL,
          // and jobs are only ever added through a run the ledger just returned.
          .addColumn('run_id', ms, (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('params', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('state', 'text', (c) =>
            c.notNull().check(sql`state in ('todo', 'ongoing', 'success', 'error', 'cancelled')`),
          )
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_attempts', 'integer', (c) => c.notNull().defaultTo(3))
          .addColumn('not_before', ms, (c) => c.notNull().defaultTo(0))
          .addColumn('lease_owner', 'text')
          .addColumn('lease_expires_at', ms)
          .addColumn('heartbeat_at', ms)
          .addColumn('progress_done', num)
          .addColumn('progress_total', num)
          .addColumn('progress_unit', 'text')
          .addColumn('bytes_done', num)
          .addColumn('bytes_total', num)
          .addColumn('result', 'text')
          .addColumn('last_error', 'text')
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('started_at', ms)
          .addColumn('finished_at', ms)
          .addColumn('updated_at', ms, (c) => c.notNull())
          .addUniqueConstraint('jobs_run_key', ['run_id', 'key'])
          .execute();
        // The two claim paths: the oldest todo jobs, and ongoing jobs whose lease ran out. Partial,
        // so they hold only the jobs still in play and planning a million jobs touches one of them.
        await db.schema.createIndex('jobs_todo').on('jobs').column('id').where(sql.ref('state'), '=', sql.lit('todo')).execute();
        await db.schema
          .createIndex('jobs_ongoing_lease')
          .on('jobs')
          .column('lease_expires_at')
          .where(sql.ref('state'), '=', sql.lit('ongoing'))
          .execute();
        await db.schema.createIndex('jobs_run_state').on('jobs').columns(['run_id', 'state']).execute();
      },
    },
    '0002_job_events': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('job_events')
          .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('job_id', ms, (c) => c.notNull())
          .addColumn('at', ms, (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull().defaultTo(''))
          .execute();
        await db.schema.createIndex('job_events_job').on('job_events').columns(['job_id', 'id']).execute();
      },
    },
    '0003_records': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('records')
          .addColumn('id', id, (c) => (engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
          .addColumn('recipe', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('key', 'text', (c) => c.notNull())
          .addColumn('run_id', ms)
          .addColumn('job_id', ms)
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('created_at', ms, (c) => c.notNull())
          .addColumn('updated_at', ms, (c) => c.notNull())
          .addUniqueConstraint('records_recipe_type_key', ['recipe', 'type', 'key'])
          .execute();
        await db.schema.createIndex('records_run').on('records').columns(['run_id', 'recipe', 'type']).execute();
      },
    },
    // What transfers keep between runs: the manifest of each destination (what was verified there)
    // and the journal of multipart uploads, shared by every worker of the ledger. A SQLite ledger
    // keeps them in files beside it (src/ledger/transfer-state/sqlite-state.ts), so that their
    // writes never wait on the ledger's lock: on SQLite this migration only records the version.
    '0004_transfer_state': {
      async up(db: Kysely<any>) {
        if (engine !== 'postgres') return;
        // Keys compare by their bytes, as object stores order them: listings split at recorded keys.
        const keyType = sql`text collate "C"`;
        await db.schema
          .createTable('transfer_destinations')
          .addColumn('id', 'bigserial', (c) => c.primaryKey())
          .addColumn('url', 'text', (c) => c.notNull().unique())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('manifest_files')
          .addColumn('destination_id', 'bigint', (c) => c.notNull())
          .addColumn('key', keyType, (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('source_mtime_ms', 'double precision', (c) => c.notNull())
          .addColumn('crc32c', 'text', (c) => c.notNull())
          .addColumn('etag', 'text')
          .addColumn('verified_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('manifest_files_pk', ['destination_id', 'key'])
          .execute();
        await db.schema
          .createTable('upload_journal')
          .addColumn('id', 'bigserial', (c) => c.primaryKey())
          .addColumn('endpoint', 'text', (c) => c.notNull())
          .addColumn('bucket', 'text', (c) => c.notNull())
          .addColumn('key', keyType, (c) => c.notNull())
          .addColumn('upload_id', 'text')
          .addColumn('source_size', 'bigint', (c) => c.notNull())
          .addColumn('source_mtime_ms', 'double precision')
          .addColumn('part_size', 'bigint', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint')
          .addColumn('create_retried', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('upload_journal_key').on('upload_journal').columns(['endpoint', 'bucket', 'key']).execute();
        await db.schema
          .createTable('upload_parts')
          .addColumn('upload', 'bigint', (c) => c.notNull())
          .addColumn('part_number', 'integer', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('etag', 'text', (c) => c.notNull())
          .addColumn('md5', 'text', (c) => c.notNull())
          .addColumn('crc32c', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('upload_parts_pk', ['upload', 'part_number'])
          .execute();
      },
    },
    '0005_jobs_run_state_id': {
      // The web page reads a run's jobs a page at a time, by state, in id order: with the id in the
      // index each state's next page is one range read, at any depth of a run of a million jobs.
      // It replaces jobs_run_state, whose queries (counts by run and state) it serves as well.
      async up(db: Kysely<any>) {
        await db.schema.createIndex('jobs_run_state_id').on('jobs').columns(['run_id', 'state', 'id']).execute();
        await db.schema.dropIndex('jobs_run_state').execute();
      },
    },
  };
}

export function migrator(db: Kysely<LedgerSchema>, engine: EngineKind): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrations(engine) };
  return new Migrator({
    db,
    provider,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
  });
}
