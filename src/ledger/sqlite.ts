// SQLite engine: one file, WAL, durable commits. Writers serialise on the database lock, so every
// write transaction is BEGIN IMMEDIATE (takes the lock up front and waits for it politely, instead
// of failing on a lock upgrade) and the claim path does a whole batch in one short transaction.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { SqliteDatabase } from 'kysely';
import type { ClaimedJob, ClaimRow, CycleRequest, Engine, JobSpec } from './engine.ts';
import { LEASE_EXPIRED_ERROR, jsonText, outcomeEvent, toClaimed } from './engine.ts';
import { sqliteFailure } from './failures.ts';
import type { LedgerSchema } from './schema.ts';

const BUSY_TIMEOUT_MS = 120_000;
const INSERT_ROWS = 100;

export function openSqlite(file: string, opts: { readOnly?: boolean } = {}): Engine {
  const raw = opts.readOnly ? new Database(file, { readonly: true, fileMustExist: true }) : openWritable(file);
  raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  const fail = (e: unknown) => sqliteFailure(file, e);
  const db = new Kysely<LedgerSchema>({ dialect: new SqliteDialect({ database: explained(raw, fail) }) });
  let hot: ReturnType<typeof prepareHotPath> | undefined;

  return {
    kind: 'sqlite',
    db,
    where: file,
    transaction<T>(fn: (trx: Kysely<LedgerSchema>) => Promise<T>): Promise<T> {
      return db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const r = await fn(conn);
          await sql`commit`.execute(conn);
          return r;
        } catch (e) {
          if (raw.inTransaction) await sql`rollback`.execute(conn);
          throw e;
        }
      });
    },
    // Through Kysely's connection so that no query-builder transaction is open meanwhile.
    cycle(req: CycleRequest, now: number): Promise<ClaimedJob[]> {
      hot ??= prepareHotPath(raw);
      const h = hot;
      return db.connection().execute(async () => rethrow(() => h.cycle.immediate(req, now), fail));
    },
    insertJobs(runId: number, jobs: JobSpec[], defaultMaxAttempts: number, now: number): Promise<number> {
      hot ??= prepareHotPath(raw);
      const h = hot;
      return db.connection().execute(async () => rethrow(() => h.insert.immediate(runId, jobs, defaultMaxAttempts, now), fail));
    },
    close: () => db.destroy(),
  };
}

function openWritable(file: string): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = FULL');
  return raw;
}

function rethrow<T>(fn: () => T, fail: (e: unknown) => unknown): T {
  try {
    return fn();
  } catch (e) {
    throw fail(e);
  }
}

/**
 * The database as Kysely sees it, with every failure of the file or the disk (damaged pages, a
 * read-only file, a full disk) turned into a message about the ledger instead of a stack trace.
 */
function explained(raw: Database.Database, fail: (e: unknown) => unknown): SqliteDatabase {
  return {
    close: () => raw.close(),
    prepare(text) {
      const st = rethrow(() => raw.prepare(text), fail);
      return {
        reader: st.reader,
        all: (p) => rethrow(() => st.all(p), fail),
        run: (p) => rethrow(() => st.run(p), fail),
        iterate: (p) => rethrow(() => st.iterate(p), fail),
      };
    },
  };
}

