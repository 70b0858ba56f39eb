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

/**
 * Up to this many destination entries (and records) are compared in memory, ~100 MB at most; a
 * larger listing goes to scratch tables on disk. A point query costs ~15 us against ~0.1 us for a
 * Map, which is most of a re-sync of unchanged files.
 */
const IN_MEMORY = 250_000;
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
  /** This run's destination listing while it is small enough; undefined once spilled to disk. */
  private destMem: Map<string, ListedEntry & { seen?: boolean }> | undefined = new Map();
  /** Every record, read in one query on the first lookup; null when there are too many (one query each). */
  private records: Map<string, ManifestEntry> | null | undefined;
  private unseenSorted: string[] | undefined;

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

  /**
   * Up to `n` recorded keys that cut the record into equal parts, in the store's byte order: where
   * a destination listing can be split to run in parallel (S3 answers ~30 ms a page of 1,000, one
   * page at a time). None for a record of a few pages.
   */
  splitKeys(n = 16, minPerPart = 900): string[] {
    const count = (this.db.prepare('SELECT count(*) AS c FROM files').get() as { c: number }).c;
    const parts = Math.min(n, Math.floor(count / minPerPart));
    if (parts < 2) return [];
    const at = this.db.prepare('SELECT key FROM files ORDER BY key LIMIT 1 OFFSET ?').pluck();
    const keys: string[] = [];
    for (let i = 1; i < parts; i++) keys.push(at.get(Math.floor((i * count) / parts)) as string);
    return keys;
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

  /** Loads a destination listing, in memory or in batches into scratch space, from a stream of any length. */
  async loadDestination(listing: AsyncIterable<ListedEntry>): Promise<number> {
    let n = 0;
    let batch: ListedEntry[] = [];
    const insert = this.db.transaction((rows: Iterable<ListedEntry>) => {
      for (const r of rows) this.destPut.run({ key: r.key, size: r.size, mtimeMs: r.mtimeMs, etag: r.etag ?? null, sourceMtimeMs: r.sourceMtimeMs ?? null });
    });
    for await (const e of listing) {
      n++;
      if (this.destMem) {
        this.destMem.set(e.key, e);
        if (this.destMem.size <= IN_MEMORY) continue;
        insert(this.destMem.values());
        this.destMem = undefined;
        continue;
      }
      batch.push(e);
      if (batch.length >= 2000) {
        insert(batch);
        batch = [];
      }
    }
    insert(batch);
    return n;
  }

  destination(key: string): ListedEntry | undefined {
    if (this.destMem) return this.destMem.get(key);
    const row = this.destGet.get(key) as (ListedEntry & { etag: string | null; sourceMtimeMs: number | null }) | undefined;
    if (!row) return undefined;
    return { key: row.key, size: row.size, mtimeMs: row.mtimeMs, etag: row.etag ?? undefined, sourceMtimeMs: row.sourceMtimeMs ?? undefined };
  }

  /** The listed destination entry and our record of it (records still buffered are not seen: a re-sync never needs them). */
  lookup(key: string): { dest?: ListedEntry; record?: ManifestEntry } {
    const dest = this.destination(key);
    if (!dest) return {};
    if (this.records === undefined) this.records = this.loadRecords();
    return { dest, record: this.records ? this.records.get(key) : this.get(key) };
  }

  private loadRecords(): Map<string, ManifestEntry> | null {
    const count = (this.db.prepare('SELECT count(*) AS c FROM files').get() as { c: number }).c;
    if (count > IN_MEMORY) return null;
    const map = new Map<string, ManifestEntry>();
    const rows = this.db.prepare('SELECT key, size, source_mtime_ms, crc32c, etag, verified_at FROM files').raw().all() as [string, number, number, string, string | null, string][];
    for (const [key, size, sourceMtimeMs, crc32c, etag, verifiedAt] of rows) map.set(key, { key, size, sourceMtimeMs, crc32c, etag: etag ?? undefined, verifiedAt });
    return map;
  }

  /** Buffered like record(); read back only after flushSeen(). */
  markSeen(key: string): void {
    if (this.destMem) {
      const d = this.destMem.get(key);
      if (d) d.seen = true;
      return;
    }
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
    if (this.destMem) {
      // Asked once the source is listed, page after page: sorted once.
      this.unseenSorted ??= [...this.destMem.values()].filter((d) => !d.seen).map((d) => d.key).sort();
      const all = this.unseenSorted;
      let lo = 0;
      for (let hi = all.length; lo < hi;) {
        const mid = (lo + hi) >> 1;
        if (all[mid] <= afterKey) lo = mid + 1;
        else hi = mid;
      }
      return all.slice(lo, lo + limit);
    }
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
