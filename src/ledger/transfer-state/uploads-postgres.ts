// The upload journal in a PostgreSQL ledger (tables of 0004_transfer_state), shared by the workers
// of every node. The SQLite twin beside a SQLite ledger is uploads-sqlite.ts.
import type { Kysely } from 'kysely';
import type { JournaledPart, JournaledUpload, UploadIntent, UploadJournal, UploadTarget } from '../../storage/upload-journal.ts';
import type { LedgerSchema } from '../schema.ts';
import { toUpload } from './upload-rows.ts';

export class PostgresUploadJournal implements UploadJournal {
  readonly where: string;
  private readonly db: Kysely<LedgerSchema>;

  constructor(db: Kysely<LedgerSchema>, where: string) {
    this.db = db;
    this.where = where;
  }

  async begin(i: UploadIntent): Promise<number> {
    return this.insert(i, null, null, false);
  }

  async created(id: number, i: UploadIntent, uploadId: string, createdAt: number, retried: boolean): Promise<number> {
    const r = await this.db
      .updateTable('upload_journal')
      .set({ upload_id: uploadId, created_at: createdAt, create_retried: retried ? 1 : 0, updated_at: Date.now() })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) return id;
    return this.insert(i, uploadId, createdAt, retried);
  }

  async addPart(id: number, p: JournaledPart): Promise<void> {
    const r = await this.db.updateTable('upload_journal').set({ updated_at: Date.now() }).where('id', '=', id).executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return;
    const row = { upload: id, part_number: p.partNumber, size: p.size, etag: p.etag, md5: p.md5, crc32c: p.crc32c };
    await this.db
      .insertInto('upload_parts')
      .values(row)
      .onConflict((oc) => oc.columns(['upload', 'part_number']).doUpdateSet({ size: p.size, etag: p.etag, md5: p.md5, crc32c: p.crc32c }))
      .execute();
  }

  async uploadsOf(t: UploadTarget): Promise<JournaledUpload[]> {
    const rows = await this.db
      .selectFrom('upload_journal')
      .selectAll()
      .where('endpoint', '=', t.endpoint)
      .where('bucket', '=', t.bucket)
      .where('key', '=', t.key)
      .orderBy('id')
      .execute();
    if (rows.length === 0) return [];
    const parts = await this.db
      .selectFrom('upload_parts')
      .selectAll()
      .where('upload', 'in', rows.map((r) => r.id))
      .orderBy('upload')
      .orderBy('part_number')
      .execute();
    return rows.map((r) => toUpload(r, parts.filter((p) => Number(p.upload) === Number(r.id))));
  }

  async uploadsUnder(endpoint: string, bucket: string, prefix: string): Promise<JournaledUpload[]> {
    let q = this.db.selectFrom('upload_journal').selectAll().where('endpoint', '=', endpoint).where('bucket', '=', bucket);
    // A range, not LIKE: keys may hold % and _, and a range uses the index.
    if (prefix) q = q.where('key', '>=', prefix).where('key', '<', prefix + '\u{10FFFF}');
    const rows = await q.orderBy('id').execute();
    return rows.filter((r) => r.key.startsWith(prefix)).map((r) => toUpload(r));
  }

  async remove(ids: number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      const chunk = ids.slice(i, i + 1000);
      await this.db.deleteFrom('upload_parts').where('upload', 'in', chunk).execute();
      await this.db.deleteFrom('upload_journal').where('id', 'in', chunk).execute();
    }
  }

  private async insert(i: UploadIntent, uploadId: string | null, createdAt: number | null, retried: boolean): Promise<number> {
    const r = await this.db
      .insertInto('upload_journal')
      .values({
        endpoint: i.endpoint,
        bucket: i.bucket,
        key: i.key,
        upload_id: uploadId,
        source_size: i.sourceSize,
        source_mtime_ms: i.sourceMtimeMs,
        part_size: i.partSize,
        owner: i.owner,
        started_at: i.startedAt,
        created_at: createdAt,
        create_retried: retried ? 1 : 0,
        updated_at: Date.now(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(r.id);
  }
}
