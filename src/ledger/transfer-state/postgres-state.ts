// Transfer state in a PostgreSQL ledger (tables of 0004_transfer_state): manifests and the upload
// journal live in the same database as the jobs, so workers on every node of a cluster share them.
import type { Kysely } from 'kysely';
import type { Engine } from '../engine.ts';
import type { LedgerSchema } from '../schema.ts';
import { importLegacyUploads, legacyDirs, legacyManifestPages } from './legacy.ts';
import type { ManifestEntry, ManifestRecords, TransferState } from './state.ts';
import { PostgresUploadJournal } from './uploads-postgres.ts';

/** Rows per statement: 6 parameters each, far below PostgreSQL's 65,535. */
const ROWS = 1000;

export async function openPostgresTransferState(engine: Engine): Promise<TransferState> {
  const uploads = new PostgresUploadJournal(engine.db, `the ledger ${engine.where}`);
  const legacy = legacyDirs();
  await importLegacyUploads(legacy, uploads);
  return {
    where: `the ledger ${engine.where}`,
    uploads,
    async manifest(destination: string): Promise<ManifestRecords> {
      return new PostgresManifestRecords(engine.db, await destinationId(engine, destination, legacy));
    },
    // The ledger owns the connections.
    close: async () => {},
  };
}

/**
 * The destination's id; a destination seen for the first time gets the manifest an older Ferry
 * kept of it, in the same transaction, so a second worker waits for it rather than starting empty.
 */
async function destinationId(engine: Engine, url: string, legacy: string[]): Promise<number> {
  return engine.transaction(async (trx) => {
    const inserted = await trx
      .insertInto('transfer_destinations')
      .values({ url, created_at: Date.now() })
      .onConflict((oc) => oc.column('url').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      const row = await trx.selectFrom('transfer_destinations').select('id').where('url', '=', url).executeTakeFirstOrThrow();
      return Number(row.id);
    }
    const id = Number(inserted.id);
    for (const page of legacyManifestPages(legacy, url)) await putRows(trx, id, page);
    return id;
  });
}

async function putRows(db: Kysely<LedgerSchema>, destinationId: number, entries: ManifestEntry[]): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < entries.length; i += ROWS) {
    const rows = entries.slice(i, i + ROWS).map((e) => ({
      destination_id: destinationId, key: e.key, size: e.size, source_mtime_ms: e.sourceMtimeMs, crc32c: e.crc32c, etag: e.etag ?? null, verified_at: now,
    }));
    await db
      .insertInto('manifest_files')
      .values(rows)
      .onConflict((oc) => oc.columns(['destination_id', 'key']).doUpdateSet((eb) => ({
        size: eb.ref('excluded.size'),
        source_mtime_ms: eb.ref('excluded.source_mtime_ms'),
        crc32c: eb.ref('excluded.crc32c'),
        etag: eb.ref('excluded.etag'),
        verified_at: eb.ref('excluded.verified_at'),
      })))
      .execute();
  }
}

class PostgresManifestRecords implements ManifestRecords {
  private readonly db: Kysely<LedgerSchema>;
  private readonly id: number;

  constructor(db: Kysely<LedgerSchema>, id: number) {
    this.db = db;
    this.id = id;
  }

  private files() {
    return this.db.selectFrom('manifest_files').where('destination_id', '=', this.id);
  }

  private entries() {
    return this.files().select(['key', 'size', 'source_mtime_ms', 'crc32c', 'etag']);
  }

  async count(): Promise<number> {
    const r = await this.files().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async getMany(keys: string[]): Promise<ManifestEntry[]> {
    const out: ManifestEntry[] = [];
    for (let i = 0; i < keys.length; i += ROWS) {
      const rows = await this.entries().where('key', 'in', keys.slice(i, i + ROWS)).execute();
      out.push(...rows.map(toEntry));
    }
    return out;
  }

  async page(afterKey: string, limit: number): Promise<ManifestEntry[]> {
    return (await this.entries().where('key', '>', afterKey).orderBy('key').limit(limit).execute()).map(toEntry);
  }

  async keysAt(positions: number[]): Promise<string[]> {
    const keys: string[] = [];
    for (const p of positions) {
      const r = await this.files().select('key').orderBy('key').offset(p).limit(1).executeTakeFirstOrThrow();
      keys.push(r.key);
    }
    return keys;
  }

  put(entries: ManifestEntry[]): Promise<void> {
    return putRows(this.db, this.id, entries);
  }

  async forget(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += ROWS) {
      await this.db.deleteFrom('manifest_files').where('destination_id', '=', this.id).where('key', 'in', keys.slice(i, i + ROWS)).execute();
    }
  }

  async close(): Promise<void> {}
}

function toEntry(r: { key: string; size: number; source_mtime_ms: number; crc32c: string; etag: string | null }): ManifestEntry {
  return { key: r.key, size: Number(r.size), sourceMtimeMs: Number(r.source_mtime_ms), crc32c: r.crc32c, etag: r.etag ?? undefined };
}
