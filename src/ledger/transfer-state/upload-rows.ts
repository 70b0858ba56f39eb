// A row of the upload journal as both engines return it (upload_journal, upload_parts), turned into
// what the storage layer reads. Numbers are converted: PostgreSQL drivers may hand back strings.
import type { Selectable } from 'kysely';
import type { JournaledPart, JournaledUpload } from '../../storage/upload-journal.ts';
import type { UploadJournalTable, UploadPartsTable } from '../schema.ts';

export type UploadRow = Selectable<UploadJournalTable>;
export type PartRow = Selectable<UploadPartsTable>;

export function toUpload(r: UploadRow, parts: PartRow[] = []): JournaledUpload {
  return {
    id: Number(r.id),
    endpoint: r.endpoint,
    bucket: r.bucket,
    key: r.key,
    uploadId: r.upload_id ?? undefined,
    sourceSize: Number(r.source_size),
    sourceMtimeMs: r.source_mtime_ms === null ? null : Number(r.source_mtime_ms),
    partSize: Number(r.part_size),
    owner: r.owner,
    startedAt: Number(r.started_at),
    createdAt: r.created_at === null ? undefined : Number(r.created_at),
    createRetried: Number(r.create_retried) === 1,
    updatedAt: Number(r.updated_at),
    parts: parts.map(toPart),
  };
}

function toPart(p: PartRow): JournaledPart {
  return { partNumber: Number(p.part_number), size: Number(p.size), etag: p.etag, md5: p.md5, crc32c: Number(p.crc32c) };
}
