// The gs:// driver: Google's real SDK against the in-process JSON API stand-in of
// src/testing/gcs-server.ts (no GCS-compatible server installs from Debian or npm).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { storeContract } from '../testing/store-contract.ts';
import os from 'node:os';
import path from 'node:path';
import { FerryError } from '../errors.ts';
import { crc32cOf, crc32cToBase64 } from './checksum.ts';
import { gcsPredefinedAcl, openGcsStore } from './gcs.ts';
import { fakeGcs, type FakeGcs } from '../testing/gcs-server.ts';
import { bufferSource, patternBytes } from '../testing/s3.ts';

const MIB = 1024 * 1024;
let gcs: FakeGcs;

before(async () => {
  gcs = await fakeGcs(['ferry-gcs']);
});

after(async () => {
  await gcs.close();
});

const open = (prefix = 'p/', extra = {}) => openGcsStore('ferry-gcs', prefix, { apiEndpoint: gcs.endpoint, ...extra });

describe('objects', () => {
  test('a buffer round-trips with mtime, CRC32C and MD5, and ranges read exactly', async () => {
    const store = await open();
    const data = patternBytes(70_000, 2);
    const result = await store.write('dir/tile.png', data, { mtimeMs: 1_700_000_000_250, contentType: 'image/png' });
    assert.equal(result.crc32c, crc32cToBase64(crc32cOf(data)));
    assert.equal(result.partsSent, 0);
    const info = await store.stat('dir/tile.png');
    assert.equal(info?.size, data.length);
    assert.equal(info?.sourceMtimeMs, 1_700_000_000_250);
    assert.equal(info?.crc32c, result.crc32c);
    assert.deepEqual(await store.readBytes('dir/tile.png'), data);
    assert.deepEqual(await store.readBytes('dir/tile.png', { start: 5, end: 105 }), data.subarray(5, 105));
    const src = await store.openRange('dir/tile.png');
    assert.deepEqual(await src.readRange({ start: 69_000, end: 70_000 }), data.subarray(69_000));
    const chunks: Buffer[] = [];
    for await (const c of await store.read('dir/tile.png')) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), data);
    await store.close();
  });

  test('checksum comes from the server without reading the object', async () => {
    const store = await open();
    const data = Buffer.from('checksummed');
    await store.write('c.txt', data);
    const before = gcs.requests.length;
    assert.equal(await store.checksum('c.txt'), crc32cToBase64(crc32cOf(data)));
    assert.ok(gcs.requests.slice(before).every((r) => !r.includes('alt=media')));
    await store.close();
  });

  storeContract((prefix) => open(prefix));

  test('a large body goes as a resumable upload in chunks', async () => {
    const store = await open('big/', { partSize: 8 * MIB, multipartThreshold: 8 * MIB });
    const data = patternBytes(20 * MIB + 3, 9);
    let reported = 0;
    const before = gcs.requests.length;
    const result = await store.write('vol.raw', bufferSource(data), { mtimeMs: 1, onBytes: (n) => { reported += n; } });
    assert.equal(result.partsSent, 3);
    assert.equal(reported, data.length);
    assert.equal(result.crc32c, crc32cToBase64(crc32cOf(data)));
    const sent = gcs.requests.slice(before);
    assert.equal(sent.filter((r) => r.startsWith('PUT') && r.includes('uploadType=resumable')).length, 3);
    assert.deepEqual(await store.readBytes('vol.raw'), data);
    await store.close();
  });

  test('a failing chunk is retried and the upload completes', async () => {
    const store = await open('retry/', { partSize: 5 * MIB, multipartThreshold: 5 * MIB });
    let failures = 0;
    gcs.faults.fail = (req) => (req.method === 'PUT' && failures++ === 0 ? 503 : undefined);
    try {
      const data = patternBytes(11 * MIB, 4);
      await store.write('r.raw', bufferSource(data));
      assert.ok(failures > 1);
      assert.deepEqual(await store.readBytes('r.raw'), data);
    } finally {
      gcs.faults.fail = undefined;
    }
    await store.close();
  });

  test('bytes the server stored differently are an error and the object is removed', async () => {
    const store = await open('corrupt/');
    gcs.faults.store = (d) => { const c = Buffer.from(d); c[0] ^= 1; return c; };
    try {
      await assert.rejects(store.write('bad.bin', patternBytes(1000)), { name: 'FerryError', code: 'ChecksumMismatch' });
    } finally {
      gcs.faults.store = undefined;
    }
    assert.equal(await store.stat('bad.bin'), undefined);
    await store.close();
  });

  test('listing 2,500 keys pages through in key order', async () => {
    const store = await open('many/');
    const keys = Array.from({ length: 2500 }, (_, i) => `k${String(i).padStart(5, '0')}`);
    const bucket = gcs.buckets.get('ferry-gcs')!;
    for (const k of keys) bucket.set(`many/${k}`, { data: Buffer.from(k), meta: {}, updated: new Date().toISOString(), generation: 1 });
    const seen: string[] = [];
    for await (const o of store.list()) seen.push(o.key);
    assert.deepEqual(seen, keys);
    assert.ok(gcs.requests.filter((r) => r.includes('prefix=many')).length >= 3);
    await store.close();
  });
});

describe('user mistakes', () => {
  test('missing bucket', async () => {
    const store = await openGcsStore('no-such-bucket', '', { apiEndpoint: gcs.endpoint });
    const message = `bucket no-such-bucket does not exist at ${gcs.endpoint}`;
    await assert.rejects(store.stat('a'), { code: 'NoSuchBucket', message });
    await assert.rejects(store.write('a', Buffer.from('x')), { code: 'NoSuchBucket', message });
    await assert.rejects(async () => { for await (const _ of store.list()) break; }, { code: 'NoSuchBucket' });
  });

  test('access denied and rejected credentials', async () => {
    const store = await open('auth/', { maxRetries: 1 });
    gcs.faults.fail = (req) => (req.method === 'GET' ? 403 : 401);
    try {
      await assert.rejects(store.stat('a'), { code: 'AccessDenied', message: /access denied to gs:\/\/ferry-gcs\/auth\/a with application default credentials/ });
      await assert.rejects(store.write('a', Buffer.from('x')), { code: 'Unauthenticated' });
    } finally {
      gcs.faults.fail = undefined;
    }
  });

  test('a key file that does not exist', async () => {
    const store = await openGcsStore('ferry-gcs', '', { keyFile: path.join(os.tmpdir(), 'no-such-key-ferry.json'), maxRetries: 1 });
    await assert.rejects(store.stat('a'), (e: unknown) => {
      assert.ok(e instanceof FerryError);
      assert.equal(e.code, 'NoCredentials');
      assert.match(e.message, /key file .*no-such-key-ferry\.json/);
      return true;
    });
  });

  test('unreachable endpoint', async () => {
    const store = await openGcsStore('ferry-gcs', '', { apiEndpoint: 'http://127.0.0.1:9', maxRetries: 1 });
    await assert.rejects(store.stat('a'), { code: 'EndpointUnreachable', message: /cannot reach Google Cloud Storage at http:\/\/127\.0\.0\.1:9/ });
  });

  test('S3-style ACL names map to GCS predefined ACLs', () => {
    assert.equal(gcsPredefinedAcl('bucket-owner-full-control'), 'bucketOwnerFullControl');
    assert.equal(gcsPredefinedAcl('private'), 'private');
    assert.throws(() => gcsPredefinedAcl('log-delivery-write'), { code: 'BadAcl' });
  });
});
