// Transfer state on both engines: beside a SQLite ledger and in a PostgreSQL ledger, each opened
// twice (two workers of one ledger), and what an older Ferry left in its working folder.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openLedger } from '../open.ts';
import type { Ledger } from '../ledger.ts';
import { freshLedger, tempDir } from '../../testing/ledger.ts';
import type { TestLedger } from '../../testing/ledger.ts';
import type { ManifestEntry } from './state.ts';

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const entry = (key: string, i = 0): ManifestEntry => ({ key, size: 100 + i, sourceMtimeMs: 1_700_000_000_000 + i, crc32c: `crc${i}`, etag: i % 2 ? `etag${i}` : undefined });

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`transfer state in a ${engine} ledger`, () => {
    let where: TestLedger;
    let one: Ledger;
    let two: Ledger;

    before(async () => {
      where = await freshLedger(engine);
      one = await openLedger(where.url);
      two = await openLedger(where.url);
    });
    after(async () => {
      await one.close();
      await two.close();
      await where.dispose();
    });

    test('a manifest is read back in byte order, split, forgotten, and seen by a second worker', async () => {
      const keys = ['k3', 'a b&<c>', 'z\uff5e', 'z\u{1f600}', 'k1', 'k2', '%_'];
      const mine = await (await one.transferState()).manifest('s3://bucket/dest/');
      await mine.put(keys.map((k, i) => entry(k, i)));
      await mine.put([{ ...entry('k1', 9) }]);
      const theirs = await (await two.transferState()).manifest('s3://bucket/dest/');
      assert.equal(await theirs.count(), keys.length);
      const sorted = [...keys].sort(byBytes);
      const paged: string[] = [];
      for (let after = '', page; (page = await theirs.page(after, 3)).length; after = page[page.length - 1].key) paged.push(...page.map((e) => e.key));
      assert.deepEqual(paged, sorted, 'keys in UTF-8 byte order, as S3 lists them');
      assert.deepEqual(await theirs.keysAt([0, 3, 6]), [sorted[0], sorted[3], sorted[6]]);
      const got = await theirs.getMany(['k1', 'nope', 'k2']);
      assert.deepEqual(got.sort((a, b) => byBytes(a.key, b.key)), [entry('k1', 9), entry('k2', keys.indexOf('k2'))]);
      await theirs.forget(['k1', 'k2']);
      assert.equal(await mine.count(), keys.length - 2);
      const other = await (await one.transferState()).manifest('s3://bucket/other/');
      assert.equal(await other.count(), 0, 'each destination has its own manifest');
      for (const m of [mine, theirs, other]) await m.close();
    });

    test('an upload journal row: intent, upload id and parts, shared; written again if another removed it', async () => {
      const j1 = (await one.transferState()).uploads;
      const j2 = (await two.transferState()).uploads;
      const intent = { endpoint: 'http://s3.example', bucket: 'b', key: 'plates/P1/big.bin', sourceSize: 30, sourceMtimeMs: 12.5, partSize: 10, owner: 'node1/42', startedAt: 1000 };
      const target = { endpoint: intent.endpoint, bucket: 'b', key: intent.key };
      const id = await j1.begin(intent);
      let [row] = await j2.uploadsOf(target);
      assert.equal(row.id, id);
      assert.equal(row.uploadId, undefined, 'an intent has no upload id yet');
      assert.equal(row.startedAt, 1000);
      assert.equal(await j1.created(id, intent, 'U1', 1500, true), id);
      for (const n of [2, 1]) await j1.addPart(id, { partNumber: n, size: 10, etag: `e${n}`, md5: `m${n}`, crc32c: 4_000_000_000 + n });
      [row] = await j2.uploadsOf(target);
      assert.equal(row.uploadId, 'U1');
      assert.equal(row.createdAt, 1500);
      assert.equal(row.createRetried, true);
      assert.deepEqual(row.parts.map((p) => [p.partNumber, p.etag, p.crc32c]), [[1, 'e1', 4_000_000_001], [2, 'e2', 4_000_000_002]]);
      assert.deepEqual((await j2.uploadsUnder(intent.endpoint, 'b', 'plates/')).map((r) => r.id), [id]);
      assert.deepEqual(await j2.uploadsUnder(intent.endpoint, 'b', 'plates/P2/'), []);
      assert.deepEqual(await j2.uploadsUnder(intent.endpoint, 'other', ''), []);

      // A worker that completed the key removed every row of it while this one was still asking.
      await j2.remove([id]);
      await j1.addPart(id, { partNumber: 3, size: 10, etag: 'e3', md5: 'm3', crc32c: 3 });
      assert.deepEqual(await j1.uploadsOf(target), [], 'a part of a removed row is not written');
      const again = await j1.created(id, intent, 'U2', 2000, false);
      assert.notEqual(again, id, 'ids are never reused');
      [row] = await j2.uploadsOf(target);
      assert.equal(row.uploadId, 'U2', 'an upload id is never lost');
      await j1.remove([again]);
    });
  });
}

