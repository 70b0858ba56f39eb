// What differs between SQLite and PostgreSQL: how a write transaction starts, and the hot paths
// (claim/complete and bulk planning) that are written in each engine's own SQL for speed.
import type { Kysely } from 'kysely';
import type { EngineKind } from './migrations.ts';
import type { LedgerSchema } from './schema.ts';

export interface JobSpec {
  kind: string;
  /** Unique within the run: planning the same work twice adds nothing. */
  key: string;
  params?: unknown;
  maxAttempts?: number;
}

export interface ClaimedJob {
  id: number;
  runId: number;
  kind: string;
  key: string;
  params: unknown;
  /** This attempt's number, starting at 1. */
  attempt: number;
  maxAttempts: number;
}

export interface ProgressUpdate {
  done: number;
  total?: number;
  unit: string;
  bytesDone?: number;
  bytesTotal?: number;
}

/** How a claimed job ended, as decided by the worker that ran it. */
export interface Outcome {
  id: number;
  /** `todo` sends it back for another attempt after `notBefore`. */
  state: 'success' | 'error' | 'todo';
  result?: unknown;
  error?: string;
  notBefore?: number;
  progress?: ProgressUpdate;
}

export interface CycleRequest {
  owner: string;
  leaseMs: number;
  /** How many jobs to claim (0: only record the outcomes). */
  limit: number;
  runIds?: number[];
  kinds?: string[];
  finished: Outcome[];
}

export interface Engine {
  readonly kind: EngineKind;
  readonly db: Kysely<LedgerSchema>;
  /** The location without secrets, for messages. */
  readonly where: string;
  /** A write transaction that takes the write lock up front (no lock upgrade deadlocks on SQLite). */
  transaction<T>(fn: (trx: Kysely<LedgerSchema>) => Promise<T>): Promise<T>;
  /**
   * One transaction: records `finished` (only for jobs this owner still holds), ends jobs whose
   * lease expired on their last attempt, then claims up to `limit` jobs: expired leases first,
   * then the oldest todo jobs.
   */
  cycle(req: CycleRequest, now: number): Promise<ClaimedJob[]>;
  /** Inserts jobs, skipping keys the run already has; returns how many were new. */
  insertJobs(runId: number, jobs: JobSpec[], defaultMaxAttempts: number, now: number): Promise<number>;
  close(): Promise<void>;
}

export const LEASE_EXPIRED_ERROR = 'lease expired on the last attempt (worker killed, node lost or time limit hit)';

export function outcomeEvent(o: Outcome): { type: string; message: string } {
  if (o.state === 'success') return { type: 'success', message: '' };
  if (o.state === 'error') return { type: 'error', message: o.error ?? '' };
  return { type: 'retry', message: o.error ?? '' };
}

export function jsonText(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

/** A claimed row as both engines return it. */
export interface ClaimRow {
  id: number;
  run_id: number;
  kind: string;
  key: string;
  params: string;
  attempts: number;
  max_attempts: number;
}

export function toClaimed(r: ClaimRow): ClaimedJob {
  return {
    id: Number(r.id),
    runId: Number(r.run_id),
    kind: r.kind,
    key: r.key,
    params: JSON.parse(r.params),
    attempt: r.attempts,
    maxAttempts: r.max_attempts,
  };
}
