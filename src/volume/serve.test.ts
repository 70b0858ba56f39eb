// What `ferry volume serve` answers, as Neuroglancer asks: CORS everywhere (preflight too), Range
// for shard files, Content-Encoding: gzip only for raw chunks that are stored gzipped, and nothing
// outside the dataset folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildInfo, serializeInfo } from '../formats/precomputed/info.ts';
import { tempDir } from '../testing/tree.ts';
import { serveFolder } from './serve.ts';

/** A raw HTTP exchange (fetch would undo the gzip and hide the header we check). */
function get(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', fail);
    req.end();
  });
}

test('serve: CORS, Range, gzip Content-Encoding only for gzipped raw chunks, no escape from the folder', async () => {
  const dir = await tempDir('ferry-serve-');
  const server = await serveFolder(dir);
  try {
    await writeFile(join(dir, 'info'), serializeInfo(buildInfo({ type: 'image', dataType: 'uint8', resolution: [4, 4, 40], size: [8, 8, 2], chunkSize: [8, 8, 1], encoding: 'raw' })));
    await mkdir(join(dir, '4_4_40'));
    const raw = Buffer.alloc(64, 0x1f);
    raw[1] = 0x8b; // raw voxels that happen to start like gzip, at the raw length: not gzip
    await writeFile(join(dir, '4_4_40', '0-8_0-8_0-1'), raw);
    await writeFile(join(dir, '4_4_40', '0-8_0-8_1-2'), gzipSync(Buffer.alloc(64, 5)));
    await writeFile(join(dir, '4_4_40', '0.shard'), Buffer.from('0123456789'));

    const info = await get(`${server.url}info`);
    assert.equal(info.status, 200);
    assert.equal(info.headers['access-control-allow-origin'], '*');
    assert.equal(info.headers['access-control-expose-headers'], '*');
    assert.equal(info.headers['cache-control'], 'no-cache');

    const plain = await get(`${server.url}4_4_40/0-8_0-8_0-1`);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.body.equals(raw));
    const gz = await get(`${server.url}4_4_40/0-8_0-8_1-2`);
    assert.equal(gz.headers['content-encoding'], 'gzip');

    const head = await get(`${server.url}4_4_40/0.shard`, 'HEAD');
    assert.equal(head.headers['content-length'], '10');
    assert.equal(head.headers['accept-ranges'], 'bytes');
    const part = await get(`${server.url}4_4_40/0.shard`, 'GET', { range: 'bytes=2-5' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], 'bytes 2-5/10');
    assert.equal(part.body.toString(), '2345');
    assert.equal((await get(`${server.url}4_4_40/0.shard`, 'GET', { range: 'bytes=20-30' })).status, 416);

    const preflight = await get(`${server.url}4_4_40/0.shard`, 'OPTIONS', { origin: 'http://127.0.0.1:1', 'access-control-request-headers': 'range' });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers['access-control-allow-headers'], '*');

    assert.equal((await get(`${server.url}4_4_40/missing`)).status, 404);
    assert.equal((await get(`${server.url}..%2F..%2Fetc%2Fpasswd`)).status, 403);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
