// One run's scratch space for comparing listings: the destination listing (and, for a manifest
// too large for memory, a copy of its records) held in memory while small, else in a private
// temporary SQLite database that SQLite deletes when it is closed. Local to the process, never
// shared: comparing millions of keys needs disk, not memory, and nobody else needs to see it.
import Database from 'better-sqlite3';
import type { ManifestEntry } from '../ledger/transfer-state/state.ts';

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
export const IN_MEMORY = 250_000;

interface Disk {
  db: Database.Database;
  destGet: Database.Statement;
  destPut: Database.Statement;
  seenPut: Database.Statement;
  recordGet: Database.Statement;
  recordPut: Database.Statement;
}

export class Scratch {
  /** This run's destination listing while it is small enough; undefined once spilled to disk. */
  private destMem: Map<string, ListedEntry & { seen?: boolean }> | undefined = new Map();
  private seenPending: string[] = [];
  private unseenSorted: string[] | undefined;
  private disk: Disk | undefined;
  /** Entries in the destination listing. */
  destinationCount = 0;

  private openDisk(): Disk {
    if (this.disk) return this.disk;
    // '' is SQLite's private temporary database: in the page cache while small, then a file in the
    // temporary folder, removed on close.
    const db = new Database('');
    db.exec(`
      CREATE TABLE dest (key TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL,
        etag TEXT, source_mtime_ms REAL) WITHOUT ROWID;
      CREATE TABLE seen (key TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE TABLE records (key TEXT PRIMARY KEY, size INTEGER NOT NULL, source_mtime_ms REAL NOT NULL,
        crc32c TEXT NOT NULL, etag TEXT) WITHOUT ROWID;
    `);
    this.disk = {
      db,
      destGet: db.prepare('SELECT key, size, mtime_ms AS mtimeMs, etag, source_mtime_ms AS sourceMtimeMs FROM dest WHERE key = ?'),
      destPut: db.prepare('INSERT OR REPLACE INTO dest VALUES (@key, @size, @mtimeMs, @etag, @sourceMtimeMs)'),
      seenPut: db.prepare('INSERT OR IGNORE INTO seen VALUES (?)'),
      recordGet: db.prepare('SELECT key, size, source_mtime_ms AS sourceMtimeMs, crc32c, etag FROM records WHERE key = ?'),
      recordPut: db.prepare('INSERT OR REPLACE INTO records VALUES (@key, @size, @sourceMtimeMs, @crc32c, @etag)'),
    };
    return this.disk;
  }

  /** Loads a destination listing, in memory or in batches to disk, from a stream of any length. */
  async loadDestination(listing: AsyncIterable<ListedEntry>): Promise<number> {
    let batch: ListedEntry[] = [];
    const insert = (rows: Iterable<ListedEntry>) => {
      const d = this.openDisk();
      d.db.transaction(() => {
        for (const r of rows) d.destPut.run({ key: dbKey(r.key), size: r.size, mtimeMs: r.mtimeMs, etag: r.etag ?? null, sourceMtimeMs: r.sourceMtimeMs ?? null });
      })();
    };
    for await (const e of listing) {
      this.destinationCount++;
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
    if (batch.length) insert(batch);
    return this.destinationCount;
  }

  /** The listed keys while they are held in memory; undefined once spilled to disk. */
  destinationKeysInMemory(): Iterable<string> | undefined {
    return this.destMem?.keys();
  }

  destination(key: string): ListedEntry | undefined {
    if (this.destMem) return this.destMem.get(key);
    const row = this.openDisk().destGet.get(dbKey(key)) as (ListedEntry & { etag: string | null; sourceMtimeMs: number | null }) | undefined;
    if (!row) return undefined;
    return { key, size: row.size, mtimeMs: row.mtimeMs, etag: row.etag ?? undefined, sourceMtimeMs: row.sourceMtimeMs ?? undefined };
  }

  /** Buffered when on disk; read back only after flushSeen(). */
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
    const d = this.openDisk();
    d.db.transaction(() => keys.forEach((k) => d.seenPut.run(dbKey(k))))();
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
    const rows = this.openDisk().db
      .prepare('SELECT d.key FROM dest d WHERE d.key > ? AND NOT EXISTS (SELECT 1 FROM seen s WHERE s.key = d.key) ORDER BY d.key LIMIT ?')
      .all(dbKey(afterKey), limit) as { key: string | Buffer }[];
    return rows.map((r) => (typeof r.key === 'string' ? r.key : r.key.toString('utf16le')));
  }

  /** Keeps a manifest too large for memory on disk, a page at a time. */
  addRecords(page: ManifestEntry[]): void {
    const d = this.openDisk();
    d.db.transaction(() => {
      for (const r of page) d.recordPut.run({ key: r.key, size: r.size, sourceMtimeMs: r.sourceMtimeMs, crc32c: r.crc32c, etag: r.etag ?? null });
    })();
  }

  record(key: string): ManifestEntry | undefined {
    const row = this.openDisk().recordGet.get(dbKey(key)) as (ManifestEntry & { etag: string | null }) | undefined;
    return row && { ...row, etag: row.etag ?? undefined };
  }

  close(): void {
    this.disk?.db.close();
  }
}

/**
 * A key as the scratch database keeps it: as text, or, for a key that holds bytes of a name that
 * is not UTF-8 (see storage/names.ts), as the blob of its UTF-16 code units, which SQLite's text
 * (UTF-8) would turn into U+FFFD and so into another file's key. Blobs sort after all text, among
 * themselves in one fixed order, which is all that paging through unseen keys needs.
 */
function dbKey(key: string): string | Buffer {
  return key.isWellFormed() ? key : Buffer.from(key, 'utf16le');
}