function prepareHotPath(raw: Database.Database) {
  const finish = raw.prepare(`
    UPDATE jobs SET state = @state, result = @result, last_error = coalesce(@error, last_error),
      not_before = @notBefore, lease_owner = NULL, lease_expires_at = NULL,
      finished_at = CASE WHEN @state = 'todo' THEN NULL ELSE @now END,
      progress_done = coalesce(@pdone, progress_done), progress_total = coalesce(@ptotal, progress_total),
      progress_unit = coalesce(@punit, progress_unit), bytes_done = coalesce(@bdone, bytes_done),
      bytes_total = coalesce(@btotal, bytes_total), updated_at = @now
    WHERE id = @id AND state = 'ongoing' AND lease_owner = @owner`);
  const event = raw.prepare(`INSERT INTO job_events (job_id, at, type, message) VALUES (?, ?, ?, ?)`);
  const reap = raw.prepare(`
    UPDATE jobs SET state = 'error', last_error = @msg, lease_owner = NULL, lease_expires_at = NULL,
      finished_at = @now, updated_at = @now
    WHERE state = 'ongoing' AND lease_expires_at < @now AND attempts >= max_attempts
    RETURNING id`);
  const filters = `
      AND (@runs IS NULL OR run_id IN (SELECT value FROM json_each(@runs)))
      AND (@kinds IS NULL OR kind IN (SELECT value FROM json_each(@kinds)))`;
  const claimSet = `
    SET state = 'ongoing', attempts = attempts + 1, lease_owner = @owner, lease_expires_at = @expires,
      heartbeat_at = @now, started_at = @now, updated_at = @now`;
  const returning = `RETURNING id, run_id, kind, key, params, attempts, max_attempts`;
  const claimExpired = raw.prepare(`
    UPDATE jobs ${claimSet}
    WHERE id IN (SELECT id FROM jobs WHERE state = 'ongoing' AND lease_expires_at < @now
      AND attempts < max_attempts ${filters} ORDER BY lease_expires_at LIMIT @limit)
    ${returning}`);
  const claimTodo = raw.prepare(`
    UPDATE jobs ${claimSet}
    WHERE id IN (SELECT id FROM jobs WHERE state = 'todo' AND not_before <= @now ${filters}
      ORDER BY id LIMIT @limit)
    ${returning}`);
  // Many rows per statement: planning a million jobs is dominated by per-statement overhead otherwise.
  const insertSql = (rows: number) => `
    INSERT INTO jobs (run_id, kind, key, params, state, max_attempts, created_at, updated_at)
    VALUES ${Array(rows).fill(`(?, ?, ?, ?, 'todo', ?, ?, ?)`).join(', ')} ON CONFLICT (run_id, key) DO NOTHING`;
  const insertOne = raw.prepare(insertSql(1));
  const insertMany = raw.prepare(insertSql(INSERT_ROWS));

  const cycle = raw.transaction((req: CycleRequest, now: number): ClaimedJob[] => {
    for (const o of req.finished) {
      const p = o.progress;
      const changed = finish.run({
        id: o.id,
        owner: req.owner,
        state: o.state,
        result: jsonText(o.result),
        error: o.error ?? null,
        notBefore: o.notBefore ?? 0,
        now,
        pdone: p?.done ?? null,
        ptotal: p?.total ?? null,
        punit: p?.unit ?? null,
        bdone: p?.bytesDone ?? null,
        btotal: p?.bytesTotal ?? null,
      }).changes;
      if (changed) {
        const ev = outcomeEvent(o);
        event.run(o.id, now, ev.type, ev.message);
      }
    }
    for (const r of reap.all({ msg: LEASE_EXPIRED_ERROR, now }) as { id: number }[]) {
      event.run(r.id, now, 'error', LEASE_EXPIRED_ERROR);
    }
    if (req.limit <= 0) return [];
    const args = {
      owner: req.owner,
      expires: now + req.leaseMs,
      now,
      limit: req.limit,
      runs: req.runIds?.length ? JSON.stringify(req.runIds) : null,
      kinds: req.kinds?.length ? JSON.stringify(req.kinds) : null,
    };
    const expired = claimExpired.all(args) as ClaimRow[];
    const todo = expired.length < req.limit ? (claimTodo.all({ ...args, limit: req.limit - expired.length }) as ClaimRow[]) : [];
    for (const r of expired) event.run(r.id, now, 'claimed', `attempt ${r.attempts} by ${req.owner} (the previous lease expired)`);
    for (const r of todo) event.run(r.id, now, 'claimed', `attempt ${r.attempts} by ${req.owner}`);
    return [...expired, ...todo].map(toClaimed);
  });

  const insert = raw.transaction((runId: number, jobs: JobSpec[], defaultMax: number, now: number): number => {
    const row = (j: JobSpec) => [runId, j.kind, j.key, JSON.stringify(j.params ?? {}), j.maxAttempts ?? defaultMax, now, now];
    let added = 0;
    let i = 0;
    for (; i + INSERT_ROWS <= jobs.length; i += INSERT_ROWS) {
      added += insertMany.run(jobs.slice(i, i + INSERT_ROWS).flatMap(row)).changes;
    }
    for (; i < jobs.length; i++) added += insertOne.run(row(jobs[i])).changes;
    return added;
  });
  return { cycle, insert };
}
