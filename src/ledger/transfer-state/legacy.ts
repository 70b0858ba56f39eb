// What an older Ferry left in its working folder (FERRY_WORKDIR or ./.ferry), read so that a user
// who upgrades does not send everything again: manifests (one SQLite file per destination, the
// format sqlite-state.ts still writes) are copied into a destination's new manifest when that is
// first created; upload journals (one JSON file per upload) are moved into the shared journal.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { JournaledPart, UploadJournal } from '../../storage/upload-journal.ts';
import { workdirPath } from '../../workdir.ts';
import { manifestFileName } from './manifest-sqlite.ts';
import type { ManifestEntry } from './state.ts';

/** The folder an older Ferry kept its state in, if it is not `dir`. */
export function legacyDirs(dir?: string): string[] {
  const old = workdirPath();
  return dir !== undefined && path.resolve(dir) === old ? [] : [old];
}

/** The manifest an older Ferry kept of `destination` in one of `dirs`, a page at a time; none if there is none. */
export function* legacyManifestPages(dirs: string[], destination: string, pageSize = 10_000): Generator<ManifestEntry[]> {
  for (const dir of dirs) {
    const file = path.join(dir, 'manifests', manifestFileName(destination));
    if (!fs.existsSync(file)) continue;
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
    } catch {
      // Unreadable: the destination is then re-checked file by file (by size and stored mtime), not re-sent.
      continue;
    }
    try {
      const page = db.prepare('SELECT key, size, source_mtime_ms AS sourceMtimeMs, crc32c, etag FROM files WHERE key > ? ORDER BY key LIMIT ?');
      for (let after = ''; ;) {
        const rows = page.all(after, pageSize) as (ManifestEntry & { etag: string | null })[];
        if (rows.length === 0) break;
        yield rows.map((r) => ({ ...r, etag: r.etag ?? undefined }));
        after = rows[rows.length - 1].key;
      }
    } finally {
      db.close();
    }
    return;
  }
}

interface LegacyUploadRecord {
  version: 1;
  endpoint: string;
  bucket: string;
  key: string;
  uploadId: string;
  sourceSize: number;
  sourceMtimeMs: number | null;
  partSize: number;
  startedAt: string;
  parts: JournaledPart[];
}

/**
 * Moves the JSON upload journals an older Ferry wrote in `<dir>/uploads/` into `journal`, so their
 * uploads are resumed (or aborted once their key is complete) like any other. Each file is first
 * renamed, so that of two processes starting at once only one moves it.
 */
export async function importLegacyUploads(dirs: string[], journal: UploadJournal): Promise<number> {
  let moved = 0;
  for (const dir of dirs) {
    const folder = path.join(dir, 'uploads');
    let names: string[];
    try {
      names = fs.readdirSync(folder).filter((n) => n.endsWith('.json'));
    } catch {
      continue;
    }
    for (const name of names) {
      const file = path.join(folder, name);
      const claimed = `${file}.importing-${process.pid}`;
      try {
        fs.renameSync(file, claimed);
      } catch {
        continue;
      }
      let rec: LegacyUploadRecord;
      try {
        rec = JSON.parse(fs.readFileSync(claimed, 'utf8')) as LegacyUploadRecord;
      } catch {
        fs.renameSync(claimed, file);
        continue;
      }
      if (rec.version !== 1 || typeof rec.uploadId !== 'string' || !Array.isArray(rec.parts)) {
        fs.renameSync(claimed, file);
        continue;
      }
      const startedAt = Date.parse(rec.startedAt) || Date.now();
      const intent = {
        endpoint: rec.endpoint, bucket: rec.bucket, key: rec.key, sourceSize: rec.sourceSize, sourceMtimeMs: rec.sourceMtimeMs,
        partSize: rec.partSize, owner: `imported from ${file}`, startedAt,
      };
      const id = await journal.created(await journal.begin(intent), intent, rec.uploadId, startedAt, false);
      for (const p of rec.parts) await journal.addPart(id, p);
      fs.rmSync(claimed);
      moved++;
    }
  }
  return moved;
}
