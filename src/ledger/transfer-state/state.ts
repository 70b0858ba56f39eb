// What transfers keep between runs, behind two small interfaces: the manifest of a destination
// (what Ferry verified there, so a re-sync of unchanged files compares a listing with a record
// instead of asking the destination about every object) and the journal of multipart uploads. A
// PostgreSQL ledger holds both in its own tables, so workers on every node share them; a SQLite
// ledger keeps them in files beside its file. Scratch space for comparing listings is not here: it
// is local to each process (src/transfer/).
import type { UploadJournal } from '../../storage/upload-journal.ts';

export interface ManifestEntry {
  key: string;
  size: number;
  sourceMtimeMs: number;
  crc32c: string;
  /** The destination's digest after the write (S3 ETag); detects a later change at the destination. */
  etag?: string;
}

/** The manifest of one destination (store URL). Keys are ordered by their bytes, as object stores list them. */
export interface ManifestRecords {
  count(): Promise<number>;
  /** The records of those of `keys` that have one. */
  getMany(keys: string[]): Promise<ManifestEntry[]>;
  /** Up to `limit` records after `afterKey`, in key order. */
  page(afterKey: string, limit: number): Promise<ManifestEntry[]>;
  /** The key at each position (0-based, in key order). */
  keysAt(positions: number[]): Promise<string[]>;
  /** Inserts or replaces, stamped with the time of the call. */
  put(entries: ManifestEntry[]): Promise<void>;
  forget(keys: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface TransferState {
  /** Where the state is kept, for messages. */
  readonly where: string;
  manifest(destination: string): Promise<ManifestRecords>;
  /** Multipart uploads to every destination, shared by everyone using this state. */
  readonly uploads: UploadJournal;
  close(): Promise<void>;
}
