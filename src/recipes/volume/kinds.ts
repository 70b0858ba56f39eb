// The volume workflow's job kind: one task of the grid (handlers.ts loads only when a worker runs one).
export const INGEST_JOB = 'volume.ingest-task';
