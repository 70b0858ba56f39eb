// Table shapes of the ledger, shared by both engines. Times are epoch milliseconds (integers on
// both engines, so no time-zone or driver date conversion can differ); JSON is stored as text.
import type { Generated } from 'kysely';

export const JOB_STATES = ['todo', 'ongoing', 'success', 'error', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface RunsTable {
  id: Generated<number>;
  name: string;
  labels: string;
  created_at: number;
}

export interface JobsTable {
  id: Generated<number>;
  run_id: number;
  kind: string;
  key: string;
  params: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  /** Earliest time a retried job may be claimed again (back-off). */
  not_before: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  heartbeat_at: number | null;
  progress_done: number | null;
  progress_total: number | null;
  progress_unit: string | null;
  bytes_done: number | null;
  bytes_total: number | null;
  result: string | null;
  last_error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface JobEventsTable {
  id: Generated<number>;
  job_id: number;
  at: number;
  type: string;
  message: string;
}

/**
 * What a workflow keeps besides jobs (a FIB-SEM check report, a Render import's result, RELION's
 * processing records): typed by recipe, unique by (recipe, type, key), linked to a run and a job
 * when they have one, with a JSON body the recipe owns.
 */
export interface RecordsTable {
  id: Generated<number>;
  recipe: string;
  type: string;
  key: string;
  run_id: number | null;
  job_id: number | null;
  body: string;
  created_at: number;
  updated_at: number;
}

/** A destination (store URL) that manifest records belong to (PostgreSQL ledgers; see 0004_transfer_state). */
export interface TransferDestinationsTable {
  id: Generated<number>;
  url: string;
  created_at: number;
}

/** One file Ferry verified at a destination. */
export interface ManifestFilesTable {
  destination_id: number;
  key: string;
  size: number;
  source_mtime_ms: number;
  crc32c: string;
  etag: string | null;
  verified_at: number;
}

/** A multipart upload Ferry started (or is about to: upload_id is null until the server answers). */
export interface UploadJournalTable {
  id: Generated<number>;
  endpoint: string;
  bucket: string;
  key: string;
  upload_id: string | null;
  source_size: number;
  source_mtime_ms: number | null;
  part_size: number;
  owner: string;
  started_at: number;
  created_at: number | null;
  /** 1 when the create was sent more than once. */
  create_retried: number;
  updated_at: number;
}

export interface UploadPartsTable {
  /** upload_journal.id */
  upload: number;
  part_number: number;
  size: number;
  etag: string;
  md5: string;
  crc32c: number;
}

export interface LedgerSchema {
  runs: RunsTable;
  jobs: JobsTable;
  job_events: JobEventsTable;
  records: RecordsTable;
  transfer_destinations: TransferDestinationsTable;
  manifest_files: ManifestFilesTable;
  upload_journal: UploadJournalTable;
  upload_parts: UploadPartsTable;
}
