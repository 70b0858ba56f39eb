// The manifest of one destination beside a SQLite ledger: one SQLite file per destination URL in
// the `manifests` folder next to the ledger file (WAL, so workers of the ledger on this machine
// share it). The format is the one Ferry has always written, so the manifests an older Ferry kept
// in the default working folder (./.ferry, where the default ledger is) are read in place.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import type { ManifestEntry, ManifestRecords } from './state.ts';

export function manifestFileName(destination: string): string {
  return createHash('sha256').update(destination).digest('hex').slice(0, 20) + '.sqlite';
}

type Row = ManifestEntry & { etag: string | null };
const fromRow = (r: Row): ManifestEntry => ({ key: r.key, size: r.size, sourceMtimeMs: r.sourceMtimeMs, crc32c: r.crc32c, etag: r.etag ?? undefined });
const COLUMNS = 'key, size, source_mtime_ms AS sourceMtimeMs, crc32c, etag';

export class SqliteManifestRecords implements ManifestRecords {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  private readonly delStmt: Database.Statement;
  private readonly pageStmt: Database.Statement;

  /** Opens (creating) the file; `created` says whether it is new. */
  static open(file: string, destination: string): { records: SqliteManifestRecords; created: boolean } {
    const created = !fs.existsSync(file);
    return { records: new SqliteManifestRecords(new Database(file), destination), created };
  }

  private constructor(db: Database.Database, destination: string) {
    this.db = db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 60000');
    db.exec(`
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS files (
        key TEXT PRIMARY KEY, size INTEGER NOT NULL, source_mtime_ms REAL NOT NULL,
        crc32c TEXT NOT NULL, etag TEXT, verified_at TEXT NOT NULL) WITHOUT ROWID;
    `);
    db.prepare('INSERT OR IGNORE INTO meta VALUES (?, ?)').run('destination', destination);
    // One statement for a batch of keys: a call per key costs twice the lookups themselves.
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM files WHERE key IN (SELECT value FROM json_each(?))`);
    this.putStmt = db.prepare('INSERT OR REPLACE INTO files VALUES (@key, @size, @sourceMtimeMs, @crc32c, @etag, @verifiedAt)');
    this.delStmt = db.prepare('DELETE FROM files WHERE key = ?');
    this.pageStmt = db.prepare(`SELECT ${COLUMNS} FROM files WHERE key > ? ORDER BY key LIMIT ?`);
  }

  async count(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS c FROM files').get() as { c: number }).c;
  }

  async getMany(keys: string[]): Promise<ManifestEntry[]> {
    return (this.getStmt.all(JSON.stringify(keys)) as Row[]).map(fromRow);
  }

  async page(afterKey: string, limit: number): Promise<ManifestEntry[]> {
    return (this.pageStmt.all(afterKey, limit) as Row[]).map(fromRow);
  }

  async keysAt(positions: number[]): Promise<string[]> {
    const at = this.db.prepare('SELECT key FROM files ORDER BY key LIMIT 1 OFFSET ?').pluck();
    return positions.map((p) => at.get(p) as string);
  }

  async put(entries: ManifestEntry[]): Promise<void> {
    const verifiedAt = new Date().toISOString();
    this.db.transaction(() => {
      for (const e of entries) this.putStmt.run({ ...e, etag: e.etag ?? null, verifiedAt });
    })();
  }

  async forget(keys: string[]): Promise<void> {
    this.db.transaction(() => keys.forEach((k) => this.delStmt.run(k)))();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
