// The upload journal beside a SQLite ledger: `uploads.sqlite` in the ledger's folder (WAL), shared
// by the workers that share the ledger. Plain SQL on better-sqlite3 rather than the query builder
// the PostgreSQL twin (uploads-postgres.ts) uses: loading Kysely costs more than a whole re-sync of
// unchanged files. Same tables, same columns.
import Database from 'better-sqlite3';
import type { JournaledPart, JournaledUpload, UploadIntent, UploadJournal, UploadTarget } from '../../storage/upload-journal.ts';
import { toUpload } from './upload-rows.ts';
import type { PartRow, UploadRow } from './upload-rows.ts';

export class SqliteUploadJournal implements UploadJournal {
  readonly where: string;
  private readonly db: Database.Database;
  private readonly stmts: Record<'insert' | 'created' | 'touch' | 'part' | 'ofKey' | 'under' | 'partsOf' | 'delParts' | 'delRow', Database.Statement>;

  constructor(file: string) {
    this.where = file;
    const db = (this.db = new Database(file));
    db.pragma('journal_mode = WAL');
    // A commit survives the process being killed (it is in the OS's cache); only a power cut could lose the last one.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 60000');
    // AUTOINCREMENT: a row id is never reused, so a worker that still holds the id of a row another
    // removed can never write into someone else's row.
    db.exec(`
      CREATE TABLE IF NOT EXISTS upload_journal (
        id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL,
        upload_id TEXT, source_size INTEGER NOT NULL, source_mtime_ms REAL, part_size INTEGER NOT NULL,
        owner TEXT NOT NULL, started_at INTEGER NOT NULL, created_at INTEGER,
        create_retried INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS upload_journal_key ON upload_journal (endpoint, bucket, key);
      CREATE TABLE IF NOT EXISTS upload_parts (
        upload INTEGER NOT NULL, part_number INTEGER NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
        md5 TEXT NOT NULL, crc32c INTEGER NOT NULL, PRIMARY KEY (upload, part_number)) WITHOUT ROWID;
    `);
    this.stmts = {
      insert: db.prepare(`INSERT INTO upload_journal (endpoint, bucket, key, upload_id, source_size, source_mtime_ms, part_size,
        owner, started_at, created_at, create_retried, updated_at)
        VALUES (@endpoint, @bucket, @key, @uploadId, @sourceSize, @sourceMtimeMs, @partSize, @owner, @startedAt, @createdAt, @retried, @now)`),
      created: db.prepare('UPDATE upload_journal SET upload_id = ?, created_at = ?, create_retried = ?, updated_at = ? WHERE id = ?'),
      touch: db.prepare('UPDATE upload_journal SET updated_at = ? WHERE id = ?'),
      part: db.prepare('INSERT OR REPLACE INTO upload_parts VALUES (?, ?, ?, ?, ?, ?)'),
      ofKey: db.prepare('SELECT * FROM upload_journal WHERE endpoint = ? AND bucket = ? AND key = ? ORDER BY id'),
      // A range, not LIKE: keys may hold % and _, and a range uses the index.
      under: db.prepare('SELECT * FROM upload_journal WHERE endpoint = ? AND bucket = ? AND key >= ? AND key < ? ORDER BY id'),
      partsOf: db.prepare('SELECT * FROM upload_parts WHERE upload = ? ORDER BY part_number'),
      delParts: db.prepare('DELETE FROM upload_parts WHERE upload = ?'),
      delRow: db.prepare('DELETE FROM upload_journal WHERE id = ?'),
    };
  }

  async begin(i: UploadIntent): Promise<number> {
    return this.insert(i, null, null, false);
  }

  async created(id: number, i: UploadIntent, uploadId: string, createdAt: number, retried: boolean): Promise<number> {
    if (this.stmts.created.run(uploadId, createdAt, retried ? 1 : 0, Date.now(), id).changes > 0) return id;
    return this.insert(i, uploadId, createdAt, retried);
  }

  async addPart(id: number, p: JournaledPart): Promise<void> {
    this.db.transaction(() => {
      if (this.stmts.touch.run(Date.now(), id).changes === 0) return;
      this.stmts.part.run(id, p.partNumber, p.size, p.etag, p.md5, p.crc32c);
    })();
  }

  async uploadsOf(t: UploadTarget): Promise<JournaledUpload[]> {
    const rows = this.stmts.ofKey.all(t.endpoint, t.bucket, t.key) as UploadRow[];
    return rows.map((r) => toUpload(r, this.stmts.partsOf.all(r.id) as PartRow[]));
  }

  async uploadsUnder(endpoint: string, bucket: string, prefix: string): Promise<JournaledUpload[]> {
    const rows = this.stmts.under.all(endpoint, bucket, prefix, prefix + '\u{10FFFF}') as UploadRow[];
    return rows.filter((r) => r.key.startsWith(prefix)).map((r) => toUpload(r));
  }

  async remove(ids: number[]): Promise<void> {
    this.db.transaction(() => {
      for (const id of ids) {
        this.stmts.delParts.run(id);
        this.stmts.delRow.run(id);
      }
    })();
  }

  close(): void {
    this.db.close();
  }

  private insert(i: UploadIntent, uploadId: string | null, createdAt: number | null, retried: boolean): number {
    const r = this.stmts.insert.run({ ...i, uploadId, createdAt, retried: retried ? 1 : 0, now: Date.now() });
    return Number(r.lastInsertRowid);
  }
}
