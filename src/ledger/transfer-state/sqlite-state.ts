// Transfer state beside a SQLite ledger file: `manifests/<hash>.sqlite` per destination and
// `uploads.sqlite` (the upload journal) in the ledger's folder. Files of their own, so that their
// frequent small writes never wait on the ledger's write lock, and every worker of the ledger (on
// this machine, or wherever the ledger's folder is mounted) shares them.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importLegacyUploads, legacyDirs, legacyManifestPages } from './legacy.ts';
import { manifestFileName, SqliteManifestRecords } from './manifest-sqlite.ts';
import type { ManifestRecords, TransferState } from './state.ts';
import { SqliteUploadJournal } from './uploads-sqlite.ts';

export const UPLOADS_FILE = 'uploads.sqlite';

/** The state kept in `dir`; undefined: in a temporary folder removed on close (a ledger in memory). */
export async function openSqliteTransferState(dir: string | undefined): Promise<TransferState> {
  const temporary = dir === undefined;
  const root = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-state-'));
  const manifests = path.join(root, 'manifests');
  fs.mkdirSync(manifests, { recursive: true });
  const uploads = new SqliteUploadJournal(path.join(root, UPLOADS_FILE));
  const legacy = temporary ? [] : legacyDirs(root);
  try {
    await importLegacyUploads([...(temporary ? [] : [root]), ...legacy], uploads);
  } catch (e) {
    uploads.close();
    throw e;
  }
  return {
    where: root,
    uploads,
    async manifest(destination: string): Promise<ManifestRecords> {
      const { records, created } = SqliteManifestRecords.open(path.join(manifests, manifestFileName(destination)), destination);
      if (created) for (const page of legacyManifestPages(legacy, destination)) await records.put(page);
      return records;
    },
    async close() {
      uploads.close();
      if (temporary) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