describe('what an older Ferry left in its working folder', () => {
  const saved = process.env.FERRY_WORKDIR;
  after(() => {
    if (saved === undefined) delete process.env.FERRY_WORKDIR;
    else process.env.FERRY_WORKDIR = saved;
  });

  /** A manifest and an upload journal exactly as Ferry wrote them before they moved to the ledger. */
  async function oldWorkdir(destination: string): Promise<string> {
    const dir = await tempDir('ferry-old-');
    fs.mkdirSync(path.join(dir, 'manifests'));
    const db = new Database(path.join(dir, 'manifests', createHash('sha256').update(destination).digest('hex').slice(0, 20) + '.sqlite'));
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE files (key TEXT PRIMARY KEY, size INTEGER NOT NULL, source_mtime_ms REAL NOT NULL,
        crc32c TEXT NOT NULL, etag TEXT, verified_at TEXT NOT NULL) WITHOUT ROWID;`);
    const put = db.prepare('INSERT INTO files VALUES (?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 25_000; i++) put.run(`f${i}`, i, 1_600_000_000_000 + i, `c${i}`, i % 2 ? null : `e${i}`, '2024-05-01T10:00:00.000Z');
    db.close();
    fs.mkdirSync(path.join(dir, 'uploads'));
    const journal = {
      version: 1, endpoint: 'http://127.0.0.1:7480', bucket: 'b', key: 'x/big.bin', uploadId: 'OLD-1', sourceSize: 20, sourceMtimeMs: 5,
      partSize: 10, startedAt: '2024-05-01T10:00:00.000Z', parts: [{ partNumber: 1, size: 10, etag: 'e1', md5: 'm1', crc32c: 7 }],
    };
    fs.writeFileSync(path.join(dir, 'uploads', '0123456789abcdef0123456789abcdef.json'), JSON.stringify(journal));
    return dir;
  }

  for (const engine of ['sqlite', 'postgres'] as const) {
    test(`its manifests and upload journals are taken into a ${engine} ledger's state, once`, async () => {
      const destination = 's3://b/x/';
      process.env.FERRY_WORKDIR = await oldWorkdir(destination);
      const where = await freshLedger(engine);
      const ledger = await openLedger(where.url);
      try {
        const state = await ledger.transferState();
        const records = await state.manifest(destination);
        assert.equal(await records.count(), 25_000);
        assert.deepEqual((await records.getMany(['f7', 'f8'])).sort((a, b) => byBytes(a.key, b.key)), [
          { key: 'f7', size: 7, sourceMtimeMs: 1_600_000_000_007, crc32c: 'c7', etag: undefined },
          { key: 'f8', size: 8, sourceMtimeMs: 1_600_000_000_008, crc32c: 'c8', etag: 'e8' },
        ]);
        await records.forget(['f7']);
        await records.close();
        const [row] = await state.uploads.uploadsOf({ endpoint: 'http://127.0.0.1:7480', bucket: 'b', key: 'x/big.bin' });
        assert.equal(row.uploadId, 'OLD-1');
        assert.deepEqual(row.parts, [{ partNumber: 1, size: 10, etag: 'e1', md5: 'm1', crc32c: 7 }]);
        assert.deepEqual(fs.readdirSync(path.join(process.env.FERRY_WORKDIR, 'uploads')), [], 'the old journal moved, not copied');
        const again = await state.manifest(destination);
        assert.equal(await again.count(), 24_999, 'taken once: what was forgotten since stays forgotten');
        await again.close();
      } finally {
        await ledger.close();
        await where.dispose();
      }
    });
  }
});
