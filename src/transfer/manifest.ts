// What Ferry has verified at a destination: key, size, source mtime, CRC32C and the destination's
// own digest, recorded as each file is verified. A re-sync of unchanged files compares a listing
// with this record instead of asking the destination about every object. One SQLite file per
// destination URL in the working folder; the same file holds this run's scratch listings so
// that comparing millions of keys needs disk, not memory.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { workdir } from '../workdir.ts';

export interface ManifestEntry {
  key: string;
  size: number;
  sourceMtimeMs: number;
  crc32c: string;
  /** The destination's digest after the write (S3 ETag); detects a later change at the destination. */
  etag?: string;
  verifiedAt?: string;
}

export interface ListedEntry {
  key: string;
  size: number;
  mtimeMs: number;
  etag?: string;
  sourceMtimeMs?: number;
}

const FLUSH_EVERY = 500;
const FLUSH_MS = 1000;

export class Manifest {
  readonly path: string;
  private readonly db: Database.Database;
  private pending: ManifestEntry[] = [];
  private lastFlush = Date.now();
  private seenPending: string[] = [];
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  private readonly destGet: Database.Statement;
  private readonly destPut: Database.Statement;
  private readonly seenPut: Database.Statement;

  constructor(destUrl: string, path = join(workdir('manifests'), createHash('sha256').update(destUrl).digest('hex').slice(0, 20) + '.sqlite')) {
    this.path = path;
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 60000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS files (
        key TEXT PRIMARY KEY, size INTEGER NOT NULL, source_mtime_ms REAL NOT NULL,
        crc32c TEXT NOT NULL, etag TEXT, verified_at TEXT NOT NULL) WITHOUT ROWID;
      CREATE TEMP TABLE dest (key TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
        etag TEXT, source_mtime_ms REAL) WITHOUT ROWID;
      CREATE TEMP TABLE seen (key TEXT PRIMARY KEY) WITHOUT ROWID;
    `);
    this.db.prepare('INSERT OR IGNORE INTO meta VALUES (?, ?)').run('destination', destUrl);
    this.getStmt = this.db.prepare('SELECT key, size, source_mtime_ms AS sourceMtimeMs, crc32c, etag, verified_at AS verifiedAt FROM files WHERE key = ?');
    this.putStmt = this.db.prepare('INSERT OR REPLACE INTO files VALUES (@key, @size, @sourceMtimeMs, @crc32c, @etag, @verifiedAt)');
    this.destGet = this.db.prepare('SELECT key, size, mtime_ms AS mtimeMs, etag, source_mtime_ms AS sourceMtimeMs FROM temp.dest WHERE key = ?');
    this.destPut = this.db.prepare('INSERT OR REPLACE INTO temp.dest VALUES (@key, @size, @mtimeMs, @etag, @sourceMtimeMs)');
    this.seenPut = this.db.prepare('INSERT OR IGNORE INTO temp.seen VALUES (?)');
  }

  get(key: string): ManifestEntry | undefined {
    const row = this.getStmt.get(key) as (ManifestEntry & { etag: string | null }) | undefined;
    if (!row) return undefined;
    return { ...row, etag: row.etag ?? undefined };
  }

  /** Buffered: one transaction per batch or second, so a crash loses at most one batch (re-checked). */
  record(e: ManifestEntry): void {
    this.pending.push(e);
    if (this.pending.length >= FLUSH_EVERY || Date.now() - this.lastFlush > FLUSH_MS) this.flush();
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const e of batch) this.putStmt.run({ ...e, etag: e.etag ?? null, verifiedAt: e.verifiedAt ?? now });
    })();
  }

  forget(keys: string[]): void {
    const del = this.db.prepare('DELETE FROM files WHERE key = ?');
    this.db.transaction(() => keys.forEach((k) => del.run(k)))();
  }

  /** Loads a destination listing into scratch space, in batches, from a stream of any length. */
  async loadDestination(listing: AsyncIterable<ListedEntry>): Promise<number> {
    let n = 0;
    let batch: ListedEntry[] = [];
    const insert = this.db.transaction((rows: ListedEntry[]) => {
      for (const r of rows) this.destPut.run({ key: r.key, size: r.size, mtimeMs: r.mtimeMs, etag: r.etag ?? null, sourceMtimeMs: r.sourceMtimeMs ?? null });
    });
    for await (const e of listing) {
      batch.push(e);
      n++;
      if (batch.length >= 2000) {
        insert(batch);
        batch = [];
      }
    }
    insert(batch);
    return n;
  }

  destination(key: string): ListedEntry | undefined {
    const row = this.destGet.get(key) as (ListedEntry & { etag: string | null; sourceMtimeMs: number | null }) | undefined;
    if (!row) return undefined;
    return { key: row.key, size: row.size, mtimeMs: row.mtimeMs, etag: row.etag ?? undefined, sourceMtimeMs: row.sourceMtimeMs ?? undefined };
  }

  /** Buffered like record(); read back only after flushSeen(). */
  markSeen(key: string): void {
    this.seenPending.push(key);
    if (this.seenPending.length >= 2000) this.flushSeen();
  }

  private flushSeen(): void {
    const keys = this.seenPending;
    this.seenPending = [];
    this.db.transaction(() => keys.forEach((k) => this.seenPut.run(k)))();
  }

  /** Destination keys the source did not list, in key order, one page after `afterKey`. */
  unseenDestinationKeys(afterKey: string, limit: number): string[] {
    this.flushSeen();
    const rows = this.db
      .prepare('SELECT d.key FROM temp.dest d WHERE d.key > ? AND NOT EXISTS (SELECT 1 FROM temp.seen s WHERE s.key = d.key) ORDER BY d.key LIMIT ?')
      .all(afterKey, limit) as { key: string }[];
    return rows.map((r) => r.key);
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
