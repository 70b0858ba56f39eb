// The s3:// driver against the real Ceph RADOS Gateway from scripts/services/s3.sh.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { storeContract } from '../testing/store-contract.ts';
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { FerryError } from '../errors.ts';
import { crc32cOf, crc32cToBase64 } from './checksum.ts';
import { openS3Store } from './s3.ts';
import { adminClient, createBucket, dropBucket, faultProxy, patternBytes, s3TestServer, useServerKeys } from '../testing/s3.ts';

const server = s3TestServer();
useServerKeys(server);
let admin: S3Client;
let bucket: string;

before(async () => {
  admin = adminClient(server);
  bucket = await createBucket(admin, 'ferry-s3');
});

after(async () => {
  await dropBucket(admin, bucket);
  admin.destroy();
});

const open = (prefix = '', extra = {}) => openS3Store(bucket, prefix, { endpoint: server.endpoint, ...extra });

describe('small objects', () => {
  test('a buffer round-trips with its mtime, CRC32C and MD5 ETag', async () => {
    const store = await open('small/');
    const data = Buffer.from('a FIB-SEM tile header\n');
    const result = await store.write('dir/a.txt', data, { mtimeMs: 1_700_000_000_123.5, contentType: 'text/plain' });
    assert.equal(result.size, data.length);
    assert.equal(result.crc32c, crc32cToBase64(crc32cOf(data)));
    assert.equal(result.etag, createHash('md5').update(data).digest('hex'));
    assert.deepEqual(await store.readBytes('dir/a.txt'), data);
    const info = await store.stat('dir/a.txt');
    assert.ok(info);
    assert.equal(info.size, data.length);
    assert.equal(info.sourceMtimeMs, 1_700_000_000_123.5);
    assert.equal(info.crc32c, result.crc32c);
    assert.equal(await store.checksum('dir/a.txt'), result.crc32c);
    assert.equal(store.url, `s3://${bucket}/small/`);
    await store.close();
  });

  test('a listing split into ranges returns every key once, whatever the cuts and the alphabet', async () => {
    const store = await open('ranges/');
    // Over one page (1,000), keys whose UTF-8 order differs from JavaScript's (U+FF5E vs U+1F600).
    const keys = Array.from({ length: 1203 }, (_, i) => `k${String(i).padStart(4, '0')}`).concat(['z\uff5e', 'z\u{1f600}', 'a b&<c>']);
    const pool = new Set<Promise<unknown>>();
    for (const k of keys) {
      const p = store.write(k, Buffer.from(k)).finally(() => pool.delete(p));
      pool.add(p);
      if (pool.size >= 32) await Promise.race(pool);
    }
    await Promise.all(pool);
    const listed = async (splitKeys?: string[]) => {
      const out: string[] = [];
      for await (const o of store.list('', { splitKeys })) out.push(o.key);
      return out;
    };
    const plain = await listed();
    assert.deepEqual([...plain].sort(), [...keys].sort());
    // Cuts at existing keys, between keys, past the last key and at the non-BMP key.
    for (const cuts of [['k0500', 'k1000'], ['k0123x', 'k0999', 'z'], ['z\uff5e'], ['zzzz']]) {
      const got = await listed(cuts);
      assert.equal(got.length, keys.length, `cuts ${cuts.join(',')}`);
      assert.deepEqual(got.sort(), [...keys].sort());
    }
    await store.close();
  });

  test('content headers, ACL and storage class reach the server', async () => {
    const store = await open('headers/', { acl: 'bucket-owner-full-control', storageClass: 'STANDARD' });
    await store.write('h.json.gz', Buffer.from('{}'), { contentType: 'application/json', contentEncoding: 'gzip', cacheControl: 'no-cache' });
    const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: 'headers/h.json.gz' }));
    assert.equal(head.ContentType, 'application/json');
    assert.equal(head.ContentEncoding, 'gzip');
    assert.equal(head.CacheControl, 'no-cache');
    assert.equal((await store.stat('h.json.gz'))?.contentEncoding, 'gzip');
    await assert.rejects(
      (await open('headers/', { storageClass: 'NO_SUCH_CLASS' })).write('bad', Buffer.from('x')),
      { name: 'FerryError', message: /^write s3:\/\/ferry-s3-[^/]+\/headers\/bad was refused by http:\/\/127\.0\.0\.1:\d+ \((InvalidStorageClass|InvalidArgument)/ },
    );
    await store.close();
  });

  test('range reads return exactly the asked bytes, also through openRange and read', async () => {
    const store = await open('ranges/');
    const data = patternBytes(100_000, 7);
    await store.write('r.bin', data);
    assert.deepEqual(await store.readBytes('r.bin', { start: 10, end: 20 }), data.subarray(10, 20));
    assert.deepEqual(await store.readBytes('r.bin', { start: 99_990, end: 100_000 }), data.subarray(99_990));
    const src = await store.openRange('r.bin');
    assert.equal(src.size, data.length);
    assert.deepEqual(await src.readRange({ start: 50_000, end: 50_100 }), data.subarray(50_000, 50_100));
    const chunks: Buffer[] = [];
    for await (const c of await store.read('r.bin', { start: 1000, end: 3000 })) chunks.push(c as Buffer);
    assert.deepEqual(Buffer.concat(chunks), data.subarray(1000, 3000));
    await store.close();
  });

  storeContract((prefix) => open(prefix));

  test('checksum of an object written by another tool is computed from its bytes', async () => {
    const data = patternBytes(300_000, 3);
    await admin.send(new PutObjectCommand({ Bucket: bucket, Key: 'foreign/x.bin', Body: data }));
    const store = await open('foreign/');
    assert.equal((await store.stat('x.bin'))?.crc32c, undefined);
    assert.equal(await store.checksum('x.bin'), crc32cToBase64(crc32cOf(data)));
    await store.close();
  });
});

