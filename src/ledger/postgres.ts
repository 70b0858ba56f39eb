// PostgreSQL engine, for workers on many machines. The claim path is two statements, each one round
// trip and one commit: record the outcomes; then end jobs whose last lease expired and claim with
// FOR UPDATE SKIP LOCKED, so that claimers never wait on each other and never take the same job.
// They stay separate on purpose: a claim keeps locks on rows it skipped after re-checking them, and
// an outcome update in the same transaction could then wait on another claimer that waits on it.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { ClaimedJob, CycleRequest, Engine, JobSpec, Outcome } from './engine.ts';
import { LEASE_EXPIRED_ERROR, jsonText, toClaimed } from './engine.ts';
import { redactUrl } from './location.ts';
import type { LedgerSchema } from './schema.ts';

const INT8_OID = 20;

const FINISH_SQL = `
WITH v AS (
  SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[],
    $6::float8[], $7::float8[], $8::text[], $9::float8[], $10::float8[])
    AS t(id, state, result, error, not_before, pdone, ptotal, punit, bdone, btotal)
), fin AS (
  UPDATE jobs j SET state = v.state, result = v.result, last_error = coalesce(v.error, j.last_error),
    not_before = v.not_before, lease_owner = NULL, lease_expires_at = NULL,
    finished_at = CASE WHEN v.state = 'todo' THEN NULL ELSE $12::bigint END,
    progress_done = coalesce(v.pdone, j.progress_done), progress_total = coalesce(v.ptotal, j.progress_total),
    progress_unit = coalesce(v.punit, j.progress_unit), bytes_done = coalesce(v.bdone, j.bytes_done),
    bytes_total = coalesce(v.btotal, j.bytes_total), updated_at = $12
  FROM v WHERE j.id = v.id AND j.state = 'ongoing' AND j.lease_owner = $11
  RETURNING j.id, v.state, v.error
), fin_ev AS (
  INSERT INTO job_events (job_id, at, type, message)
  SELECT id, $12, CASE state WHEN 'todo' THEN 'retry' ELSE state END,
    CASE state WHEN 'success' THEN '' ELSE coalesce(error, '') END FROM fin
)
SELECT count(*) AS n FROM fin`;

const CLAIM_SQL = `
WITH reaped AS (
  UPDATE jobs SET state = 'error', last_error = $2, lease_owner = NULL, lease_expires_at = NULL,
    finished_at = $1, updated_at = $1
  WHERE id IN (SELECT id FROM jobs WHERE state = 'ongoing' AND lease_expires_at < $1
    AND attempts >= max_attempts FOR UPDATE SKIP LOCKED)
  RETURNING id
), reaped_ev AS (
  INSERT INTO job_events (job_id, at, type, message) SELECT id, $1, 'error', $2 FROM reaped
), cand_expired AS (
  SELECT id FROM jobs WHERE state = 'ongoing' AND lease_expires_at < $1 AND attempts < max_attempts
    AND ($5::bigint[] IS NULL OR run_id = ANY($5::bigint[]))
    AND ($6::text[] IS NULL OR kind = ANY($6::text[]))
  ORDER BY lease_expires_at LIMIT $4 FOR UPDATE SKIP LOCKED
), cand_todo AS (
  SELECT id FROM jobs WHERE state = 'todo' AND not_before <= $1
    AND ($5::bigint[] IS NULL OR run_id = ANY($5::bigint[]))
    AND ($6::text[] IS NULL OR kind = ANY($6::text[]))
  ORDER BY id LIMIT $4 FOR UPDATE SKIP LOCKED
), pick AS (
  SELECT id, expired FROM (SELECT id, 1 AS expired FROM cand_expired UNION ALL SELECT id, 0 FROM cand_todo) c
  ORDER BY expired DESC, id LIMIT $4
), claimed AS (
  UPDATE jobs j SET state = 'ongoing', attempts = j.attempts + 1, lease_owner = $3,
    lease_expires_at = $7, heartbeat_at = $1, started_at = $1, updated_at = $1
  FROM pick WHERE j.id = pick.id
  RETURNING j.id, j.run_id, j.kind, j.key, j.params, j.attempts, j.max_attempts, pick.expired
), claimed_ev AS (
  INSERT INTO job_events (job_id, at, type, message)
  SELECT id, $1, 'claimed', 'attempt ' || attempts || ' by ' || $3
    || CASE WHEN expired = 1 THEN ' (the previous lease expired)' ELSE '' END FROM claimed
)
SELECT id, run_id, kind, key, params, attempts, max_attempts FROM claimed ORDER BY id`;

const INSERT_SQL = `
INSERT INTO jobs (run_id, kind, key, params, state, max_attempts, created_at, updated_at)
SELECT $1, k, key, p, 'todo', m, $3, $3 FROM json_to_recordset($2::json) AS t(k text, key text, p text, m int)
ON CONFLICT (run_id, key) DO NOTHING`;

export function openPostgres(url: string): Engine {
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: 10_000,
    // bigint ids and epoch-millisecond times fit in a double; strings would leak everywhere.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // A server restart breaks idle connections; the pool replaces them, the error must not crash us.
  // Checked-out clients too: a socket reset between queries would otherwise be an uncaught error.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<LedgerSchema>({ dialect: new PostgresDialect({ pool }) });

  const finish = (f: Outcome[], owner: string, now: number) =>
    pool.query({
      name: 'ferry_finish',
      text: FINISH_SQL,
      values: [
        f.map((o) => o.id),
        f.map((o) => o.state),
        f.map((o) => jsonText(o.result)),
        f.map((o) => o.error ?? null),
        f.map((o) => o.notBefore ?? 0),
        f.map((o) => o.progress?.done ?? null),
        f.map((o) => o.progress?.total ?? null),
        f.map((o) => o.progress?.unit ?? null),
        f.map((o) => o.progress?.bytesDone ?? null),
        f.map((o) => o.progress?.bytesTotal ?? null),
        owner,
        now,
      ],
    });

  return {
    kind: 'postgres',
    db,
    where: redactUrl(url),
    transaction: (fn) => db.transaction().execute(fn),
    async cycle(req: CycleRequest, now: number): Promise<ClaimedJob[]> {
      const f = req.finished;
      if (f.length) await finish(f, req.owner, now);
      const res = await pool.query({
        name: 'ferry_claim',
        text: CLAIM_SQL,
        values: [
          now,
          LEASE_EXPIRED_ERROR,
          req.owner,
          Math.max(0, req.limit),
          req.runIds?.length ? req.runIds : null,
          req.kinds?.length ? req.kinds : null,
          now + req.leaseMs,
        ],
      });
      return res.rows.map(toClaimed);
    },
    async insertJobs(runId: number, jobs: JobSpec[], defaultMaxAttempts: number, now: number): Promise<number> {
      const res = await pool.query({
        name: 'ferry_insert_jobs',
        text: INSERT_SQL,
        // One JSON document rather than arrays: the driver's array encoding is the slow part at 20k rows.
        values: [
          runId,
          JSON.stringify(jobs.map((j) => ({ k: j.kind, key: j.key, p: JSON.stringify(j.params ?? {}), m: j.maxAttempts ?? defaultMaxAttempts }))),
          now,
        ],
      });
      return res.rowCount ?? 0;
    },
    close: () => db.destroy(),
  };
}