test('listing 2,600 keys streams every page in key order', async () => {
  const store = await open('many/');
  const keys = Array.from({ length: 2600 }, (_, i) => `k/${String(i).padStart(5, '0')}`);
  const queue = [...keys];
  await Promise.all(Array.from({ length: 32 }, async () => {
    for (let k = queue.shift(); k !== undefined; k = queue.shift()) await store.write(k, Buffer.from(k));
  }));
  const seen: string[] = [];
  for await (const o of store.list()) {
    seen.push(o.key);
    assert.equal(o.size, o.key.length);
  }
  assert.deepEqual(seen, keys);
  const sub: string[] = [];
  for await (const o of store.list('k/001')) sub.push(o.key);
  assert.equal(sub.length, 100);
  assert.equal(sub[0], 'k/00100');
  await store.close();
});

describe('verification', () => {
  test('bytes corrupted on the wire are refused and nothing becomes visible', async () => {
    const proxy = await faultProxy(server.endpoint, {
      requestBody: (req, body) => {
        if (req.method === 'PUT' && body.length > 0) body[body.length >> 1] ^= 0xff;
        return body;
      },
    });
    try {
      const store = await open('corrupt/', { endpoint: proxy.endpoint, retry: { retryForMs: 1000 } });
      // The server checks Content-MD5 (BadDigest); damage on the wire is retried, then reported.
      await assert.rejects(store.write('c.bin', patternBytes(64 * 1024)), { name: 'FerryError', message: /failed at .* after retries: BadDigest/ });
      await store.close();
      const direct = await open('corrupt/');
      assert.equal(await direct.stat('c.bin'), undefined);
      await direct.close();
    } finally {
      await proxy.close();
    }
  });

  test('an ETag that does not match the MD5 sent is an error and the object is removed', async () => {
    const proxy = await faultProxy(server.endpoint, {
      responseHeaders: (req, headers) => (req.method === 'PUT' ? { ...headers, etag: '"00000000000000000000000000000000"' } : headers),
    });
    try {
      const store = await open('etag/', { endpoint: proxy.endpoint });
      await assert.rejects(store.write('e.bin', Buffer.from('payload')), (e: unknown) => {
        assert.ok(e instanceof FerryError);
        assert.equal(e.code, 'ChecksumMismatch');
        assert.match(e.message, /ETag 0{32}/);
        return true;
      });
      assert.equal(await store.stat('e.bin'), undefined);
      await store.close();
    } finally {
      await proxy.close();
    }
  });
});

describe('user mistakes get one clear message', () => {
  test('missing bucket', async () => {
    const store = await openS3Store('no-such-bucket-ferry', 'x/', { endpoint: server.endpoint });
    await assert.rejects(store.stat('a'), { name: 'FerryError', code: 'NoSuchBucket', message: `bucket no-such-bucket-ferry does not exist at ${server.endpoint}` });
    await assert.rejects(store.write('a', Buffer.from('x')), { code: 'NoSuchBucket' });
    await assert.rejects(async () => { for await (const _ of store.list()) break; }, { code: 'NoSuchBucket' });
    await store.close();
  });

  test('wrong secret names the key and where it came from', async () => {
    const saved = process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      const store = await open('creds/');
      await assert.rejects(store.write('a', Buffer.from('x')), (e: unknown) => {
        assert.ok(e instanceof FerryError);
        assert.equal(e.code, 'SignatureDoesNotMatch');
        assert.match(e.message, new RegExp(`rejected the credentials .*AWS_ACCESS_KEY_ID from the environment \\(access key ${server.accessKey}\\)`));
        assert.match(e.hint ?? '', /access key and secret/);
        return true;
      });
      await store.close();
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = saved;
    }
  });

  test('unknown access key', async () => {
    const store = await open('creds/', { credentialCommand: `echo '{"AccessKeyId":"NOSUCHKEY","SecretAccessKey":"x"}'` });
    await assert.rejects(store.stat('a'), (e: unknown) => {
      assert.ok(e instanceof FerryError);
      assert.match(e.message, /rejected the credentials|access denied/);
      assert.match(e.message, /NOSUCHKEY/);
      return true;
    });
    await store.close();
  });

  test('access denied names the action, the object and the credentials', async () => {
    const proxy = await faultProxy(server.endpoint, { fake: () => ({ status: 403, code: 'AccessDenied' }) });
    try {
      const store = await open('denied/', { endpoint: proxy.endpoint });
      await assert.rejects(store.write('a.bin', Buffer.from('x')), {
        name: 'FerryError',
        code: 'AccessDenied',
        message: new RegExp(`^access denied: write s3://${bucket}/denied/a\\.bin at ${proxy.endpoint} with AWS_ACCESS_KEY_ID from the environment`),
      });
      await store.close();
    } finally {
      await proxy.close();
    }
  });

  test('unreachable endpoint fails fast with the endpoint named', async () => {
    const store = await openS3Store(bucket, '', { endpoint: 'http://127.0.0.1:9', retry: { firstContactRetryForMs: 300 } });
    await assert.rejects(store.stat('a'), { code: 'EndpointUnreachable', message: /cannot reach the S3 endpoint http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED/ });
    await store.close();
  });

  test('an endpoint that is not a URL', async () => {
    await assert.rejects(openS3Store(bucket, '', { endpoint: 'localhost:7480' }), { code: 'BadEndpoint', message: /must start with http/ });
    await assert.rejects(openS3Store(bucket, '', { endpoint: 'http://' }), { code: 'BadEndpoint', message: /is not a URL/ });
  });
});
